"""The protocol rules of the sandbox provider as plain functions: the authorization request,
PKCE, the `claims` parameter, levels of assurance, pairwise subjects and token hashes.

Nothing here keeps state or speaks HTTP, so each rule can be read (and tested) on its own.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from portal.sandbox.idp.config import ClientRegistration, IdpConfig

# Levels of assurance, lowest first: NIN and date of birth; a one-time code sent to the phone
# registered at NIDA; that code plus the citizen's PIN.
ACR_LOW = "urn:tz:nida:loa:low"
ACR_SUBSTANTIAL = "urn:tz:nida:loa:substantial"
ACR_HIGH = "urn:tz:nida:loa:high"
ACR_VALUES = (ACR_LOW, ACR_SUBSTANTIAL, ACR_HIGH)
ACR_DEFAULT = ACR_SUBSTANTIAL
# Authentication methods (RFC 8176) performed at each level.
AMR = {
    ACR_LOW: ("kba",),
    ACR_SUBSTANTIAL: ("otp", "sms"),
    ACR_HIGH: ("mfa", "otp", "pin", "sms"),
}

# The citizen's attributes, each released only when asked for (by `claims` or by scope).
USER_CLAIMS = (
    "nin",
    "name",
    "given_name",
    "family_name",
    "birthdate",
    "phone_number",
    "address",
)
# Scopes name attributes for userinfo only; the ID token carries what `claims.id_token` names.
SCOPE_CLAIMS: dict[str, tuple[str, ...]] = {
    "profile": ("name", "given_name", "family_name", "birthdate"),
    "phone": ("phone_number",),
    "address": ("address",),
}
SCOPES = ("openid", *SCOPE_CLAIMS)
PROMPTS = ("none", "login", "consent")

_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")
_VERIFIER = re.compile(r"[A-Za-z0-9._~-]{43,128}")
MAX_PARAMETER = 2048


class UnsafeRequestError(Exception):
    """An authorization request that must not be answered by a redirect (unknown client or
    redirect URI): the provider shows an error page instead."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class AuthorizationError(Exception):
    """An OAuth error to send back to the client's redirect URI."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description


@dataclass(frozen=True)
class ClaimSpec:
    essential: bool = False
    values: tuple[Any, ...] | None = None


@dataclass(frozen=True)
class ClaimsRequest:
    """The `claims` request parameter (OIDC Core 5.5): what goes into each token."""

    id_token: Mapping[str, ClaimSpec] = field(default_factory=dict)
    userinfo: Mapping[str, ClaimSpec] = field(default_factory=dict)


def claims_request_parse(raw: str | None) -> ClaimsRequest:
    """The parsed `claims` parameter; ValueError when it is not the JSON the spec describes."""
    if raw is None or raw == "":
        return ClaimsRequest()
    try:
        document = json.loads(raw)
    except ValueError as error:
        raise ValueError("claims is not JSON") from error
    if not isinstance(document, dict):
        raise ValueError("claims must be a JSON object")
    parsed: dict[str, dict[str, ClaimSpec]] = {}
    for target in ("id_token", "userinfo"):
        members = document.get(target, {})
        if members is None:
            members = {}
        if not isinstance(members, dict):
            raise ValueError(f"claims.{target} must be an object")
        specs: dict[str, ClaimSpec] = {}
        for name, request in members.items():
            if request is None:
                specs[name] = ClaimSpec()
                continue
            if not isinstance(request, dict):
                raise ValueError(f"claims.{target}.{name} must be null or an object")
            essential = request.get("essential", False)
            if not isinstance(essential, bool):
                raise ValueError(f"claims.{target}.{name}.essential must be true or false")
            values: tuple[Any, ...] | None = None
            if "values" in request:
                if not isinstance(request["values"], list):
                    raise ValueError(f"claims.{target}.{name}.values must be an array")
                values = tuple(request["values"])
            elif "value" in request:
                values = (request["value"],)
            specs[name] = ClaimSpec(essential=essential, values=values)
        parsed[target] = specs
    return ClaimsRequest(id_token=parsed["id_token"], userinfo=parsed["userinfo"])


def acr_rank(acr: str) -> int:
    return ACR_VALUES.index(acr)


def acr_choose(acr_values: str | None, claims: ClaimsRequest) -> tuple[str, tuple[str, ...]]:
    """The level to perform and the levels acceptable to the client, from `acr_values` (in order
    of preference) and an essential `acr` in `claims.id_token`. Unknown values are refused
    rather than ignored, so a misspelt level cannot quietly become another."""
    acceptable: tuple[str, ...] = ()
    if acr_values is not None:
        asked = acr_values.split()
        acceptable = tuple(value for value in asked if value in ACR_VALUES)
        if not acceptable:
            raise AuthorizationError(
                "invalid_request", "acr_values names no level this provider offers"
            )
    spec = claims.id_token.get("acr")
    if spec is not None and spec.essential and spec.values:
        essential = tuple(value for value in spec.values if value in ACR_VALUES)
        if acceptable:
            essential = tuple(value for value in acceptable if value in essential)
        if not essential:
            raise AuthorizationError(
                "invalid_request", "the essential acr names no level this provider offers"
            )
        acceptable = essential
    if not acceptable:
        return ACR_DEFAULT, ()
    return acceptable[0], acceptable


def acr_satisfies(performed: str, target: str, acceptable: Sequence[str], *, strict: bool) -> bool:
    """Whether an earlier sign-in at `performed` serves a request for `target`: the same level
    or a higher one, unless the client made `acr` essential with listed values (`strict`)."""
    if strict:
        return performed in acceptable
    return acr_rank(performed) >= acr_rank(target)


def pkce_challenge(verifier: str) -> str:
    """The S256 code challenge of a verifier (RFC 7636 4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def pkce_verify(challenge: str | None, verifier: str | None) -> bool:
    """S256 only. A code without a challenge never verifies, with or without a verifier: a
    verifier sent for such a code is the downgrade RFC 9700 2.1.1 tells servers to refuse."""
    if challenge is None or verifier is None or not _VERIFIER.fullmatch(verifier):
        return False
    return hmac.compare_digest(pkce_challenge(verifier), challenge)


def pairwise_subject(*, secret: str, sector: str, nin: str) -> str:
    """An opaque `sub` for one citizen at one sector: HMAC-SHA256 under the provider's secret."""
    mac = hmac.new(secret.encode(), f"{sector}\x00{nin}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode("ascii")


def token_hash(token: str) -> str:
    """`at_hash` for ES256: the left half of SHA-256 of the token, base64url (OIDC 3.1.3.6)."""
    digest = hashlib.sha256(token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode("ascii")


def url_with_query(url: str, params: Mapping[str, str | None]) -> str:
    """`url` with `params` added to its query (those that are None left out)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query += [(k, v) for k, v in params.items() if v is not None]
    return urlunsplit(parts._replace(query=urlencode(query)))


@dataclass(frozen=True, kw_only=True)
class AuthorizationRequest:
    """An authorization request that passed every check."""

    client: ClientRegistration
    redirect_uri: str
    state: str
    nonce: str
    scope: tuple[str, ...]
    code_challenge: str
    claims: ClaimsRequest
    acr_target: str
    acr_acceptable: tuple[str, ...]
    acr_strict: bool
    max_age: int | None
    prompt: frozenset[str]
    login_hint: str | None
    ui_locales: str | None

    def requested_claims(self) -> tuple[str, ...]:
        """The citizen's attributes the client asked for anywhere, in a stable order."""
        asked = set(self.claims.id_token) | set(self.claims.userinfo)
        for scope in self.scope:
            asked.update(SCOPE_CLAIMS.get(scope, ()))
        return tuple(name for name in USER_CLAIMS if name in asked)

    def essential_claims(self) -> frozenset[str]:
        specs = [*self.claims.id_token.items(), *self.claims.userinfo.items()]
        return frozenset(name for name, spec in specs if spec.essential and name in USER_CLAIMS)


def _single(params: Sequence[tuple[str, str]]) -> dict[str, str]:
    """Parameters as a dict; a repeated one is an error (RFC 6749 3.1)."""
    values: dict[str, str] = {}
    for name, value in params:
        if name in values:
            raise AuthorizationError("invalid_request", f"{name} is repeated")
        if len(value) > MAX_PARAMETER:
            raise AuthorizationError("invalid_request", f"{name} is too long")
        values[name] = value
    return values


def authorization_client(
    params: Sequence[tuple[str, str]], config: IdpConfig
) -> tuple[ClientRegistration, str, str | None]:
    """The client, its exactly registered redirect URI and the `state` to echo, or
    UnsafeRequestError: until both are known, nothing may be sent back by redirect."""
    client_ids = [v for k, v in params if k == "client_id"]
    redirects = [v for k, v in params if k == "redirect_uri"]
    if len(client_ids) != 1 or len(redirects) != 1:
        raise UnsafeRequestError("client_id and redirect_uri are each required once")
    client = config.client(client_ids[0])
    if client is None:
        raise UnsafeRequestError("unknown client_id")
    if redirects[0] not in client.redirect_uris:
        raise UnsafeRequestError("redirect_uri is not registered for this client (exact match)")
    states = [v for k, v in params if k == "state"]
    return client, redirects[0], states[0] if len(states) == 1 and states[0] else None


def authorization_parse(
    params: Sequence[tuple[str, str]], config: IdpConfig
) -> AuthorizationRequest:
    """Check an authorization request (code flow, PKCE S256, state, nonce, openid scope,
    claims, levels, prompt, max_age). Raises UnsafeRequestError or AuthorizationError."""
    client, redirect_uri, state = authorization_client(params, config)
    values = _single(params)
    response_type = values.get("response_type")
    if response_type is None:
        raise AuthorizationError("invalid_request", "response_type is required")
    if response_type != "code":
        raise AuthorizationError("unsupported_response_type", "only the code flow is supported")
    if values.get("response_mode", "query") != "query":
        raise AuthorizationError("invalid_request", "only response_mode=query is supported")
    if "request" in values:
        raise AuthorizationError("request_not_supported", "request objects are not supported")
    if "request_uri" in values:
        raise AuthorizationError("request_uri_not_supported", "request_uri is not supported")
    if state is None:
        raise AuthorizationError("invalid_request", "state is required")
    scope = tuple(values.get("scope", "").split())
    if "openid" not in scope:
        raise AuthorizationError("invalid_scope", "scope must include openid")
    nonce = values.get("nonce")
    if not nonce:
        raise AuthorizationError("invalid_request", "nonce is required")
    challenge = values.get("code_challenge")
    method = values.get("code_challenge_method")
    if not challenge:
        raise AuthorizationError("invalid_request", "code_challenge is required (PKCE)")
    if method != "S256":
        raise AuthorizationError("invalid_request", "code_challenge_method must be S256")
    if not _CHALLENGE.fullmatch(challenge):
        raise AuthorizationError("invalid_request", "code_challenge is not an S256 challenge")
    try:
        claims = claims_request_parse(values.get("claims"))
    except ValueError as error:
        raise AuthorizationError("invalid_request", str(error)) from error
    target, acceptable = acr_choose(values.get("acr_values"), claims)
    acr_spec = claims.id_token.get("acr")
    strict = bool(acr_spec and acr_spec.essential and acr_spec.values)
    max_age: int | None = None
    if "max_age" in values:
        raw = values["max_age"]
        if not raw.isascii() or not raw.isdigit():
            raise AuthorizationError("invalid_request", "max_age must be a whole number")
        max_age = int(raw)
    prompt = frozenset(values.get("prompt", "").split())
    if prompt - set(PROMPTS):
        raise AuthorizationError("invalid_request", "prompt may be none, login or consent")
    if "none" in prompt and len(prompt) > 1:
        raise AuthorizationError("invalid_request", "prompt=none goes alone")
    return AuthorizationRequest(
        client=client,
        redirect_uri=redirect_uri,
        state=state,
        nonce=nonce,
        scope=scope,
        code_challenge=challenge,
        claims=claims,
        acr_target=target,
        acr_acceptable=acceptable,
        acr_strict=strict,
        max_age=max_age,
        prompt=prompt,
        login_hint=values.get("login_hint"),
        ui_locales=values.get("ui_locales"),
    )
