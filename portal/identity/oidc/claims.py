"""What the provider's tokens must say: the claim rules of the profile, one function each.

Every failure is `InvalidResponse` with the claim's name as its reason; times are POSIX seconds
with the configured leeway either side.
"""

from __future__ import annotations

import hmac
from datetime import UTC, datetime
from typing import Any

from authlib.oidc.core.util import create_half_hash

from portal.identity.oidc.config import ClientConfig
from portal.identity.oidc.errors import InvalidResponse
from portal.identity.oidc.models import LogoutClaims, Transaction
from portal.identity.oidc.tokens import Verified

BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"
MAX_SUB_LENGTH = 255


def id_token_check(
    verified: Verified,
    *,
    config: ClientConfig,
    transaction: Transaction,
    access_token: str,
    at_hash_required: bool,
    now: float,
) -> None:
    """OIDC Core §3.1.3.7 on a verified ID token, with the profile's additions (acr, max age)."""
    part = "id_token"
    claims = verified.claims
    leeway = config.leeway_seconds
    issuer_check(claims, config=config, part=part)
    audiences = audience_check(claims, config=config, part=part)
    azp = claims.get("azp")
    if (len(audiences) > 1 or azp is not None) and azp != config.client_id:
        raise InvalidResponse("azp", part=part)
    subject_check(claims, part=part)
    expiry_check(claims, now=now, leeway=leeway, part=part, required=True)
    issued_check(claims, now=now, leeway=leeway, max_age=config.id_token_max_age_seconds, part=part)
    nonce = claims.get("nonce")
    if not isinstance(nonce, str) or not same(nonce, transaction.nonce):
        raise InvalidResponse("nonce", part=part)
    acr_check(claims.get("acr"), wanted=transaction.acr, levels=config.acr_levels)
    amr = claims.get("amr")
    if amr is not None and (not isinstance(amr, list) or not all(isinstance(m, str) for m in amr)):
        raise InvalidResponse("amr", part=part)
    max_age = transaction.max_age
    auth_time = numeric(claims, "auth_time", part=part, required=max_age is not None)
    if auth_time is not None:
        too_old = max_age is not None and now - auth_time > max_age + leeway
        if auth_time > now + leeway or too_old:
            raise InvalidResponse("auth_time", part=part)
    expected_hash = claims.get("at_hash")
    if expected_hash is None:
        if at_hash_required:
            raise InvalidResponse("at_hash", part=part)
    elif not isinstance(expected_hash, str) or not same(
        expected_hash, at_hash(access_token, verified.alg)
    ):
        raise InvalidResponse("at_hash", part=part)
    text(claims, "sid", part=part, required=False)


def acr_check(acr: object, *, wanted: str, levels: tuple[str, ...]) -> None:
    """`acr` is a known level, at or above `wanted` (levels run weakest first)."""
    if not isinstance(acr, str) or acr not in levels or wanted not in levels:
        raise InvalidResponse("acr", part="id_token")
    if levels.index(acr) < levels.index(wanted):
        raise InvalidResponse("acr", part="id_token")


def logout_claims_check(
    claims: dict[str, Any], *, config: ClientConfig, now: float
) -> LogoutClaims:
    """Back-Channel Logout §2.6 on a verified logout token; what the caller needs to act on it."""
    part = "logout_token"
    leeway, max_age = config.leeway_seconds, config.logout_token_max_age_seconds
    issuer_check(claims, config=config, part=part)
    audience_check(claims, config=config, part=part)
    iat = issued_check(claims, now=now, leeway=leeway, max_age=max_age, part=part)
    exp = expiry_check(claims, now=now, leeway=leeway, part=part, required=False)
    events = claims.get("events")
    if not isinstance(events, dict) or not isinstance(events.get(BACKCHANNEL_LOGOUT_EVENT), dict):
        raise InvalidResponse("events", part=part)
    if "nonce" in claims:
        raise InvalidResponse("nonce", part=part)
    sub = subject_check(claims, part=part, required=False)
    sid = text(claims, "sid", part=part, required=False)
    if sub is None and sid is None:
        raise InvalidResponse("sub_or_sid", part=part)
    jti = text(claims, "jti", part=part)
    assert jti is not None
    # The last moment this very token would still pass the checks above.
    last = iat + max_age + leeway
    if exp is not None:
        last = min(last, exp + leeway)
    return LogoutClaims(
        issuer=config.issuer,
        sub=sub,
        sid=sid,
        jti=jti,
        issued_at=instant(iat),
        expires_at=instant(last),
    )


def signed_userinfo_check(claims: dict[str, Any], *, config: ClientConfig, now: float) -> None:
    """OIDC Core §5.3.2: a signed response SHOULD carry `iss` and `aud`; check them when it does."""
    part = "userinfo"
    if "iss" in claims:
        issuer_check(claims, config=config, part=part)
    if "aud" in claims:
        audience_check(claims, config=config, part=part)
    expiry_check(claims, now=now, leeway=config.leeway_seconds, part=part, required=False)


def numeric(claims: dict[str, Any], name: str, *, part: str, required: bool = True) -> float | None:
    """A NumericDate claim, or None when absent and optional."""
    value = claims.get(name)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise InvalidResponse(name, part=part)
    return float(value)


def text(claims: dict[str, Any], name: str, *, part: str, required: bool = True) -> str | None:
    """A non-empty string claim, or None when absent and optional."""
    value = claims.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value or len(value) > 2048:
        raise InvalidResponse(name, part=part)
    return value


def issuer_check(claims: dict[str, Any], *, config: ClientConfig, part: str) -> None:
    """`iss` is our provider's issuer, by exact string."""
    if claims.get("iss") != config.issuer:
        raise InvalidResponse("iss", part=part)


def audience_check(claims: dict[str, Any], *, config: ClientConfig, part: str) -> list[str]:
    """`aud` names us, and any other audience is one we were told to trust."""
    aud = claims.get("aud")
    audiences = [aud] if isinstance(aud, str) else aud
    if not isinstance(audiences, list) or not all(isinstance(a, str) for a in audiences):
        raise InvalidResponse("aud", part=part)
    if config.client_id not in audiences:
        raise InvalidResponse("aud", part=part)
    if any(a != config.client_id and a not in config.trusted_audiences for a in audiences):
        raise InvalidResponse("aud", part=part)
    return audiences


def subject_check(claims: dict[str, Any], *, part: str, required: bool = True) -> str | None:
    """`sub`: a non-empty string of at most 255 characters (OIDC Core §2)."""
    sub = claims.get("sub")
    if sub is None and not required:
        return None
    if not isinstance(sub, str) or not sub or len(sub) > MAX_SUB_LENGTH:
        raise InvalidResponse("sub", part=part)
    return sub


def issued_check(
    claims: dict[str, Any], *, now: float, leeway: int, max_age: int, part: str
) -> float:
    """`iat` is not in the future and not older than `max_age` seconds."""
    iat = numeric(claims, "iat", part=part)
    assert iat is not None
    if iat > now + leeway or now - iat > max_age + leeway:
        raise InvalidResponse("iat", part=part)
    return iat


def expiry_check(
    claims: dict[str, Any], *, now: float, leeway: int, part: str, required: bool
) -> float | None:
    """`exp` is in the future; `nbf`, when present, is not."""
    exp = numeric(claims, "exp", part=part, required=required)
    if exp is not None and exp <= now - leeway:
        raise InvalidResponse("exp", part=part)
    nbf = numeric(claims, "nbf", part=part, required=False)
    if nbf is not None and nbf > now + leeway:
        raise InvalidResponse("nbf", part=part)
    return exp


def at_hash(access_token: str, alg: str) -> str:
    """The `at_hash` of an access token for a token signed with `alg` (OIDC Core §3.1.3.6)."""
    value = create_half_hash(access_token, alg)
    if value is None:
        raise ValueError(f"no hash for {alg}")
    return value.decode("ascii") if isinstance(value, bytes) else str(value)


def same(a: str, b: str) -> bool:
    """Constant-time string equality."""
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


def instant(seconds: float) -> datetime:
    """A POSIX time as an aware UTC datetime."""
    return datetime.fromtimestamp(seconds, UTC)
