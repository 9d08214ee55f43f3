"""Access tokens of the sandbox bus: opaque random strings kept in memory with their expiry."""

from __future__ import annotations

import datetime as dt
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Issued:
    token: str
    expires_in: int


class TokenStore:
    """Issues tokens to clients and tells whose a token is while it lives."""

    def __init__(self, *, lifetime: int, clock: Callable[[], dt.datetime]) -> None:
        self._lifetime = lifetime
        self._clock = clock
        self._tokens: dict[str, tuple[str, dt.datetime]] = {}
        self._lock = threading.Lock()

    def issue(self, client_id: str) -> Issued:
        now = self._clock()
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._tokens = {k: v for k, v in self._tokens.items() if v[1] > now}
            self._tokens[token] = (client_id, now + dt.timedelta(seconds=self._lifetime))
        return Issued(token, self._lifetime)

    def client_of(self, token: str) -> str | None:
        """The client the token was issued to, or None when unknown or expired."""
        with self._lock:
            found = self._tokens.get(token)
        if found is None or found[1] <= self._clock():
            return None
        return found[0]

    def expire_all(self) -> None:
        """Every token issued so far expires now."""
        with self._lock:
            self._tokens.clear()
