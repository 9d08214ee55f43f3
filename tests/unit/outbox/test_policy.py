"""The dispatcher's rules that need no database: back-off, the registry, stop requests."""

from __future__ import annotations

import datetime as dt
import itertools
import time

import pytest
from sqlmodel import Session

from portal.outbox.dispatcher import Stop, handlers_combine
from portal.outbox.services import FIRST_BACKOFF, MAX_ATTEMPTS, MAX_BACKOFF, backoff


def _handler(*, session: Session, key: str) -> None:
    """Does nothing."""


def test_the_backoff_doubles_with_each_attempt_up_to_a_cap() -> None:
    delays = [backoff(attempt) for attempt in range(1, 12)]
    assert delays[0] == FIRST_BACKOFF
    pairs = itertools.pairwise(delays)
    assert all(later == min(2 * earlier, MAX_BACKOFF) for earlier, later in pairs)
    assert delays[-1] == MAX_BACKOFF
    assert backoff(0) == FIRST_BACKOFF


def test_every_wait_before_the_dead_letter_adds_up_to_about_an_hour() -> None:
    total = sum((backoff(attempt) for attempt in range(1, MAX_ATTEMPTS)), dt.timedelta())
    assert dt.timedelta(minutes=45) <= total <= dt.timedelta(hours=2)


def test_the_registry_refuses_two_handlers_for_one_topic() -> None:
    combined = handlers_combine({"a.one": _handler}, {"b.one": _handler})
    assert sorted(combined) == ["a.one", "b.one"]
    with pytest.raises(ValueError, match=r"a\.one"):
        handlers_combine({"a.one": _handler}, {"a.one": _handler})


def test_a_stop_request_ends_a_wait_early() -> None:
    stop = Stop()
    assert not stop.is_set()
    started = time.monotonic()
    stop.wait(0.05)
    assert time.monotonic() - started >= 0.05
    stop.set("SIGTERM")
    started = time.monotonic()
    stop.wait(30)
    assert time.monotonic() - started < 1
    assert stop.reason == "SIGTERM"
