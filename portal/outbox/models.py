"""The outbox table: one row per change that another system must see."""

import datetime as dt

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from portal import db  # noqa: F401  (applies the constraint naming convention first)


class OutboxEntry(SQLModel, table=True):
    """A change of `key` for whoever handles `topic`.

    Pending while `dead_at` is empty: due from `available_at`. A dispatcher working on it holds
    a claim (`claimed_by`, until `claimed_until`); a claim that outlives its dispatcher expires.
    """

    __tablename__ = "outbox"
    # Merging looks rows up by (topic, key); claiming by topic and time.
    __table_args__ = (Index("ix_outbox_topic_key", "topic", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    topic: str = Field(max_length=40)
    key: str = Field(max_length=200)
    created_at: dt.datetime
    available_at: dt.datetime = Field(index=True)
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=500)
    claimed_by: str | None = Field(default=None, max_length=32)
    claimed_until: dt.datetime | None = None
    dead_at: dt.datetime | None = None

    @property
    def dead(self) -> bool:
        return self.dead_at is not None
