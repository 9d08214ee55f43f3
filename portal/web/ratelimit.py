"""A simple per-client rate limit for forms that anyone may send.

Counts live in each worker's memory (a sliding window per client address), so the limit is per
worker process: enough to stop one client flooding a form, with nothing written anywhere. The
address is used only as a key in memory, never stored.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from fastapi import HTTPException, Request


class RateLimiter:
    """At most `limit` requests per `window` seconds from one client, per named action."""

    def __init__(
        self, *, limit: int, window: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._hits: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, action: str, client: str) -> bool:
        """Count one request; False when the client is over the limit."""
        now = self.clock()
        with self._lock:
            for key in [k for k, hits in self._hits.items() if hits[-1] <= now - self.window]:
                del self._hits[key]  # forget clients that went quiet, so memory stays small
            hits = self._hits.setdefault((action, client), deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return False
            hits.append(now)
            return True


def rate_limit(action: str) -> Callable[[Request], None]:
    """A dependency that answers 429 when this client sent `action` too often."""

    def check(request: Request) -> None:
        limiter: RateLimiter = request.app.state.rate_limiter
        client = request.client.host if request.client else "unknown"
        if not limiter.allow(action, client):
            raise HTTPException(status_code=429, headers={"Retry-After": str(int(limiter.window))})

    return check
