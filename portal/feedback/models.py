"""Feedback as kept for curators: the page it came from and the scrubbed words, nothing about
the person (no address, no cookie, no account)."""

import datetime as dt

from sqlmodel import Field, SQLModel

from portal import db  # noqa: F401  (applies the constraint naming convention first)

COMMENT_MAX = 1200


class Feedback(SQLModel, table=True):
    __tablename__ = "feedback"

    id: int | None = Field(default=None, primary_key=True)
    # Random, so the thank-you page can take a follow-up comment for this answer only.
    reference: str = Field(max_length=32, unique=True)
    kind: str = Field(max_length=20, index=True)  # useful, problem, contact
    page: str = Field(max_length=300, index=True)
    useful: bool | None = None
    reason: str | None = Field(default=None, max_length=30)
    comment: str | None = Field(default=None, max_length=COMMENT_MAX)
    language: str = Field(max_length=5)
    created_at: dt.datetime = Field(index=True)
    handled_at: dt.datetime | None = None
