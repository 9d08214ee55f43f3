"""Checking the signature of the provider's JWTs; `claims` then checks what they say.

The algorithm comes from our own pinned list, never from the provider's metadata or the token
alone, and the key is found by `kid` among the provider's published keys; so `alg: none`, an HMAC
"signed" with a public key, or a key from anywhere else cannot pass.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from joserfc import jws
from joserfc.errors import BadSignatureError, DecodeError, JoseError, UnsupportedAlgorithmError
from joserfc.jwk import Key

from portal.identity.oidc.errors import InvalidResponse

MAX_TOKEN_BYTES = 65_536

KeyFinder = Callable[[str | None, str], Key]


@dataclass(frozen=True)
class Verified:
    """A JWS whose signature checked out: its header, its claims and its algorithm."""

    header: dict[str, Any]
    claims: dict[str, Any]
    alg: str


def jws_verify(
    token: str,
    *,
    algorithms: Sequence[str],
    key_find: KeyFinder,
    part: str,
    typ: Callable[[str | None], bool],
) -> Verified:
    """Verify a compact JWS whose payload is a JSON object; InvalidResponse(reason) if not."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_BYTES:
        raise InvalidResponse("malformed", part=part)
    if token.count(".") == 4:
        raise InvalidResponse("encrypted", part=part)  # JWE is not enabled for any provider yet
    registry = jws.JWSRegistry(algorithms=list(algorithms), strict_check_header=False)
    registry.max_header_length = 4096
    try:
        obj = jws.extract_compact(token.encode("ascii"), registry=registry)
    except (JoseError, ValueError, UnicodeError):
        raise InvalidResponse("malformed", part=part) from None
    header = dict(obj.headers())
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in algorithms:
        raise InvalidResponse("alg", part=part)
    if not typ(header.get("typ")):
        raise InvalidResponse("typ", part=part)
    kid = header.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise InvalidResponse("kid", part=part)
    key = key_find(kid, alg)
    try:
        valid = jws.validate_compact(obj, key, registry=registry)
    except UnsupportedAlgorithmError:
        raise InvalidResponse("alg", part=part) from None
    except (BadSignatureError, DecodeError):
        valid = False
    except JoseError:  # the key cannot verify this alg (wrong curve, say)
        raise InvalidResponse("alg", part=part) from None
    if not valid:
        raise InvalidResponse("signature", part=part)
    try:
        claims = json.loads(obj.payload)
    except (TypeError, ValueError):
        raise InvalidResponse("malformed", part=part) from None
    if not isinstance(claims, dict):
        raise InvalidResponse("malformed", part=part)
    return Verified(header=header, claims=claims, alg=alg)


def typ_jwt(value: str | None) -> bool:
    """An ID token or signed userinfo: untyped or "JWT", never a logout token or access token."""
    return value is None or value.lower() in {"jwt", "application/jwt"}


def typ_logout(value: str | None) -> bool:
    """A logout token must say it is one (explicit typing, Back-Channel Logout §4.1)."""
    return value is not None and value.lower() in {"logout+jwt", "application/logout+jwt"}
