"""What can go wrong when signing in with the provider, as types the caller turns into pages.

Messages carry only short machine reasons and OAuth error codes: never a token, a code, a key or a
national ID number, so any of them may be logged as they are.
"""

from __future__ import annotations

import re

# RFC 6749 §5.2 allows more, but a code that needs more is not one we can act on.
_ERROR_CODE = re.compile(r"[A-Za-z0-9_.\-]{1,64}")


class OidcError(Exception):
    """Base of every sign-in failure the library raises."""

    reason: str

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ProviderUnavailable(OidcError):
    """The provider could not be reached, answered 5xx, timed out, or published bad metadata.

    `reason` is one of "network", "timeout", "status", "too_large", "discovery", "issuer",
    "endpoint", "jwks" or "unsupported"; worth a "try again later" page.
    """

    def __str__(self) -> str:
        return f"provider unavailable: {self.reason}"


class ProviderRefused(OidcError):
    """The provider answered with an OAuth error (the person cancelled, or must log in again...).

    `code` is the OAuth error code (`access_denied`, `login_required`, `interaction_required`,
    `consent_required`, `user_cancel`, `invalid_grant`...), or "invalid_error_code" when the
    provider sent something that is not a code. `endpoint` is "authorization" or "token".
    `description` is the provider's own text: show it to nobody unescaped, and log it with care.
    """

    code: str
    endpoint: str
    description: str | None

    def __init__(self, code: str, *, endpoint: str, description: str | None = None) -> None:
        code = code if _ERROR_CODE.fullmatch(code) else "invalid_error_code"
        super().__init__(code)
        self.code = code
        self.endpoint = endpoint
        self.description = description[:300] if description else None

    def __str__(self) -> str:
        return f"provider refused at {self.endpoint}: {self.code}"


class InvalidResponse(OidcError):
    """A response failed a check: a possible attack or a broken provider; never trust it.

    `reason` names the check ("state", "iss", "nonce", "signature", "alg", "kid", "aud", "azp",
    "exp", "iat", "acr", "at_hash", "userinfo_sub"...); `part` names what failed it: "callback",
    "transaction", "token_response", "id_token", "userinfo" or "logout_token".
    """

    part: str

    def __init__(self, reason: str, *, part: str) -> None:
        super().__init__(reason)
        self.part = part

    def __str__(self) -> str:
        return f"invalid {self.part}: {self.reason}"
