"""The dispatcher on the real database: one row at a time, merged by key, retried, dead-lettered,
and safe with several dispatchers at once. Each test uses topics of its own."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator

import pytest
from sqlalchemy import delete
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, select

from portal.db import Bind, unit_of_work
from portal.outbox import services as outbox_services
from portal.outbox.dispatcher import Clock, Stop, dispatch_drain, dispatch_one, dispatcher_run
from portal.outbox.models import OutboxEntry
from portal.outbox.services import MAX_ATTEMPTS, backoff

T0 = dt.datetime(2026, 11, 30, 8, 0, tzinfo=dt.UTC)
TOPIC = "test.dispatch"


def _at(moment: dt.datetime) -> Clock:
    """A clock stopped at `moment`."""
    return lambda: moment


class Recorder:
    """A handler that remembers each key it was given and fails for the keys in `broken`."""

    def __init__(self, *broken: str, error: type[Exception] = RuntimeError) -> None:
        self.keys: list[str] = []
        self.broken = set(broken)
        self.error = error

    def __call__(self, *, session: Session, key: str) -> None:
        self.keys.append(key)
        if key in self.broken:
            raise self.error(f"cannot handle {key}")


def _add(bind: Bind, *keys: str, topic: str = TOPIC, now: dt.datetime = T0) -> list[int]:
    with unit_of_work(bind) as session:
        entries = [
            OutboxEntry(topic=topic, key=key, created_at=now, available_at=now) for key in keys
        ]
        session.add_all(entries)
        session.flush()
        return [entry.id for entry in entries if entry.id is not None]


def _rows(bind: Bind, topic: str = TOPIC) -> list[OutboxEntry]:
    with unit_of_work(bind) as session:
        statement = select(OutboxEntry).where(OutboxEntry.topic == topic)
        return list(session.exec(statement.order_by(col(OutboxEntry.id))).all())


def test_a_bad_row_does_not_block_the_ones_after_it(db: Connection) -> None:
    _add(db, "bad", "good-1", "good-2")
    handler = Recorder("bad")

    report = dispatch_drain(bind=db, handlers={TOPIC: handler}, clock=_at(T0))

    assert handler.keys == ["bad", "good-1", "good-2"]
    assert (report.applied, report.failed, report.dead) == (2, 1, 0)
    [bad] = _rows(db)
    assert bad.key == "bad"
    assert bad.attempts == 1
    assert bad.available_at == T0 + backoff(1)
    assert bad.last_error == "RuntimeError: cannot handle bad"
    assert bad.claimed_by is None
    assert bad.dead_at is None


def test_a_failing_row_backs_off_doubling_then_goes_dead_at_the_cap(db: Connection) -> None:
    [bad_id] = _add(db, "bad")
    handler = Recorder("bad")
    now = T0
    waits = []
    for attempt in range(1, MAX_ATTEMPTS + 1):
        # Not due a moment before its time, due at it.
        early = now - dt.timedelta(seconds=1)
        assert dispatch_one(bind=db, handlers={TOPIC: handler}, clock=_at(early)) is None
        outcome = dispatch_one(bind=db, handlers={TOPIC: handler}, clock=_at(now))
        assert outcome is not None
        assert not outcome.ok
        [row] = _rows(db)
        assert row.attempts == attempt
        if attempt < MAX_ATTEMPTS:
            assert outcome.dead == 0
            waits.append(row.available_at - now)
            now = row.available_at
    assert outcome.dead == 1
    assert waits == [backoff(attempt) for attempt in range(1, MAX_ATTEMPTS)]
    assert waits[1] == 2 * waits[0]
    assert row.id == bad_id
    assert row.dead_at == now
    assert row.last_error == "RuntimeError: cannot handle bad"
    # A dead letter is kept, and no longer attempted.
    later = now + dt.timedelta(days=30)
    assert dispatch_one(bind=db, handlers={TOPIC: handler}, clock=_at(later)) is None
    assert len(handler.keys) == MAX_ATTEMPTS


def test_the_backoff_counts_from_when_the_failure_is_known(db: Connection) -> None:
    _add(db, "slow")
    slow = T0 + dt.timedelta(minutes=10)  # the engine took ten minutes to say no
    moments = iter([T0, slow])
    dispatch_one(bind=db, handlers={TOPIC: Recorder("slow")}, clock=lambda: next(moments))
    [row] = _rows(db)
    assert row.available_at == slow + backoff(1)


def test_rows_for_one_key_are_handled_once_and_all_go(db: Connection) -> None:
    _add(db, "k", "j", "k", "k", "k", "k")
    handler = Recorder()

    report = dispatch_drain(bind=db, handlers={TOPIC: handler}, clock=_at(T0))

    assert handler.keys == ["k", "j"]
    assert report.applied == 6
    assert _rows(db) == []


def test_rows_of_one_key_share_the_fate_of_its_handling(db: Connection) -> None:
    _add(db, "k", "k", "k")
    dispatch_drain(bind=db, handlers={TOPIC: Recorder("k")}, clock=_at(T0))
    rows = _rows(db)
    assert [(row.attempts, row.available_at) for row in rows] == [(1, T0 + backoff(1))] * 3


def test_an_edit_of_a_key_that_waits_brings_its_older_rows_along(db: Connection) -> None:
    _add(db, "k")
    dispatch_drain(bind=db, handlers={TOPIC: Recorder("k")}, clock=_at(T0))
    soon = T0 + dt.timedelta(seconds=1)  # before the first row's retry is due
    _add(db, "k", now=soon)
    handler = Recorder()

    report = dispatch_drain(bind=db, handlers={TOPIC: handler}, clock=_at(soon))

    assert (handler.keys, report.applied) == (["k"], 2)
    assert _rows(db) == []


def test_only_the_topics_given_are_dispatched(db: Connection) -> None:
    other = "test.not-mine"
    _add(db, "x", topic=other)
    assert dispatch_drain(bind=db, handlers={TOPIC: Recorder()}, clock=_at(T0)).applied == 0
    assert [row.key for row in _rows(db, other)] == ["x"]


def test_a_row_another_dispatcher_holds_is_left_alone(db: Connection) -> None:
    _add(db, "held")
    with unit_of_work(db) as session:
        claimed = outbox_services.outbox_claim(
            session=session, topics=[TOPIC], token="other-worker", now=T0
        )
    assert [entry.key for entry in claimed] == ["held"]
    handler = Recorder()
    assert dispatch_one(bind=db, handlers={TOPIC: handler}, clock=_at(T0)) is None
    # A claim whose dispatcher died expires, and the row is handled after all.
    expired = T0 + outbox_services.CLAIM_FOR
    assert dispatch_one(bind=db, handlers={TOPIC: handler}, clock=_at(expired)) is not None
    assert handler.keys == ["held"]
    assert _rows(db) == []


def test_a_failing_handler_never_stops_the_worker_loop(
    db: Connection, caplog: pytest.LogCaptureFixture
) -> None:
    _add(db, "boom", "fine", "key-error", "fine-too")
    handler = Recorder("boom")

    def handle(*, session: Session, key: str) -> None:
        if key == "key-error":
            raise KeyError(key)
        handler(session=session, key=key)

    with caplog.at_level(logging.WARNING, logger="portal.outbox"):
        dispatcher_run(bind=db, handlers={TOPIC: handle}, stop=Stop(), idle_seconds=0, iterations=6)

    assert handler.keys == ["boom", "fine", "fine-too"]
    assert sorted(row.key for row in _rows(db)) == ["boom", "key-error"]
    messages = [record.getMessage() for record in caplog.records]
    assert any(f"{TOPIC} 'boom' failed on attempt 1 of {MAX_ATTEMPTS}" in m for m in messages)
    assert any("'key-error'" in m and "KeyError" in m for m in messages)


def test_the_worker_loop_survives_the_database_failing(
    db: Connection, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    _add(db, "after")
    handler = Recorder()
    claim = outbox_services.outbox_claim
    failures = iter([True])

    def flaky_claim(**kwargs: object) -> list[OutboxEntry]:
        if next(failures, False):
            raise OperationalError("SELECT", {}, Exception("server closed the connection"))
        return claim(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(outbox_services, "outbox_claim", flaky_claim)
    with caplog.at_level(logging.ERROR, logger="portal.outbox"):
        dispatcher_run(
            bind=db,
            handlers={TOPIC: handler},
            stop=Stop(),
            idle_seconds=0,
            clock=_at(T0),
            iterations=3,
        )
    assert handler.keys == ["after"]
    assert any("dispatching failed" in record.getMessage() for record in caplog.records)


def test_a_stop_request_lets_the_row_in_hand_finish_then_ends_the_loop(db: Connection) -> None:
    _add(db, "first", "second")
    stop = Stop()
    handled: list[str] = []

    def handle(*, session: Session, key: str) -> None:
        stop.set("SIGTERM")  # as the signal handler does, while this row is being handled
        handled.append(key)

    dispatcher_run(bind=db, handlers={TOPIC: handle}, stop=stop, idle_seconds=0, clock=_at(T0))

    assert handled == ["first"]
    assert [row.key for row in _rows(db)] == ["second"]


# -- two dispatchers at once: committed rows, seen by two connections ------------------------


@pytest.fixture
def shared_topic(engine: Engine) -> Iterator[str]:
    """A topic no other test uses; its rows are deleted afterwards, whatever happened."""
    topic = f"test.concurrent.{uuid.uuid4().hex[:8]}"
    try:
        yield topic
    finally:
        with unit_of_work(engine) as session:
            session.exec(delete(OutboxEntry).where(col(OutboxEntry.topic) == topic))


def test_two_dispatchers_at_once_handle_every_row_exactly_once(
    engine: Engine, shared_topic: str
) -> None:
    keys = [f"key-{number:03}" for number in range(60)]
    now = dt.datetime.now(dt.UTC)
    _add(engine, *keys, topic=shared_topic, now=now)
    seen: list[tuple[str, int]] = []
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def handle(*, session: Session, key: str) -> None:
        seen.append((key, threading.get_ident()))
        time.sleep(0.002)  # long enough for the other dispatcher to reach for the same rows

    def dispatcher() -> None:
        try:
            with engine.connect() as connection:
                start.wait(timeout=10)
                dispatch_drain(bind=connection, handlers={shared_topic: handle})
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=dispatcher) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert Counter(key for key, _ in seen) == Counter(keys)
    assert _rows(engine, shared_topic) == []
