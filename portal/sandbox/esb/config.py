"""What the sandbox bus is told at start: its key, the registered clients, api and push codes,
lifetimes, the clock and the protocol switches. All frozen and checked when built."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from portal.bus.govesb.keys import PrivateKey, PublicKey, private_key_generate
from portal.sandbox.idp.config import utc_now
from portal.sandbox.serving import SandboxRefusedError, environment_refuse

SANDBOX = "the sandbox GovESB"

MAX_CODE_LENGTH = 64


def _url_check(value: str, what: str) -> None:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.fragment:
        raise SandboxRefusedError(f"{what} must be an absolute http(s) URL without a fragment")


def _code_check(code: str, what: str) -> None:
    if not code or len(code) > MAX_CODE_LENGTH or code != code.strip():
        raise SandboxRefusedError(f"{what} {code!r} must be 1-{MAX_CODE_LENGTH} characters")


@dataclass(frozen=True, kw_only=True)
class EsbClient:
    """An institution system registered on the bus. `api_codes` and `push_codes` are what it may
    call and push; `nida_user_id` lets it use /nida-request with that userId; results that a
    provider sends later to /async reach it at `callback_url`."""

    client_id: str
    client_secret: str = field(repr=False)
    public_key: PublicKey
    api_codes: tuple[str, ...] = ()
    push_codes: tuple[str, ...] = ()
    nida_user_id: str | None = None
    callback_url: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "api_codes", tuple(self.api_codes))
        object.__setattr__(self, "push_codes", tuple(self.push_codes))
        if not self.client_id or ":" in self.client_id:
            raise SandboxRefusedError("a client_id must be non-empty and free of ':'")
        if not self.client_secret:
            raise SandboxRefusedError(f"client {self.client_id!r} needs a client_secret")
        if self.nida_user_id == "":
            raise SandboxRefusedError(f"client {self.client_id!r}: nida_user_id is empty")
        if self.callback_url is not None:
            _url_check(self.callback_url, f"client {self.client_id!r}: callback_url")


@dataclass(frozen=True, kw_only=True)
class ApiCode:
    """A pull: requests with `code` are delivered to the system of client `provider` at `url`."""

    code: str
    provider: str
    url: str

    def __post_init__(self) -> None:
        _code_check(self.code, "api code")
        _url_check(self.url, f"api code {self.code!r}: url")


@dataclass(frozen=True, kw_only=True)
class PushCode:
    """A push: what client `publisher` pushes with `code` goes to each subscriber, in order, as
    (client_id, url)."""

    code: str
    publisher: str
    subscribers: tuple[tuple[str, str], ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "subscribers", tuple(tuple(s) for s in self.subscribers))
        _code_check(self.code, "push code")
        if not self.subscribers:
            raise SandboxRefusedError(f"push code {self.code!r} needs a subscriber")
        ids = [client_id for client_id, _url in self.subscribers]
        if len(ids) != len(set(ids)):
            raise SandboxRefusedError(f"push code {self.code!r} names a subscriber twice")
        for client_id, url in self.subscribers:
            _url_check(url, f"push code {self.code!r}: subscriber {client_id!r}")


@dataclass(frozen=True, kw_only=True)
class EsbConfig:
    """The sandbox bus's configuration. Times are in seconds.

    `private_key` signs everything the bus sends (a fresh secp256k1 key when not given).
    `lenient_bare_token` also accepts `Authorization: <token>` without "Bearer " (the old e-GA
    Java connector sends that); `strict_jackson` verifies a consumer's signature only over the
    compact re-serialisation of `data`, never over the raw text received.
    """

    environment: str = "development"
    private_key: PrivateKey = field(default_factory=private_key_generate, repr=False)
    clients: tuple[EsbClient, ...] = ()
    api_codes: tuple[ApiCode, ...] = ()
    push_codes: tuple[PushCode, ...] = ()
    token_lifetime: int = 3600
    provider_timeout: float = 10.0
    clock: Callable[[], dt.datetime] = utc_now
    lenient_bare_token: bool = False
    strict_jackson: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "clients", tuple(self.clients))
        object.__setattr__(self, "api_codes", tuple(self.api_codes))
        object.__setattr__(self, "push_codes", tuple(self.push_codes))
        environment_refuse(self.environment, SANDBOX)
        if self.token_lifetime < 1:
            raise SandboxRefusedError("token_lifetime must be at least one second")
        if self.provider_timeout <= 0:
            raise SandboxRefusedError("provider_timeout must be positive")
        self._unique([c.client_id for c in self.clients], "client_id")
        codes = [a.code for a in self.api_codes] + [p.code for p in self.push_codes]
        self._unique(codes, "code (api and push codes share one namespace)")
        for api in self.api_codes:
            self._known(api.provider, f"api code {api.code!r}: provider")
        for push in self.push_codes:
            self._known(push.publisher, f"push code {push.code!r}: publisher")
            for client_id, _url in push.subscribers:
                self._known(client_id, f"push code {push.code!r}: subscriber")
        for client in self.clients:
            for code in client.api_codes:
                if self.api_code(code) is None:
                    raise SandboxRefusedError(f"client {client.client_id!r}: no api code {code!r}")
            for code in client.push_codes:
                push_code = self.push_code(code)
                if push_code is None:
                    raise SandboxRefusedError(f"client {client.client_id!r}: no push code {code!r}")
                if push_code.publisher != client.client_id:
                    raise SandboxRefusedError(
                        f"client {client.client_id!r} lists push code {code!r},"
                        f" published by {push_code.publisher!r}"
                    )

    @staticmethod
    def _unique(values: list[str], what: str) -> None:
        if len(values) != len(set(values)):
            raise SandboxRefusedError(f"two registrations share a {what}")

    def _known(self, client_id: str, what: str) -> None:
        if self.client(client_id) is None:
            raise SandboxRefusedError(f"{what} {client_id!r} is not a registered client")

    def client(self, client_id: str) -> EsbClient | None:
        return next((c for c in self.clients if c.client_id == client_id), None)

    def api_code(self, code: str) -> ApiCode | None:
        return next((a for a in self.api_codes if a.code == code), None)

    def push_code(self, code: str) -> PushCode | None:
        return next((p for p in self.push_codes if p.code == code), None)
