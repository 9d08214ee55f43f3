"""Writes to the outbox: adding rows, claiming them, and recording how handling went.

Claims are leases: a dispatcher marks the rows it takes with a token of its own until a deadline,
in a short transaction of its own, then handles them outside it. The mark is a compare-and-set
(only a row nobody holds is taken), so two dispatchers never take the same row; on PostgreSQL
the candidate is also read with `FOR UPDATE SKIP LOCKED`, so that claimers never wait for each
other. On SQLite the database's single writer makes the compare-and-set atomic.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Iterator

from sqlalchemy import ColumnElement, delete, or_, update
from sqlmodel import Session, col, select

from portal.outbox.models import OutboxEntry

MAX_ATTEMPTS = 8  # the attempt that fails for the eighth time makes the row a dead letter
FIRST_BACKOFF = dt.timedelta(seconds=30)  # then 1, 2, 4, ... minutes: about an hour in all
MAX_BACKOFF = dt.timedelta(hours=1)
CLAIM_FOR = dt.timedelta(minutes=15)  # longer than any handler may take (engine timeouts)
ERROR_LENGTH = 500
_CHUNK = 500  # ids per `IN (...)`, well below every database's limit on parameters


def backoff(attempts: int) -> dt.timedelta:
    """How long a row waits after its `attempts`-th failure: doubling, capped."""
    return min(FIRST_BACKOFF * 2 ** max(attempts - 1, 0), MAX_BACKOFF)


def _chunks(ids: Iterable[int]) -> Iterator[list[int]]:
    ordered = sorted(set(ids))
    for start in range(0, len(ordered), _CHUNK):
        yield ordered[start : start + _CHUNK]


def _unclaimed(now: dt.datetime) -> ColumnElement[bool]:
    return or_(col(OutboxEntry.claimed_until).is_(None), col(OutboxEntry.claimed_until) <= now)


def outbox_add(*, session: Session, topic: str, key: str, now: dt.datetime) -> None:
    """Record that `key` changed, for whoever handles `topic`."""
    session.add(OutboxEntry(topic=topic, key=key, created_at=now, available_at=now))


def outbox_claim(
    *,
    session: Session,
    topics: Collection[str],
    token: str,
    now: dt.datetime,
    due_by: dt.datetime | None = None,
) -> list[OutboxEntry]:
    """Claim the oldest row of `topics` due by `due_by` (default `now`) that nobody holds,
    with every other pending row of its topic and key that nobody holds (they all ask for the
    same work). Returns them oldest first, or [] when nothing is due. Commit straight after."""
    if not topics:
        return []
    due_by = now if due_by is None else due_by
    until = now + CLAIM_FOR
    candidate = (
        select(OutboxEntry.id, OutboxEntry.topic, OutboxEntry.key)
        .where(
            col(OutboxEntry.topic).in_(list(topics)),
            col(OutboxEntry.dead_at).is_(None),
            col(OutboxEntry.available_at) <= due_by,
            _unclaimed(now),
        )
        .order_by(col(OutboxEntry.id))
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    while True:
        row = session.exec(candidate).first()
        if row is None:
            return []
        first_id, topic, key = row
        taken = session.exec(
            update(OutboxEntry)
            .where(col(OutboxEntry.id) == first_id, _unclaimed(now))
            .values(claimed_by=token, claimed_until=until)
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount == 1:
            break
        # Another dispatcher took it between the read and the write: look again.
    same_work = (
        select(OutboxEntry.id)
        .where(
            OutboxEntry.topic == topic,
            OutboxEntry.key == key,
            col(OutboxEntry.dead_at).is_(None),
            col(OutboxEntry.id) != first_id,
            _unclaimed(now),
        )
        .with_for_update(skip_locked=True)
    )
    others = [entry_id for entry_id in session.exec(same_work).all() if entry_id is not None]
    for chunk in _chunks(others):
        session.exec(
            update(OutboxEntry)
            .where(col(OutboxEntry.id).in_(chunk), _unclaimed(now))
            .values(claimed_by=token, claimed_until=until)
            .execution_options(synchronize_session=False)
        )
    claimed = select(OutboxEntry).where(OutboxEntry.claimed_by == token)
    return list(
        session.exec(
            claimed.order_by(col(OutboxEntry.id)).execution_options(populate_existing=True)
        ).all()
    )


def outbox_done(*, session: Session, token: str) -> int:
    """Delete the rows held under `token` (their work is done); returns how many."""
    result = session.exec(
        delete(OutboxEntry)
        .where(col(OutboxEntry.claimed_by) == token)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)


def outbox_failed(
    *, session: Session, token: str, error: str, now: dt.datetime
) -> list[OutboxEntry]:
    """Release the rows held under `token` after a failure: each waits a back-off that doubles
    with its attempts, or becomes a dead letter at `MAX_ATTEMPTS`. Returns the rows."""
    entries = list(
        session.exec(
            select(OutboxEntry)
            .where(OutboxEntry.claimed_by == token)
            .order_by(col(OutboxEntry.id))
            .execution_options(populate_existing=True)
        ).all()
    )
    for entry in entries:
        entry.attempts += 1
        entry.last_error = error[:ERROR_LENGTH]
        entry.claimed_by = None
        entry.claimed_until = None
        if entry.attempts >= MAX_ATTEMPTS:
            entry.dead_at = now
        else:
            entry.available_at = now + backoff(entry.attempts)
        session.add(entry)
    session.flush()
    return entries


def outbox_retry(*, session: Session, ids: Collection[int], now: dt.datetime) -> list[int]:
    """Make the rows `ids` due now; a dead one becomes pending again with its attempts reset.
    A row a dispatcher holds keeps its claim. Returns the ids that exist."""
    found: list[int] = []
    for chunk in _chunks(ids):
        for entry in session.exec(select(OutboxEntry).where(col(OutboxEntry.id).in_(chunk))):
            if entry.dead_at is not None:
                entry.dead_at = None
                entry.attempts = 0
            entry.available_at = now
            session.add(entry)
            assert entry.id is not None
            found.append(entry.id)
    session.flush()
    return sorted(found)


def outbox_retry_dead(*, session: Session, now: dt.datetime) -> int:
    """Every dead row back to pending, due now, attempts reset; returns how many."""
    result = session.exec(
        update(OutboxEntry)
        .where(col(OutboxEntry.dead_at).is_not(None))
        .values(dead_at=None, attempts=0, available_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)


def outbox_delete(*, session: Session, ids: Collection[int]) -> int:
    """Delete exactly the rows `ids` (ones already gone are ignored); returns how many."""
    deleted = 0
    for chunk in _chunks(ids):
        result = session.exec(
            delete(OutboxEntry)
            .where(col(OutboxEntry.id).in_(chunk))
            .execution_options(synchronize_session=False)
        )
        deleted += int(result.rowcount)
    return deleted
