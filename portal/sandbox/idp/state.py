"""The provider's memory: sign-ins under way, sessions, codes, tokens, replay and abuse counters.

It lives in this process only and is gone on restart, which is what a sandbox wants. One lock
guards it all; every operation is short.
"""

from __future__ import annotations

import datetime as dt
import secrets
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from portal.sandbox.idp.protocol import AuthorizationRequest


@dataclass(kw_only=True)
class SignIn:
    """One authorization request waiting for the citizen, bound to the browser that began it."""

    id: str
    request: AuthorizationRequest
    browser: str
    language: str
    expires_at: dt.datetime
    nin: str | None = None
    code: str | None = None  # the one-time code sent
    code_expires_at: dt.datetime | None = None
    # Set once the citizen has authenticated within this sign-in (or an SSO session is used).
    session_id: str | None = None
    allowed_claims: frozenset[str] | None = None


@dataclass(kw_only=True)
class Session:
    """The citizen's session at the provider (OIDC `sid`), shared by the clients it served."""

    id: str
    nin: str
    auth_time: dt.datetime
    acr: str
    amr: tuple[str, ...]
    expires_at: dt.datetime
    clients: set[str] = field(default_factory=set)


@dataclass(kw_only=True)
class CodeGrant:
    """An authorization code and everything it is bound to."""

    client_id: str
    redirect_uri: str
    code_challenge: str
    nonce: str
    session_id: str
    nin: str
    scope: tuple[str, ...]
    request: AuthorizationRequest
    allowed_claims: frozenset[str] | None
    auth_time: dt.datetime
    acr: str
    amr: tuple[str, ...]
    expires_at: dt.datetime
    used: bool = False
    access_tokens: list[str] = field(default_factory=list)


@dataclass(kw_only=True)
class AccessGrant:
    client_id: str
    nin: str
    session_id: str
    scope: tuple[str, ...]
    request: AuthorizationRequest
    allowed_claims: frozenset[str] | None
    expires_at: dt.datetime


@dataclass
class Attempts:
    failures: int = 0
    locked_until: dt.datetime | None = None


def token_new() -> str:
    return secrets.token_urlsafe(32)


class Memory:
    """Every record, by key. Call methods inside `locked()` when a change depends on a read."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.sign_ins: dict[str, SignIn] = {}
        self.sessions: dict[str, Session] = {}
        self.browsers: dict[str, str] = {}  # browser id → session id
        self.codes: dict[str, CodeGrant] = {}
        self.access_tokens: dict[str, AccessGrant] = {}
        self.assertion_ids: dict[tuple[str, str], dt.datetime] = {}
        self.nin_attempts: dict[str, Attempts] = {}
        self.address_failures: dict[str, deque[dt.datetime]] = {}

    @contextmanager
    def locked(self) -> Iterator[None]:
        with self._lock:
            yield

    def sweep(self, now: dt.datetime) -> None:
        """Forget what has expired, so a long-running sandbox does not grow."""
        with self._lock:
            for store in (self.sign_ins, self.sessions, self.access_tokens):
                for key in [k for k, v in store.items() if v.expires_at <= now]:
                    del store[key]
            # A used code is kept a while past its expiry so that a replay is still recognised.
            for key in [
                k for k, v in self.codes.items() if v.expires_at + dt.timedelta(hours=1) <= now
            ]:
                del self.codes[key]
            for replay in [k for k, v in self.assertion_ids.items() if v <= now]:
                del self.assertion_ids[replay]
            for browser in [b for b, s in self.browsers.items() if s not in self.sessions]:
                del self.browsers[browser]

    def session_of_browser(self, browser: str | None, now: dt.datetime) -> Session | None:
        with self._lock:
            session_id = self.browsers.get(browser) if browser else None
            session = self.sessions.get(session_id) if session_id else None
            if session is None or session.expires_at <= now:
                return None
            return session
