"""A tiny OpenID provider in the test process, served through `httpx2.MockTransport`.

It speaks the standard protocol only: discovery, JWKS, a token endpoint that checks PKCE and the
client's `private_key_jwt` assertion (or its basic credentials), and userinfo as JSON or a signed
JWT. Tests bend it through plain attributes: claim and header overrides for the next ID token, a
transform of the token text, extra keys, rotation, a provider that is down.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, unquote_plus, urlsplit

import httpx2
from joserfc import jwt
from joserfc.jwk import ECKey, Key, KeySet

from portal.identity.oidc import RelyingParty, SignedIn

ISSUER = "https://idp.example.test"
CLIENT_ID = "mlango-portal"
REDIRECT_URI = "https://mlango.example.test/ingia/mwisho"
POST_LOGOUT_URI = "https://mlango.example.test/toka/mwisho"
SUB = "psut-7f3a9c"
NIN = "19850214-14117-00002-21"
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
DROP = object()  # an override value that removes the claim
BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"
ACR_SUBSTANTIAL = "urn:tz:nida:loa:substantial"
CLAIMS = {"userinfo": {"nin": {"essential": True}, "name": {"essential": True}}}


class Clock:
    """The time for the relying party and the provider alike; tests move it."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    def timestamp(self) -> int:
        return int(self.now.timestamp())


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_json(value: dict[str, Any]) -> str:
    return b64url(json.dumps(value).encode())


def half_hash(value: str) -> str:
    """at_hash for a SHA-256 algorithm, computed here independently of the library."""
    return b64url(hashlib.sha256(value.encode("ascii")).digest()[:16])


def unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    header, payload, _ = token.split(".")
    pad = lambda s: s + "=" * (-len(s) % 4)  # noqa: E731
    return (
        json.loads(base64.urlsafe_b64decode(pad(header))),
        json.loads(base64.urlsafe_b64decode(pad(payload))),
    )


@dataclass
class Grant:
    nonce: str | None
    challenge: str
    method: str
    redirect_uri: str
    acr: str


class FakeProvider:
    """One provider; `transport` is what the relying party's httpx2 client goes through."""

    def __init__(self, clock: Clock, *, client_keys: KeySet | None = None) -> None:
        self.clock = clock
        self.client_keys = client_keys
        self.client_secret: str | None = None
        self.key = ECKey.generate_key("P-256", parameters={"kid": "op-2026-1"})
        self.published: list[Key] = [self.key]
        self.discovery: dict[str, Any] = {
            "issuer": ISSUER,
            "authorization_endpoint": f"{ISSUER}/authorize",
            "token_endpoint": f"{ISSUER}/token",
            "jwks_uri": f"{ISSUER}/jwks",
            "userinfo_endpoint": f"{ISSUER}/userinfo",
            "end_session_endpoint": f"{ISSUER}/session/end",
            "response_types_supported": ["code"],
            "code_challenge_methods_supported": ["S256"],
            "id_token_signing_alg_values_supported": ["ES256", "PS256"],
            "token_endpoint_auth_methods_supported": ["private_key_jwt", "client_secret_basic"],
            "authorization_response_iss_parameter_supported": True,
            "backchannel_logout_supported": True,
        }
        self.cache_control: dict[str, str] = {"/.well-known/openid-configuration": "max-age=300"}
        self.requests: list[httpx2.Request] = []
        self.token_forms: list[dict[str, str]] = []
        self.grants: dict[str, Grant] = {}
        self.access_tokens: set[str] = set()
        self.seen_jti: set[str] = set()
        # What the next ID token looks like, and what userinfo answers.
        self.id_token_claims: dict[str, Any] = {}
        self.id_token_header: dict[str, Any] = {}
        self.id_token_transform: Callable[[str], str] | None = None
        self.userinfo_claims: dict[str, Any] = {}
        self.userinfo_format = "json"
        self.userinfo_transform: Callable[[str], str] | None = None
        self.failure: Callable[[httpx2.Request], httpx2.Response | None] | None = None
        self.transport = httpx2.MockTransport(self._handle)

    # -- what a browser and the provider's login pages would do

    def authorize(self, url: str, *, iss: str | None = ISSUER) -> dict[str, str]:
        """Log the person in for the request at `url`; the callback parameters that follow."""
        query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        assert url.startswith(self.discovery["authorization_endpoint"] + "?")
        assert query["client_id"] == CLIENT_ID
        code = secrets.token_urlsafe(24)
        self.grants[code] = Grant(
            nonce=query.get("nonce"),
            challenge=query["code_challenge"],
            method=query["code_challenge_method"],
            redirect_uri=query["redirect_uri"],
            acr=query["acr_values"].split()[0],
        )
        params = {"code": code, "state": query["state"]}
        if iss is not None:
            params["iss"] = iss
        return params

    def sign(
        self,
        claims: dict[str, Any],
        *,
        header: dict[str, Any] | None = None,
        key: Key | None = None,
    ) -> str:
        key = key or self.key
        full_header = {"alg": "ES256", "kid": key.kid, "typ": "JWT", **(header or {})}
        full_header = {k: v for k, v in full_header.items() if v is not DROP}
        return jwt.encode(
            full_header, claims, key, algorithms=[full_header["alg"]], default_type=None
        )

    def rotate(self) -> Key:
        """A new signing key, published next to the old one; the new one signs from now on."""
        self.key = ECKey.generate_key("P-256", parameters={"kid": f"op-{len(self.published) + 1}"})
        self.published.append(self.key)
        return self.key

    def count(self, path: str) -> int:
        return sum(1 for r in self.requests if r.url.path == path)

    def id_token_for(self, grant: Grant, access_token: str) -> str:
        now = self.clock.timestamp()
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "sub": SUB,
            "aud": CLIENT_ID,
            "exp": now + 300,
            "iat": now,
            "auth_time": now - 5,
            "nonce": grant.nonce,
            "acr": grant.acr,
            "amr": ["pin"],
            "sid": "op-session-1",
            "at_hash": half_hash(access_token),
        }
        claims.update(self.id_token_claims)
        claims = {k: v for k, v in claims.items() if v is not DROP}
        token = self.sign(claims, header=self.id_token_header)
        return self.id_token_transform(token) if self.id_token_transform else token

    def logout_token(self, *, header: dict[str, Any] | None = None, **overrides: Any) -> str:
        now = self.clock.timestamp()
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "sub": SUB,
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 120,
            "jti": secrets.token_urlsafe(16),
            "sid": "op-session-1",
            "events": {BACKCHANNEL_EVENT: {}},
        }
        claims.update(overrides)
        claims = {k: v for k, v in claims.items() if v is not DROP}
        return self.sign(claims, header={"typ": "logout+jwt", **(header or {})})

    # -- the endpoints

    def _handle(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        if self.failure is not None:
            failed = self.failure(request)
            if failed is not None:
                return failed
        path = request.url.path
        headers = {"Cache-Control": self.cache_control[path]} if path in self.cache_control else {}
        if path == "/.well-known/openid-configuration":
            return httpx2.Response(200, json=self.discovery, headers=headers)
        if path == "/jwks":
            keys = [k.as_dict(private=False) for k in self.published]
            return httpx2.Response(200, json={"keys": keys}, headers=headers)
        if path == "/token" and request.method == "POST":
            return self._token(request)
        if path == "/userinfo":
            return self._userinfo(request)
        return httpx2.Response(404)

    def _token(self, request: httpx2.Request) -> httpx2.Response:
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        self.token_forms.append(form)
        if not self._client_authenticated(request, form):
            return httpx2.Response(401, json={"error": "invalid_client"})
        grant = self.grants.pop(form.get("code", ""), None)
        if grant is None or form.get("grant_type") != "authorization_code":
            return httpx2.Response(400, json={"error": "invalid_grant"})
        verifier = form.get("code_verifier", "")
        if grant.method != "S256" or b64url(hashlib.sha256(verifier.encode()).digest()) != (
            grant.challenge
        ):
            return httpx2.Response(400, json={"error": "invalid_grant"})
        if form.get("redirect_uri") != grant.redirect_uri:
            return httpx2.Response(400, json={"error": "invalid_grant"})
        access_token = secrets.token_urlsafe(32)
        self.access_tokens.add(access_token)
        body = {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": 300,
            "id_token": self.id_token_for(grant, access_token),
        }
        return httpx2.Response(200, json=body, headers={"Cache-Control": "no-store"})

    def _client_authenticated(self, request: httpx2.Request, form: dict[str, str]) -> bool:
        if self.client_secret is not None:
            scheme, _, value = request.headers.get("authorization", "").partition(" ")
            client_id, _, secret = base64.b64decode(value).decode().partition(":")
            return (scheme, unquote_plus(client_id), unquote_plus(secret)) == (
                "Basic",
                CLIENT_ID,
                self.client_secret,
            )
        assert self.client_keys is not None
        if form.get("client_assertion_type") != (
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
        ):
            return False
        try:
            token = jwt.decode(form["client_assertion"], self.client_keys, algorithms=["ES256"])
        except Exception:
            return False
        claims = token.claims
        now = self.clock.timestamp()
        fresh = (
            claims["iat"] <= now + 5 and claims["exp"] > now and claims["jti"] not in self.seen_jti
        )
        self.seen_jti.add(claims["jti"])
        return fresh and claims["aud"] == ISSUER and claims["iss"] == claims["sub"] == CLIENT_ID

    def _userinfo(self, request: httpx2.Request) -> httpx2.Response:
        bearer = request.headers.get("authorization", "").removeprefix("Bearer ")
        if bearer not in self.access_tokens:
            return httpx2.Response(401)
        claims: dict[str, Any] = {"sub": SUB, "nin": NIN, "name": "Asha Juma"}
        claims.update(self.userinfo_claims)
        claims = {k: v for k, v in claims.items() if v is not DROP}
        if self.userinfo_format == "json":
            return httpx2.Response(200, json=claims)
        token = self.sign({"iss": ISSUER, "aud": CLIENT_ID, **claims})
        if self.userinfo_transform:
            token = self.userinfo_transform(token)
        return httpx2.Response(200, content=token, headers={"Content-Type": "application/jwt"})


def sign_in(
    rp: RelyingParty,
    provider: FakeProvider,
    *,
    acr: str = ACR_SUBSTANTIAL,
    callback: Callable[[dict[str, str]], dict[str, str]] | None = None,
    **request: Any,
) -> SignedIn:
    """The whole flow: the authorization request, the provider's login, the callback."""
    url, transaction = rp.authorization_request(acr=acr, claims=CLAIMS, **request)
    params = provider.authorize(url)
    if callback is not None:
        params = callback(params)
    return rp.callback(params, transaction)
