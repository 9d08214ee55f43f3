"""Signing in with a national-ID OpenID provider: the relying-party side, as a pure library.

The library builds every request and validates every answer; the caller stores. It has no
database and no routes: `RelyingParty.authorization_request` returns a `Transaction` the caller
keeps server-side until `RelyingParty.callback` consumes it, and the caller keeps the session,
the ID token (for logout) and the `jti`s of logout tokens.

The profile is the strictest of those compiled in the OIDC spec (§7.1): code flow with PKCE
S256, 256-bit `state` and `nonce`, RFC 9207 `iss` checked before anything else in a callback,
`private_key_jwt` with `aud` = issuer and a short life (or `client_secret_basic`), ID tokens
checked against a pinned algorithm list with keys found by `kid`, `acr` and `auth_time` checked,
userinfo as JSON or a signed JWT, RP-initiated and back-channel logout. Authlib's client leaves
much of this unchecked (spec §3), so only two of its small helpers are used here.

Not supported yet (refused rather than half-handled): encrypted ID tokens or userinfo (JWE),
PAR and DPoP.
"""

from portal.identity.oidc.client import RelyingParty, state_new
from portal.identity.oidc.config import (
    DEFAULT_ACR_LEVELS,
    DEFAULT_ALGORITHMS,
    ClientConfig,
    ClientKey,
    client_jwks_load,
    client_key_load,
)
from portal.identity.oidc.errors import (
    InvalidResponse,
    OidcError,
    ProviderRefused,
    ProviderUnavailable,
)
from portal.identity.oidc.models import (
    LogoutClaims,
    ProviderMetadata,
    SignedIn,
    Transaction,
    transaction_dump,
    transaction_load,
)

__all__ = [
    "DEFAULT_ACR_LEVELS",
    "DEFAULT_ALGORITHMS",
    "ClientConfig",
    "ClientKey",
    "InvalidResponse",
    "LogoutClaims",
    "OidcError",
    "ProviderMetadata",
    "ProviderRefused",
    "ProviderUnavailable",
    "RelyingParty",
    "SignedIn",
    "Transaction",
    "client_jwks_load",
    "client_key_load",
    "state_new",
    "transaction_dump",
    "transaction_load",
]
