"""`portal outbox list|retry`: what an operator sees of the outbox, and how dead rows return."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.engine import Connection
from sqlmodel import Session, col, select

from portal.cli import main
from portal.config import Settings
from portal.db import unit_of_work
from portal.outbox.dispatcher import Clock, dispatch_drain, dispatch_one
from portal.outbox.models import OutboxEntry
from portal.outbox.services import MAX_ATTEMPTS

T0 = dt.datetime(2026, 11, 30, 8, 0, tzinfo=dt.UTC)
TOPIC = "test.commands"


def _at(moment: dt.datetime) -> Clock:
    """A clock stopped at `moment`."""
    return lambda: moment


def _add(db: Connection, *keys: str) -> list[int]:
    with unit_of_work(db) as session:
        entries = [OutboxEntry(topic=TOPIC, key=k, created_at=T0, available_at=T0) for k in keys]
        session.add_all(entries)
        session.flush()
        return [entry.id for entry in entries if entry.id is not None]


def _get(db: Connection, entry_id: int) -> OutboxEntry | None:
    with unit_of_work(db) as session:
        return session.get(OutboxEntry, entry_id)


class Flaky:
    """Fails for key "bad" until mended."""

    def __init__(self) -> None:
        self.mended = False
        self.applied: list[str] = []

    def __call__(self, *, session: Session, key: str) -> None:
        if key == "bad" and not self.mended:
            raise RuntimeError("the other side said no")
        self.applied.append(key)


def _kill(db: Connection, handler: Flaky) -> None:
    """Fail the row until it is a dead letter."""
    now = T0
    for _ in range(MAX_ATTEMPTS):
        assert dispatch_one(bind=db, handlers={TOPIC: handler}, clock=_at(now)) is not None
        with unit_of_work(db) as session:
            rows = session.exec(select(OutboxEntry).where(OutboxEntry.topic == TOPIC)).all()
            now = max(row.available_at for row in rows)


def _line(output: str, entry_id: int) -> str:
    [line] = [line for line in output.splitlines() if line.split()[:1] == [str(entry_id)]]
    return line


def test_a_dead_row_is_listed_then_retried_and_applied(
    db: Connection, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    [bad_id] = _add(db, "bad")
    handler = Flaky()
    _kill(db, handler)
    dead = _get(db, bad_id)
    assert dead is not None
    assert dead.dead_at is not None

    assert main(["outbox", "list", "--dead"], settings=settings, bind=db) == 0
    line = _line(capsys.readouterr().out, bad_id)
    assert line.split()[:3] == [str(bad_id), TOPIC, "bad"]
    assert str(MAX_ATTEMPTS) in line.split()
    assert "RuntimeError: the other side said no" in line
    assert main(["outbox", "list", "--limit", "100000"], settings=settings, bind=db) == 0
    assert str(bad_id) not in [line.split()[0] for line in capsys.readouterr().out.splitlines()]

    assert main(["outbox", "retry", str(bad_id)], settings=settings, bind=db) == 0
    assert "1 row(s) due now" in capsys.readouterr().out
    retried = _get(db, bad_id)
    assert retried is not None
    assert (retried.dead_at, retried.attempts) == (None, 0)
    assert main(["outbox", "list", "--limit", "100000"], settings=settings, bind=db) == 0
    assert _line(capsys.readouterr().out, bad_id).split()[:3] == [str(bad_id), TOPIC, "bad"]

    handler.mended = True
    report = dispatch_drain(bind=db, handlers={TOPIC: handler})
    assert report.applied == 1
    assert handler.applied == ["bad"]
    assert _get(db, bad_id) is None


def test_retry_all_dead_brings_every_dead_row_back(
    db: Connection, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = _add(db, "bad", "bad")
    _kill(db, Flaky())
    with unit_of_work(db) as session:
        statement = select(OutboxEntry).where(col(OutboxEntry.id).in_(ids))
        assert all(row.dead_at is not None for row in session.exec(statement))

    assert main(["outbox", "retry", "--all-dead"], settings=settings, bind=db) == 0
    assert "dead row(s) pending again" in capsys.readouterr().out
    with unit_of_work(db) as session:
        rows = session.exec(select(OutboxEntry).where(col(OutboxEntry.id).in_(ids))).all()
        assert all(row.dead_at is None and row.attempts == 0 for row in rows)
    handler = Flaky()
    handler.mended = True
    assert dispatch_drain(bind=db, handlers={TOPIC: handler}).applied == 2
    assert handler.applied == ["bad"]


def test_retry_of_an_unknown_row_changes_nothing(
    db: Connection, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    [entry_id] = _add(db, "some-key")
    with unit_of_work(db) as session:
        last = session.exec(select(OutboxEntry.id).order_by(col(OutboxEntry.id).desc())).first()
    missing = (last or 0) + 1000

    assert main(["outbox", "retry", str(entry_id), str(missing)], settings=settings, bind=db) == 1
    assert f"no row {missing}; nothing was changed" in capsys.readouterr().err
    entry = _get(db, entry_id)
    assert entry is not None
    assert entry.available_at == T0

    assert main(["outbox", "retry"], settings=settings, bind=db) == 2
