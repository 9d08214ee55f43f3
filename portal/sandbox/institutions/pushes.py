"""Status pushes to the portal through the bus, under the institution's push code.

A status change is tried at once; a push the bus does not take (unreachable, refused, a
failure answer) stays pending and a small background thread tries it again with back-off.
An application's pushes go in order: a later one waits behind an earlier one still pending.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from portal.bus.govesb.client import BusError, GovesbClient
from portal.sandbox.institutions.config import InstitutionConfig
from portal.sandbox.institutions.store import InstitutionStore

logger = logging.getLogger("portal.sandbox.institutions")

# How long the retry thread sleeps at most, and at least, between two looks at what is due.
_LONGEST_PAUSE = 1.0
_SHORTEST_PAUSE = 0.02


class StatusPusher:
    def __init__(
        self,
        *,
        config: InstitutionConfig,
        store: InstitutionStore,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._config = config
        self._store = store
        self._monotonic = monotonic
        self._client: GovesbClient | None = None
        # One delivery run at a time: the retry thread and a request never push side by side.
        self._send_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Open the bus client and start the retry thread."""
        with self._send_lock:
            self._client = GovesbClient(self._config.bus)
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, name=f"{self._config.slug}-status-pushes", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop the retry thread (after the push in flight, if any) and close the client."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self._config.bus.timeout + 5)
            self._thread = None
        with self._send_lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    def deliver(self, reference: str, *, due_only: bool = False) -> None:
        """Push the application's undelivered status changes, oldest first, until one fails.
        With `due_only`, only if the oldest is due for another try."""
        with self._send_lock:
            client = self._client
            if client is None:
                return  # not started: the pushes wait for the retry thread
            while (
                body := self._store.push_next(reference, now=self._monotonic(), due_only=due_only)
            ) is not None:
                sequence: int = body["sequence"]
                started = self._monotonic()
                try:
                    reply = client.push(self._config.push_code, body)
                except BusError as error:
                    self._failed(reference, sequence, error.reason, started)
                    return
                if not reply.success:
                    self._failed(reference, sequence, f"refused: {reply.message}", started)
                    return
                self._store.push_delivered(reference, sequence)
                logger.info(
                    "status push %s %s #%d delivered in %.0f ms",
                    self._config.push_code,
                    reference,
                    sequence,
                    (self._monotonic() - started) * 1000,
                )
                due_only = False

    def _failed(self, reference: str, sequence: int, error: str, started: float) -> None:
        self._store.push_failed(reference, sequence, error=error, now=self._monotonic())
        logger.warning(
            "status push %s %s #%d not delivered (%s) after %.0f ms; kept for a retry",
            self._config.push_code,
            reference,
            sequence,
            error,
            (self._monotonic() - started) * 1000,
        )

    def _pause(self) -> float:
        due, later = self._store.pushes_due(now=self._monotonic())
        if due:
            return _SHORTEST_PAUSE
        if later is None:
            return _LONGEST_PAUSE
        return min(max(later - self._monotonic(), _SHORTEST_PAUSE), _LONGEST_PAUSE)

    def _run(self) -> None:
        while not self._stop.wait(self._pause()):
            try:
                due, _later = self._store.pushes_due(now=self._monotonic())
                for reference in due:
                    if self._stop.is_set():
                        return
                    self.deliver(reference, due_only=True)
            except Exception as error:  # the thread must outlive any one bad run
                logger.error("status push run failed: %s", type(error).__name__)
                self._stop.wait(_LONGEST_PAUSE)
