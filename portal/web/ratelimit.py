"""A simple per-client rate limit for what anyone may send: forms, sign-in and sign-out.

Counts live in each worker's memory (a sliding window per client address and action), so the
limit is per worker process: enough to stop one client flooding a form, with nothing written
anywhere. The address is used only as a key in memory, never stored.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Mapping

from fastapi import HTTPException, Request

Limit = tuple[int, float]  # at most this many requests in this many seconds


class RateLimiter:
    """Per named action, at most `limit` requests in `window` seconds from one client."""

    def __init__(
        self, limits: Mapping[str, Limit], *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limits = dict(limits)
        self.clock = clock
        self._hits: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, action: str, client: str) -> bool:
        """Count one request; False when the client is over the action's limit."""
        limit, window = self.limits[action]
        now = self.clock()
        with self._lock:
            for key in [k for k, hits in self._hits.items() if hits[-1] <= now - window]:
                del self._hits[key]  # forget clients that went quiet, so memory stays small
            hits = self._hits.setdefault((action, client), deque())
            while hits and hits[0] <= now - window:
                hits.popleft()
            if len(hits) >= limit:
                return False
            hits.append(now)
            return True


def rate_limit(action: str) -> Callable[[Request], None]:
    """A dependency that answers 429 when this client sent `action` too often."""

    def check(request: Request) -> None:
        limiter: RateLimiter = request.app.state.rate_limiter
        client = request.client.host if request.client else "unknown"
        if not limiter.allow(action, client):
            window = int(limiter.limits[action][1])
            raise HTTPException(status_code=429, headers={"Retry-After": str(window)})

    return check
