"""The one outbox dispatcher: claims rows one by one and hands each to its topic's handler.

Each domain that consumes outbox rows gives a mapping of topic to handler (search gives
`portal.search.services.outbox_handlers`); the `portal` command combines them. A handler gets
the dispatcher's unit of work and one key, does the work, and raises on failure. Every row of
that topic and key that is pending is handled by the same call and deleted with it, so ten
edits of one service index it once.

A failure of any kind is logged with the topic, key and attempt, recorded on the rows, and the
dispatcher moves on: a bad row never blocks the others.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from sqlmodel import Session

from portal.db import Bind, unit_of_work
from portal.outbox import services as outbox_services

logger = logging.getLogger("portal.outbox")

Clock = Callable[[], dt.datetime]


class Handler(Protocol):
    """Does the work one key of a topic asks for; raises when it could not."""

    def __call__(self, *, session: Session, key: str) -> None: ...


Handlers = Mapping[str, Handler]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def handlers_combine(*groups: Handlers) -> dict[str, Handler]:
    """One registry from each domain's handlers; a topic claimed twice is a wiring error."""
    combined: dict[str, Handler] = {}
    for group in groups:
        for topic, handler in group.items():
            if topic in combined:
                raise ValueError(f"two handlers for outbox topic {topic!r}")
            combined[topic] = handler
    return combined


@dataclass(frozen=True)
class Outcome:
    """What became of one claimed topic and key: the rows it covered and, on failure, why."""

    topic: str
    key: str
    rows: int
    error: str | None = None
    dead: int = 0

    @property
    def ok(self) -> bool:
        return self.error is None


def _describe(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def dispatch_one(
    *, bind: Bind, handlers: Handlers, clock: Clock = utc_now, due_by: dt.datetime | None = None
) -> Outcome | None:
    """Claim the oldest row of the handlers' topics due by `due_by` (default: now), with the
    pending rows of the same key, and handle it; None when nothing is due. A handler's exception
    is caught, logged and recorded on the rows; only the dispatcher's own database failures
    propagate. The back-off counts from when the failure is known, however long it took."""
    token = secrets.token_hex(8)
    with unit_of_work(bind) as session:
        claimed = outbox_services.outbox_claim(
            session=session, topics=list(handlers), token=token, now=clock(), due_by=due_by
        )
        if not claimed:
            return None
        topic, key, count = claimed[0].topic, claimed[0].key, len(claimed)
    try:
        with unit_of_work(bind) as session:
            handlers[topic](session=session, key=key)
            outbox_services.outbox_done(session=session, token=token)
    except Exception as error:
        reason = _describe(error)
        with unit_of_work(bind) as session:
            entries = outbox_services.outbox_failed(
                session=session, token=token, error=reason, now=clock()
            )
        attempt = max((entry.attempts for entry in entries), default=0)
        dead = sum(1 for entry in entries if entry.dead)
        if dead:
            logger.error(
                "outbox: %s %r failed on attempt %d and is now a dead letter (%d row(s)): %s",
                topic, key, attempt, dead, reason, exc_info=error,
            )  # fmt: skip
        else:
            logger.warning(
                "outbox: %s %r failed on attempt %d of %d, retried later: %s",
                topic, key, attempt, outbox_services.MAX_ATTEMPTS, reason,
                exc_info=error if attempt <= 1 else None,
            )  # fmt: skip
        return Outcome(topic=topic, key=key, rows=count, error=reason, dead=dead)
    return Outcome(topic=topic, key=key, rows=count)


@dataclass(frozen=True)
class DrainReport:
    """One pass over the rows that were due: how many were applied, failed, went dead."""

    applied: int = 0
    failed: int = 0
    dead: int = 0


def dispatch_drain(*, bind: Bind, handlers: Handlers, clock: Clock = utc_now) -> DrainReport:
    """Handle every row of the handlers' topics that is due when this starts, each at most
    once: a row that fails waits for its back-off, after this pass."""
    start = clock()
    applied = failed = dead = 0
    while outcome := dispatch_one(bind=bind, handlers=handlers, clock=clock, due_by=start):
        if outcome.ok:
            applied += outcome.rows
        else:
            failed += outcome.rows
            dead += outcome.dead
    return DrainReport(applied=applied, failed=failed, dead=dead)


class Stop:
    """A stop request that a signal handler may set: it only flips a flag."""

    def __init__(self) -> None:
        self.reason: str | None = None

    def set(self, reason: str = "stop requested") -> None:
        self.reason = reason

    def is_set(self) -> bool:
        return self.reason is not None

    def wait(self, seconds: float) -> None:
        """Sleep up to `seconds`, waking soon after a stop request."""
        deadline = time.monotonic() + seconds
        while not self.is_set() and (left := deadline - time.monotonic()) > 0:
            time.sleep(min(left, 0.1))


def dispatcher_run(
    *,
    bind: Bind,
    handlers: Handlers,
    stop: Stop,
    idle_seconds: float = 2.0,
    clock: Clock = utc_now,
    iterations: int | None = None,
) -> None:
    """Dispatch until `stop` is set (or after `iterations` rounds): one row per round, sleeping
    when nothing is due. Whatever fails, it logs and keeps going; a stop request lets the row
    in hand finish first."""
    logger.info("outbox: dispatching %s", ", ".join(sorted(handlers)) or "nothing")
    rounds = 0
    while not stop.is_set() and (iterations is None or rounds < iterations):
        rounds += 1
        try:
            outcome = dispatch_one(bind=bind, handlers=handlers, clock=clock)
        except Exception:  # the database itself: wait and try again, never die
            logger.exception("outbox: dispatching failed; trying again in %g s", idle_seconds)
            outcome = None
        if outcome is None:
            stop.wait(idle_seconds)
    logger.info("outbox: stopped (%s)", stop.reason or f"after {rounds} round(s)")
