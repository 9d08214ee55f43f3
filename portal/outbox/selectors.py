"""Reads of the outbox, for operators and for the domains that keep a projection in step."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import UnaryExpression, func
from sqlmodel import Session, col, select

from portal.outbox.models import OutboxEntry


@dataclass(frozen=True)
class Backlog:
    """What is left of some topics: rows that failed and wait for a retry, and dead ones."""

    waiting: int
    dead: int


def outbox_list(
    *, session: Session, dead: bool = False, limit: int = 100
) -> tuple[list[OutboxEntry], int]:
    """Pending rows by next attempt (or dead ones, most recent first), and how many there are."""
    first: UnaryExpression[Any]
    if dead:
        condition = col(OutboxEntry.dead_at).is_not(None)
        first = col(OutboxEntry.dead_at).desc()
    else:
        condition = col(OutboxEntry.dead_at).is_(None)
        first = col(OutboxEntry.available_at).asc()
    statement = select(OutboxEntry).where(condition).order_by(first, col(OutboxEntry.id))
    rows = session.exec(statement.limit(limit)).all()
    total = session.exec(select(func.count()).select_from(OutboxEntry).where(condition)).one()
    return list(rows), int(total)


def outbox_missing(*, session: Session, ids: Collection[int]) -> list[int]:
    """Those of `ids` that name no row."""
    wanted = set(ids)
    found = set(session.exec(select(OutboxEntry.id).where(col(OutboxEntry.id).in_(wanted))).all())
    return sorted(wanted - found)


def outbox_keys(*, session: Session, topics: Collection[str]) -> dict[int, tuple[str, str]]:
    """Every row of `topics`, pending or dead: its id, and the topic and key it is about."""
    statement = select(OutboxEntry.id, OutboxEntry.topic, OutboxEntry.key).where(
        col(OutboxEntry.topic).in_(list(topics))
    )
    return {
        entry_id: (topic, key)
        for entry_id, topic, key in session.exec(statement).all()
        if entry_id is not None
    }


def outbox_claimed(
    *, session: Session, topics: Collection[str], now: dt.datetime
) -> set[tuple[str, str]]:
    """The (topic, key) pairs a dispatcher is working on right now."""
    statement = select(OutboxEntry.topic, OutboxEntry.key).where(
        col(OutboxEntry.topic).in_(list(topics)),
        col(OutboxEntry.claimed_by).is_not(None),
        col(OutboxEntry.claimed_until) > now,
    )
    return {(topic, key) for topic, key in session.exec(statement).all()}


def outbox_backlog(*, session: Session, topics: Collection[str]) -> Backlog:
    """How many rows of `topics` failed and wait for a retry, and how many are dead."""
    of_topics = col(OutboxEntry.topic).in_(list(topics))
    waiting = session.exec(
        select(func.count())
        .select_from(OutboxEntry)
        .where(of_topics, col(OutboxEntry.dead_at).is_(None), col(OutboxEntry.attempts) > 0)
    ).one()
    dead = session.exec(
        select(func.count())
        .select_from(OutboxEntry)
        .where(of_topics, col(OutboxEntry.dead_at).is_not(None))
    ).one()
    return Backlog(waiting=int(waiting), dead=int(dead))
