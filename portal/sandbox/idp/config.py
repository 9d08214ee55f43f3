"""What the sandbox provider is told at start: issuer, clients, keys, clock, switches and faults.

Everything here is frozen; the few things a running provider may change (its signing keys, its
injected faults) live in the provider's memory, never in the configuration.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from portal.sandbox.serving import SandboxRefusedError, environment_refuse

SANDBOX = "the sandbox national-ID provider"
PACKAGE_DIR = Path(__file__).resolve().parent
CITIZENS_FILE = PACKAGE_DIR / "citizens.yaml"

# The pairwise subjects must stay the same from one start to the next, or every returning citizen
# would look new to the portal; a sandbox can live with a published secret.
DEV_PAIRWISE_SECRET = "sandbox only: pairwise subjects of the demo citizens"  # noqa: S105

PRIVATE_KEY_JWT: Literal["private_key_jwt"] = "private_key_jwt"
CLIENT_SECRET_BASIC: Literal["client_secret_basic"] = "client_secret_basic"  # noqa: S105
AUTH_METHODS = (PRIVATE_KEY_JWT, CLIENT_SECRET_BASIC)
AUTHORIZATION_FAULT_ERRORS = frozenset(
    {
        "access_denied",
        "login_required",
        "consent_required",
        "interaction_required",
        "server_error",
        "temporarily_unavailable",
    }
)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class SandboxClock:
    """The real time plus an offset that tests move forward (`advance`) and put back (`reset`)."""

    def __init__(self) -> None:
        self._offset = dt.timedelta()
        self._lock = threading.Lock()

    def __call__(self) -> dt.datetime:
        with self._lock:
            return utc_now() + self._offset

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += dt.timedelta(seconds=seconds)

    def reset(self) -> None:
        with self._lock:
            self._offset = dt.timedelta()


def _absolute_url(value: str, what: str) -> None:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.fragment:
        raise SandboxRefusedError(f"{what} must be an absolute http(s) URL without a fragment")


@dataclass(frozen=True, kw_only=True)
class ClientRegistration:
    """A relying party the provider knows. `sector_identifier` names the group of clients that
    see the same pairwise `sub` for a citizen (default: the client alone)."""

    client_id: str
    redirect_uris: tuple[str, ...]
    post_logout_redirect_uris: tuple[str, ...] = ()
    backchannel_logout_uri: str | None = None
    token_endpoint_auth_method: Literal["private_key_jwt", "client_secret_basic"] = PRIVATE_KEY_JWT
    client_secret: str | None = None
    jwks: Mapping[str, Any] | None = None
    jwks_uri: str | None = None
    userinfo_signed: bool = False
    sector_identifier: str | None = None
    name: str | None = None

    def __post_init__(self) -> None:
        # Lists are welcome; they are kept as tuples so the registration stays frozen.
        object.__setattr__(self, "redirect_uris", tuple(self.redirect_uris))
        object.__setattr__(self, "post_logout_redirect_uris", tuple(self.post_logout_redirect_uris))
        if not self.client_id:
            raise SandboxRefusedError("a client needs a client_id")
        if not self.redirect_uris:
            raise SandboxRefusedError(f"client {self.client_id!r} needs a redirect URI")
        for uri in (*self.redirect_uris, *self.post_logout_redirect_uris):
            _absolute_url(uri, f"client {self.client_id!r}: {uri!r}")
        if self.backchannel_logout_uri:
            _absolute_url(self.backchannel_logout_uri, f"client {self.client_id!r}: back-channel")
        if self.token_endpoint_auth_method not in AUTH_METHODS:
            raise SandboxRefusedError(
                f"client {self.client_id!r}: token_endpoint_auth_method must be one of"
                f" {', '.join(AUTH_METHODS)}"
            )
        if self.token_endpoint_auth_method == CLIENT_SECRET_BASIC:
            if not self.client_secret:
                raise SandboxRefusedError(f"client {self.client_id!r} needs a client_secret")
        elif (self.jwks is None) == (self.jwks_uri is None):
            raise SandboxRefusedError(
                f"client {self.client_id!r}: private_key_jwt needs exactly one of jwks, jwks_uri"
            )
        if self.jwks is not None:
            keys = self.jwks.get("keys")
            if not isinstance(keys, list) or not keys:
                raise SandboxRefusedError(f"client {self.client_id!r}: jwks has no keys")
            if any(isinstance(key, Mapping) and "d" in key for key in keys):
                raise SandboxRefusedError(
                    f"client {self.client_id!r}: jwks holds a private key; register the public one"
                )
        if self.jwks_uri:
            _absolute_url(self.jwks_uri, f"client {self.client_id!r}: jwks_uri")

    @property
    def sector(self) -> str:
        return self.sector_identifier or self.client_id

    @property
    def display_name(self) -> str:
        return self.name or self.client_id


@dataclass(frozen=True, kw_only=True)
class IdpFaults:
    """Deliberate mistakes, so a relying party's checks can be seen to work. All off by default.

    `authorization_error` answers every valid authorization request with that error
    (`access_denied`, `login_required`, ...); `acr` reports that level instead of the one
    performed; the rest spoil the authorization response or the tokens as their names say.
    """

    authorization_error: str | None = None
    wrong_iss_in_response: bool = False
    omit_iss_in_response: bool = False
    id_token_expired: bool = False
    id_token_wrong_aud: bool = False
    id_token_wrong_iss: bool = False
    id_token_wrong_nonce: bool = False
    id_token_unknown_kid: bool = False
    userinfo_wrong_sub: bool = False
    acr: str | None = None

    def __post_init__(self) -> None:
        if (
            self.authorization_error is not None
            and self.authorization_error not in AUTHORIZATION_FAULT_ERRORS
        ):
            raise SandboxRefusedError(
                "authorization_error must be one of "
                + ", ".join(sorted(AUTHORIZATION_FAULT_ERRORS))
            )
        if self.acr == "":
            raise SandboxRefusedError("acr must name a level, or be None")


@dataclass(frozen=True, kw_only=True)
class IdpConfig:
    """The sandbox provider's configuration. Times are in seconds.

    `signing_keys` are private EC P-256 JWKs (the first signs, the second is published as the
    previous key); without them two keys are generated at start. `headless_login` lets a
    `login_hint` carrying a demo NIN sign in without pages (tests only). `otp_echo` prints each
    one-time code to the console and shows it on the sandbox banner.
    """

    issuer: str = "http://127.0.0.1:8001"
    environment: str = "development"
    clients: tuple[ClientRegistration, ...] = ()
    signing_keys: tuple[Mapping[str, Any], ...] = ()
    clock: Callable[[], dt.datetime] = utc_now
    otp_echo: bool = True
    headless_login: bool = False
    faults: IdpFaults = field(default_factory=IdpFaults)
    pairwise_secret: str = DEV_PAIRWISE_SECRET
    citizens_file: Path = CITIZENS_FILE
    code_ttl: int = 60
    id_token_ttl: int = 300
    access_token_ttl: int = 600
    session_ttl: int = 3600
    otp_ttl: int = 300
    sign_in_ttl: int = 900
    assertion_max_lifetime: int = 300
    accept_token_endpoint_audience: bool = True
    max_code_attempts: int = 5
    lockout_seconds: int = 900
    max_address_attempts: int = 30
    address_window_seconds: int = 900
    backchannel_timeout: float = 5.0
    http_timeout: float = 5.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "clients", tuple(self.clients))
        object.__setattr__(self, "signing_keys", tuple(self.signing_keys))
        environment_refuse(self.environment, SANDBOX)
        _absolute_url(self.issuer, "issuer")
        parts = urlsplit(self.issuer)
        if parts.query or self.issuer.endswith("/"):
            raise SandboxRefusedError("issuer must have no query and no trailing slash")
        ids = [client.client_id for client in self.clients]
        if len(ids) != len(set(ids)):
            raise SandboxRefusedError("two clients share a client_id")
        if self.code_ttl > 60:
            raise SandboxRefusedError("authorization codes live 60 seconds at most")
        if self.max_code_attempts < 1 or self.lockout_seconds < 1:
            raise SandboxRefusedError("max_code_attempts and lockout_seconds must be positive")

    def client(self, client_id: str) -> ClientRegistration | None:
        return next((c for c in self.clients if c.client_id == client_id), None)
