"""The outbox: work for other systems, written in the same transaction as the change itself.

A domain that changes something others must hear about adds a row here instead of calling them.
After commit, a dispatcher applies the rows; a failure leaves the row with a later
`available_at` (exponential back-off), so nothing is lost while the other side is down.
"""

import datetime as dt

from sqlmodel import Field, Session, SQLModel, col, select

from portal import db  # noqa: F401  (applies the constraint naming convention first)

MAX_BACKOFF = dt.timedelta(minutes=10)


class OutboxEntry(SQLModel, table=True):
    __tablename__ = "outbox"

    id: int | None = Field(default=None, primary_key=True)
    topic: str = Field(max_length=40, index=True)
    key: str = Field(max_length=200)
    created_at: dt.datetime
    available_at: dt.datetime = Field(index=True)
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=500)


def outbox_add(*, session: Session, topic: str, key: str, now: dt.datetime) -> None:
    """Record that `key` changed, for whoever handles `topic`."""
    session.add(OutboxEntry(topic=topic, key=key, created_at=now, available_at=now))


def outbox_due(*, session: Session, topic: str, now: dt.datetime, limit: int) -> list[OutboxEntry]:
    """The oldest rows of a topic whose time has come; locked against other workers where the
    database can (PostgreSQL skips rows another worker holds)."""
    statement = (
        select(OutboxEntry)
        .where(OutboxEntry.topic == topic, col(OutboxEntry.available_at) <= now)
        .order_by(col(OutboxEntry.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(session.exec(statement).all())


def outbox_done(*, session: Session, entries: list[OutboxEntry]) -> None:
    for entry in entries:
        session.delete(entry)


def outbox_retry_later(
    *, session: Session, entries: list[OutboxEntry], error: str, now: dt.datetime
) -> None:
    """Keep the rows for another attempt after a back-off that doubles each time."""
    for entry in entries:
        entry.attempts += 1
        delay = min(dt.timedelta(seconds=2**entry.attempts), MAX_BACKOFF)
        entry.available_at = now + delay
        entry.last_error = error[:500]
        session.add(entry)


def outbox_clear_through(*, session: Session, topic: str, last_id: int) -> None:
    """Drop the rows a full rebuild has made redundant (those written before it read the data)."""
    for entry in session.exec(
        select(OutboxEntry).where(OutboxEntry.topic == topic, col(OutboxEntry.id) <= last_id)
    ).all():
        session.delete(entry)


def outbox_last_id(*, session: Session) -> int:
    last = session.exec(select(OutboxEntry.id).order_by(col(OutboxEntry.id).desc())).first()
    return last or 0
