"""Client authentication at the token endpoint: `private_key_jwt` (RFC 7523) against the
client's registered JWKS, or `client_secret_basic` for a client registered with a secret.

A client uses the one method it registered. An assertion must be signed with an allow-listed
asymmetric algorithm by a key of the client, name the client as `iss` and `sub`, be addressed to
the issuer (or the token endpoint), live five minutes at most and never be presented twice.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hmac
import json
import logging
import ssl
import threading
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import unquote

import httpx2
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import Key, KeySet
from joserfc.jws import extract_compact

from portal.sandbox.idp.config import (
    CLIENT_SECRET_BASIC,
    PRIVATE_KEY_JWT,
    ClientRegistration,
    IdpConfig,
)
from portal.sandbox.idp.state import Memory

logger = logging.getLogger("portal.sandbox.idp")

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_ALGORITHMS = ("ES256", "PS256", "RS256")
LEEWAY = 30  # seconds of clock difference forgiven
JWKS_MAX_AGE = dt.timedelta(minutes=5)
USER_AGENT = "Mlango-NIDA-Sandbox/1.0"


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One verifying TLS context for every outgoing call (building one costs tens of ms)."""
    return ssl.create_default_context()


def http_client(timeout: float) -> httpx2.Client:
    """A client for one outgoing call: bounded, proxies from the environment ignored."""
    return httpx2.Client(
        timeout=timeout, trust_env=False, verify=tls_context(), headers={"User-Agent": USER_AGENT}
    )


class ClientAuthError(Exception):
    """`invalid_client`: the client could not be authenticated (401)."""

    def __init__(self, description: str, *, basic: bool = False) -> None:
        super().__init__(description)
        self.description = description
        self.basic = basic


class ClientKeys:
    """One client's public keys: the registered JWKS, or its `jwks_uri` fetched over HTTP,
    kept for five minutes and fetched again when an assertion names a `kid` not in it."""

    def __init__(
        self, client: ClientRegistration, *, timeout: float, clock: Callable[[], dt.datetime]
    ) -> None:
        self.client = client
        self.timeout = timeout
        self.clock = clock
        self._lock = threading.Lock()
        self._keys: KeySet | None = None
        self._fetched_at: dt.datetime | None = None
        if client.jwks is not None:
            self._keys = _key_set(client.jwks)

    def _fetch(self) -> KeySet:
        assert self.client.jwks_uri is not None
        try:
            with http_client(self.timeout) as http:
                response = http.get(self.client.jwks_uri, headers={"Accept": "application/json"})
            response.raise_for_status()
            keys = _key_set(response.json())
        except (httpx2.HTTPError, ValueError, JoseError) as error:
            logger.warning("jwks_uri of client %s unusable: %s", self.client.client_id, error)
            raise ClientAuthError("the client's jwks_uri could not be read") from error
        self._fetched_at = self.clock()
        return keys

    def key(self, kid: str | None, alg: str) -> Key:
        """The key that should have signed with `alg`; ClientAuthError when there is none."""
        with self._lock:
            if self.client.jwks_uri is not None and (
                self._keys is None
                or self._fetched_at is None
                or self.clock() - self._fetched_at > JWKS_MAX_AGE
            ):
                self._keys = self._fetch()
            assert self._keys is not None
            key = _pick(self._keys, kid, alg)
            if key is None and self.client.jwks_uri is not None:
                self._keys = self._fetch()  # perhaps the client rotated its keys
                key = _pick(self._keys, kid, alg)
        if key is None:
            raise ClientAuthError("no key of the client matches the assertion's kid and alg")
        return key


def _unverified(assertion: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims of an assertion, read before its signature is checked, only to find
    the client and its key."""
    try:
        compact = extract_compact(assertion.encode("ascii"))
        payload = json.loads(compact.payload)
    except (JoseError, ValueError) as error:
        raise ClientAuthError("client_assertion is not a signed JWT") from error
    if not isinstance(payload, dict):
        raise ClientAuthError("client_assertion is not a signed JWT")
    return dict(compact.headers()), payload


def _key_set(data: Any) -> KeySet:
    if not isinstance(data, Mapping) or not isinstance(data.get("keys"), list):
        raise ValueError("not a JWKS")
    public = [k for k in data["keys"] if isinstance(k, Mapping) and "d" not in k]
    return KeySet.import_key_set({"keys": [dict(k) for k in public]})


def _pick(keys: KeySet, kid: str | None, alg: str) -> Key | None:
    family = "EC" if alg.startswith("ES") else "RSA"
    candidates = [
        key
        for key in keys
        if key.key_type == family
        and key.get("use", "sig") == "sig"
        and key.get("alg", alg) == alg
        and (kid is None or key.kid == kid)
    ]
    if kid is None and len(candidates) != 1:
        return None  # without a kid, only an unambiguous key will do
    return candidates[0] if candidates else None


class ClientAuthenticator:
    def __init__(self, config: IdpConfig, memory: Memory) -> None:
        self.config = config
        self.memory = memory
        self.keys = {
            client.client_id: ClientKeys(client, timeout=config.http_timeout, clock=config.clock)
            for client in config.clients
            if client.token_endpoint_auth_method == PRIVATE_KEY_JWT
        }

    def authenticate(
        self, *, form: Mapping[str, str], authorization: str | None, token_endpoint: str
    ) -> ClientRegistration:
        """The client making this token request; ClientAuthError otherwise."""
        basic = authorization is not None and authorization[:6].lower() == "basic "
        has_assertion = "client_assertion" in form or "client_assertion_type" in form
        if "client_secret" in form:
            raise ClientAuthError("client_secret_post is not supported")
        if basic and has_assertion:
            raise ClientAuthError("use one client authentication method, not two")
        if basic:
            assert authorization is not None
            return self._basic(authorization[6:].strip(), form.get("client_id"))
        if has_assertion:
            return self._assertion(form, token_endpoint)
        raise ClientAuthError("client authentication is required")

    def _basic(self, credentials: str, form_client_id: str | None) -> ClientRegistration:
        try:
            decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
            raw_id, raw_secret = decoded.split(":", 1)
        except ValueError as error:
            raise ClientAuthError("malformed Basic credentials", basic=True) from error
        # RFC 6749 2.3.1: both parts are form-encoded before they are joined.
        client_id, secret = unquote(raw_id.replace("+", " ")), unquote(raw_secret.replace("+", " "))
        client = self.config.client(client_id)
        if client is None or client.token_endpoint_auth_method != CLIENT_SECRET_BASIC:
            raise ClientAuthError("unknown client or wrong authentication method", basic=True)
        if form_client_id is not None and form_client_id != client_id:
            raise ClientAuthError("client_id does not match the credentials", basic=True)
        assert client.client_secret is not None
        if not hmac.compare_digest(secret.encode(), client.client_secret.encode()):
            raise ClientAuthError("wrong client secret", basic=True)
        return client

    def _assertion(self, form: Mapping[str, str], token_endpoint: str) -> ClientRegistration:
        if form.get("client_assertion_type") != ASSERTION_TYPE:
            raise ClientAuthError("client_assertion_type must be the JWT bearer type")
        header, unverified = _unverified(form.get("client_assertion", ""))
        alg = header.get("alg")
        if alg not in ASSERTION_ALGORITHMS:
            raise ClientAuthError(
                f"client assertions must be signed with one of {', '.join(ASSERTION_ALGORITHMS)}"
            )
        claimed = unverified.get("sub")
        client_id = form.get("client_id") or claimed
        if not isinstance(claimed, str) or client_id != claimed:
            raise ClientAuthError("the assertion's sub does not name the client")
        client = self.config.client(client_id)
        if client is None or client.token_endpoint_auth_method != PRIVATE_KEY_JWT:
            raise ClientAuthError("unknown client or wrong authentication method")
        kid = header.get("kid")
        key = self.keys[client.client_id].key(kid if isinstance(kid, str) else None, alg)
        try:
            claims = jwt.decode(form["client_assertion"], key, algorithms=[alg]).claims
        except JoseError as error:
            raise ClientAuthError("the assertion's signature does not verify") from error
        self._claims_check(claims, client.client_id, token_endpoint)
        return client

    def _claims_check(self, claims: Mapping[str, Any], client_id: str, endpoint: str) -> None:
        now = int(self.config.clock().timestamp())
        if claims.get("iss") != client_id or claims.get("sub") != client_id:
            raise ClientAuthError("iss and sub must both be the client_id")
        audiences = claims.get("aud")
        audiences = [audiences] if isinstance(audiences, str) else audiences
        accepted = {self.config.issuer}
        if self.config.accept_token_endpoint_audience:
            accepted.add(endpoint)
        if not isinstance(audiences, list) or not accepted.intersection(audiences):
            raise ClientAuthError("aud must be the issuer")
        exp, iat = claims.get("exp"), claims.get("iat")
        if not isinstance(exp, int) or not isinstance(iat, int):
            raise ClientAuthError("exp and iat are required whole numbers")
        if exp <= now - LEEWAY:
            raise ClientAuthError("the assertion has expired")
        if iat > now + LEEWAY:
            raise ClientAuthError("the assertion was issued in the future")
        if exp - iat > self.config.assertion_max_lifetime or exp <= iat:
            raise ClientAuthError(
                f"the assertion may live {self.config.assertion_max_lifetime} seconds at most"
            )
        nbf = claims.get("nbf")
        if nbf is not None and (not isinstance(nbf, int) or nbf > now + LEEWAY):
            raise ClientAuthError("the assertion is not valid yet")
        jti = claims.get("jti")
        if not isinstance(jti, str) or not jti:
            raise ClientAuthError("jti is required")
        with self.memory.locked():
            if (client_id, jti) in self.memory.assertion_ids:
                raise ClientAuthError("this assertion was already used (jti replay)")
            expires = dt.datetime.fromtimestamp(exp + LEEWAY, tz=dt.UTC)
            self.memory.assertion_ids[(client_id, jti)] = expires
