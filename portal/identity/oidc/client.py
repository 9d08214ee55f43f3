"""`RelyingParty`: builds the requests to the provider and validates every answer.

It keeps no per-person state: `authorization_request` returns a `Transaction` the caller stores
server-side and hands back to `callback`; the caller also keeps the session, the raw ID token for
logout, and the `jti`s of logout tokens it has accepted.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, urlencode, urlsplit, urlunsplit

import httpx2
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.jwk import Key

from portal.identity.oidc.claims import (
    id_token_check,
    instant,
    logout_claims_check,
    numeric,
    same,
    signed_userinfo_check,
)
from portal.identity.oidc.config import ClientConfig
from portal.identity.oidc.errors import InvalidResponse, ProviderRefused, ProviderUnavailable
from portal.identity.oidc.models import LogoutClaims, ProviderMetadata, SignedIn, Transaction
from portal.identity.oidc.provider import ProviderDirectory
from portal.identity.oidc.tokens import jws_verify, typ_jwt, typ_logout
from portal.identity.oidc.transport import ProviderHttp

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
PROMPTS = frozenset({"none", "login", "consent", "select_account"})
CLAIMS_TARGETS = frozenset({"id_token", "userinfo"})
MIN_STATE_LENGTH = 32


def state_new() -> str:
    """A fresh random value for `state` or `nonce`: 43 URL-safe characters (256 bits)."""
    return secrets.token_urlsafe(32)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class RelyingParty:
    """The portal as an OpenID Connect client of one provider; share one per process.

    Pass `http` to reuse a client (tests pass one over `httpx2.MockTransport`); timeouts, the
    User-Agent and the no-redirect rule are applied per request either way. `clock` returns an
    aware UTC datetime and drives token times and caches alike.
    """

    def __init__(
        self,
        config: ClientConfig,
        *,
        http: httpx2.Client | None = None,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.config = config
        self._clock = clock
        self._http = ProviderHttp(
            http=http,
            timeout_seconds=config.timeout_seconds,
            user_agent=config.user_agent,
            max_response_bytes=config.max_response_bytes,
        )
        self._provider = ProviderDirectory(config=config, http=self._http, now=self._now)

    def close(self) -> None:
        """Release the HTTP client this object made (not one passed in)."""
        self._http.close()

    @property
    def issuer(self) -> str:
        """The provider's issuer: with `SignedIn.sub`, the key to link a person's account on."""
        return self.config.issuer

    @property
    def can_sign_out(self) -> bool:
        """Whether `logout_url` can be used: we have a post-logout address, the provider an
        end-session endpoint (False, too, while the provider cannot be reached)."""
        if self.config.post_logout_redirect_uri is None:
            return False
        try:
            return self.metadata().end_session_endpoint is not None
        except ProviderUnavailable:
            return False

    def metadata(self) -> ProviderMetadata:
        """The provider's checked discovery document, cached per its Cache-Control."""
        return self._provider.metadata()

    def public_jwks(self) -> dict[str, list[dict[str, Any]]]:
        """Our public signing keys, to publish for the provider (empty with a client secret)."""
        return {"keys": [key.public_jwk() for key in self.config.client_keys]}

    def authorization_request(
        self,
        *,
        acr: str,
        claims: Mapping[str, Any],
        prompt: str | None = None,
        login_hint: str | None = None,
        max_age: int | None = None,
        ui_locales: str | None = None,
    ) -> tuple[str, Transaction]:
        """The provider URL to send the browser to, and the transaction to store until it returns.

        `acr` is the weakest level acceptable, one of `config.acr_levels`; `claims` is the OIDC
        claims request (`{"id_token": {...}, "userinfo": {...}}`); `max_age` asks the provider
        to re-authenticate anyone who logged in longer ago, and is then checked in `callback`.
        """
        if acr not in self.config.acr_levels:
            raise ValueError("acr is not one of the configured levels")
        if not isinstance(claims, Mapping) or not set(claims) <= CLAIMS_TARGETS:
            raise ValueError("claims must map id_token and/or userinfo to claim requests")
        if prompt is not None and not set(prompt.split()) <= PROMPTS:
            raise ValueError("unknown prompt value")
        if max_age is not None and (isinstance(max_age, bool) or max_age < 0):
            raise ValueError("max_age must be a non-negative number of seconds")
        metadata = self.metadata()
        transaction = Transaction(
            state=state_new(),
            nonce=state_new(),
            code_verifier=secrets.token_urlsafe(64),  # 86 characters, within RFC 7636's 43-128
            issuer=metadata.issuer,
            redirect_uri=self.config.redirect_uri,
            acr=acr,
            max_age=max_age,
            created_at=self._clock(),
        )
        params: dict[str, str] = {
            "response_type": "code",
            "client_id": self.config.client_id,
            "redirect_uri": transaction.redirect_uri,
            "scope": " ".join(self.config.scopes),
            "state": transaction.state,
            "nonce": transaction.nonce,
            "code_challenge": create_s256_code_challenge(transaction.code_verifier),
            "code_challenge_method": "S256",
            "acr_values": acr,
        }
        if claims:
            params["claims"] = json.dumps(dict(claims), separators=(",", ":"))
        optional = {
            "prompt": prompt,
            "login_hint": login_hint,
            "max_age": None if max_age is None else str(max_age),
            "ui_locales": ui_locales,
        }
        params.update({name: value for name, value in optional.items() if value is not None})
        return _url_with(metadata.authorization_endpoint, params), transaction

    def callback(self, params: Mapping[str, str], transaction: Transaction) -> SignedIn:
        """Check the provider's redirect, redeem the code and validate everything it yields.

        Raises `ProviderRefused` when the provider answered with an error (only once that answer
        is known to come from it, for this transaction), `InvalidResponse` when any check fails,
        `ProviderUnavailable` when the provider cannot be reached.
        """
        now = self._now()
        self._transaction_check(transaction, now=now)
        metadata = self.metadata()
        # RFC 9207, before anything else in the response is believed (the error included).
        iss = params.get("iss")
        if iss is None and metadata.iss_parameter_supported:
            raise InvalidResponse("iss", part="callback")
        if iss is not None and iss != transaction.issuer:
            raise InvalidResponse("iss", part="callback")
        state = params.get("state")
        if not state or not same(state, transaction.state):
            raise InvalidResponse("state", part="callback")
        error = params.get("error")
        if error is not None:
            description = params.get("error_description")
            raise ProviderRefused(error, endpoint="authorization", description=description)
        code = params.get("code")
        if not code or len(code) > 4096:
            raise InvalidResponse("code", part="callback")

        id_token, access_token = self._code_redeem(code, transaction, metadata)
        use_userinfo = self.config.userinfo_fetch and metadata.userinfo_endpoint is not None
        verified = jws_verify(
            id_token,
            algorithms=metadata.id_token_algorithms,
            key_find=self._key_finder("id_token"),
            part="id_token",
            typ=typ_jwt,
        )
        id_token_check(
            verified,
            config=self.config,
            transaction=transaction,
            access_token=access_token,
            at_hash_required=use_userinfo and self.config.at_hash_required,
            now=self._now(),
        )
        claims = verified.claims
        userinfo: dict[str, Any] = {}
        if use_userinfo and metadata.userinfo_endpoint is not None:
            userinfo = self._userinfo(metadata.userinfo_endpoint, access_token, sub=claims["sub"])
        auth_time = numeric(claims, "auth_time", part="id_token", required=False)
        return SignedIn(
            issuer=metadata.issuer,
            sub=claims["sub"],
            acr=claims["acr"],
            amr=tuple(claims.get("amr") or ()),
            sid=claims.get("sid"),
            auth_time=None if auth_time is None else instant(auth_time),
            claims={**userinfo, **claims},
            id_token=id_token,
            expires_at=instant(claims["exp"]),
        )

    def logout_url(self, *, id_token_hint: str, state: str, ui_locales: str | None = None) -> str:
        """Where to send the browser for RP-initiated logout; check `state` when it comes back."""
        if self.config.post_logout_redirect_uri is None:
            raise ValueError("post_logout_redirect_uri is not configured")
        if len(state) < MIN_STATE_LENGTH:
            raise ValueError("state must be at least 32 random characters (see state_new)")
        metadata = self.metadata()
        if metadata.end_session_endpoint is None:
            raise ProviderUnavailable("unsupported")
        params = {
            "id_token_hint": id_token_hint,
            "post_logout_redirect_uri": self.config.post_logout_redirect_uri,
            "client_id": self.config.client_id,
            "state": state,
        }
        if ui_locales:
            params["ui_locales"] = ui_locales
        return _url_with(metadata.end_session_endpoint, params)

    def logout_token_validate(self, token: str) -> LogoutClaims:
        """Validate a back-channel logout token (the `logout_token` form field).

        Checks `typ: logout+jwt` (a missing `typ` is refused: the specification only recommends
        it, but our providers send it and it closes cross-JWT confusion), the signature with the
        provider's keys and pinned algorithms, `iss`, `aud`, `iat` recent and not in the future,
        `exp` when present, the back-channel `events` member, `sub` or `sid`, no `nonce`, and a
        `jti`. It cannot check replay: the caller must refuse a `jti` it has already accepted
        and remember each one until `LogoutClaims.expires_at`.
        """
        part = "logout_token"
        metadata = self.metadata()
        verified = jws_verify(
            token,
            algorithms=metadata.id_token_algorithms,
            key_find=self._key_finder(part),
            part=part,
            typ=typ_logout,
        )
        return logout_claims_check(verified.claims, config=self.config, now=self._now())

    # -- the steps of a callback

    def _now(self) -> float:
        return self._clock().timestamp()

    def _transaction_check(self, transaction: Transaction, *, now: float) -> None:
        if transaction.issuer != self.config.issuer:
            raise InvalidResponse("iss", part="transaction")
        age = now - transaction.created_at.timestamp()
        if age < -self.config.leeway_seconds or age > self.config.transaction_lifetime_seconds:
            raise InvalidResponse("expired", part="transaction")

    def _code_redeem(
        self, code: str, transaction: Transaction, metadata: ProviderMetadata
    ) -> tuple[str, str]:
        """The ID token and access token for `code`."""
        part = "token_response"
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": transaction.redirect_uri,
            "code_verifier": transaction.code_verifier,
        }
        headers: dict[str, str] = {}
        if self.config.client_keys:
            form["client_id"] = self.config.client_id
            form["client_assertion_type"] = ASSERTION_TYPE
            form["client_assertion"] = self._client_assertion()
        else:
            headers["Authorization"] = self._basic_credentials()
        reply = self._http.post_form(metadata.token_endpoint, form, headers=headers)
        data = reply.json_object()
        if reply.status != 200:
            error = data.get("error") if data else None
            if reply.status in {400, 401} and isinstance(error, str):
                description = data.get("error_description") if data else None
                raise ProviderRefused(
                    error,
                    endpoint="token",
                    description=description if isinstance(description, str) else None,
                )
            raise InvalidResponse("status", part=part)
        if data is None:
            raise InvalidResponse("malformed", part=part)
        token_type = data.get("token_type")
        if not isinstance(token_type, str) or token_type.lower() != "bearer":
            raise InvalidResponse("token_type", part=part)
        id_token, access_token = data.get("id_token"), data.get("access_token")
        if not isinstance(id_token, str) or not id_token:
            raise InvalidResponse("id_token", part=part)
        if not isinstance(access_token, str) or not access_token:
            raise InvalidResponse("access_token", part=part)
        return id_token, access_token

    def _client_assertion(self) -> str:
        """A `private_key_jwt` assertion, new every call (RFC 7523, FAPI 2.0 audience)."""
        key = self.config.client_keys[0]
        now = int(self._now())
        claims = {
            "iss": self.config.client_id,
            "sub": self.config.client_id,
            "aud": self.config.issuer,
            "iat": now,
            "exp": now + self.config.assertion_lifetime_seconds,
            "jti": secrets.token_urlsafe(32),
        }
        header = {"alg": key.alg, "kid": key.kid, "typ": "JWT"}
        return jwt.encode(header, claims, key.key, algorithms=[key.alg], default_type=None)

    def _basic_credentials(self) -> str:
        """RFC 6749 §2.3.1: both parts form-encoded before they are joined and base64-encoded."""
        secret = self.config.client_secret or ""
        pair = f"{quote_plus(self.config.client_id)}:{quote_plus(secret)}"
        return "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")

    def _key_finder(self, part: str) -> Callable[[str | None, str], Key]:
        def find(kid: str | None, alg: str) -> Key:
            return self._provider.key_find(kid=kid, alg=alg, part=part)

        return find

    def _userinfo(self, endpoint: str, access_token: str, *, sub: str) -> dict[str, Any]:
        """The userinfo claims, from JSON or a signed JWT, for the same `sub` as the ID token."""
        part = "userinfo"
        reply = self._http.get(
            endpoint,
            headers={
                "Authorization": f"Bearer {access_token}",
                "Accept": "application/json, application/jwt",
            },
        )
        if reply.status != 200:
            raise InvalidResponse("status", part=part)
        if reply.media_type == "application/jwt":
            try:
                token = reply.body.decode("ascii").strip()
            except UnicodeError:
                raise InvalidResponse("malformed", part=part) from None
            claims = jws_verify(
                token,
                algorithms=self.config.allowed_algorithms,
                key_find=self._key_finder(part),
                part=part,
                typ=typ_jwt,
            ).claims
            signed_userinfo_check(claims, config=self.config, now=self._now())
        elif reply.media_type == "application/json":
            data = reply.json_object()
            if data is None:
                raise InvalidResponse("malformed", part=part)
            claims = data
        else:
            raise InvalidResponse("content_type", part=part)
        if claims.get("sub") != sub:
            raise InvalidResponse("userinfo_sub", part=part)
        return claims


def _url_with(endpoint: str, params: Mapping[str, str]) -> str:
    """`endpoint` with `params` added to its query (a query it already has is kept)."""
    parts = urlsplit(endpoint)
    kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    # %20 rather than "+" for spaces: some providers read scope and acr_values literally.
    query = urlencode([*kept, *params.items()], quote_via=quote)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))
