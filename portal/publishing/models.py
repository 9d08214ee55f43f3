"""Tables of publishing: drafts of service records, the published revisions, review notes.

A draft holds a whole service record as the catalogue's seed shape (`ServiceIn` as JSON), filled
in part by part; it is checked whole when submitted. Editing a published service makes a draft
from its current record; the published version stays live until a curator approves the draft.
Every approval keeps the record it published as a numbered revision.

SQLModel resolves relationship annotations at class creation, so this module does not use
`from __future__ import annotations`.
"""

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel, UniqueConstraint

from portal import db  # noqa: F401  (applies the constraint naming convention first)

EDITING = "editing"  # the publisher is working on it
SUBMITTED = "submitted"  # waiting in the review queue
RETURNED = "returned"  # sent back by a curator, with a note
PUBLISHED = "published"  # approved: its record is live and kept as a revision
DISCARDED = "discarded"  # given up by the publisher
OPEN_STATES = (EDITING, SUBMITTED, RETURNED)


class Draft(SQLModel, table=True):
    __tablename__ = "service_draft"

    id: int | None = Field(default=None, primary_key=True)
    institution_id: int = Field(foreign_key="institution.id", index=True)
    service_id: int | None = Field(default=None, foreign_key="service.id", index=True)
    slug: str = Field(max_length=80, index=True)  # of the service it makes or changes
    record: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    state: str = Field(max_length=20, index=True)
    version: int = 1  # rises with every change: a review of an older version is refused
    base_revision: int | None = None  # the service's revision this draft started from
    change_note: str = Field(default="", max_length=500)
    created_by: int | None = Field(default=None, foreign_key="user_account.id")
    updated_by: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: dt.datetime
    updated_at: dt.datetime
    submitted_at: dt.datetime | None = Field(default=None, index=True)


class Revision(SQLModel, table=True):
    """A published version of a service record, kept for comparison and for the record."""

    __tablename__ = "service_revision"
    __table_args__ = (UniqueConstraint("service_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    service_id: int = Field(foreign_key="service.id", index=True)
    number: int
    record: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    change_note: str = Field(default="", max_length=500)
    draft_id: int | None = Field(default=None, foreign_key="service_draft.id")
    published_by: int | None = Field(default=None, foreign_key="user_account.id")
    published_by_name: str = Field(max_length=200)
    published_at: dt.datetime


class ReviewNote(SQLModel, table=True):
    """What a curator and a publisher said about a draft: a send-back, an answer, an approval."""

    __tablename__ = "review_note"

    id: int | None = Field(default=None, primary_key=True)
    draft_id: int = Field(foreign_key="service_draft.id", index=True, ondelete="CASCADE")
    author_id: int | None = Field(default=None, foreign_key="user_account.id")
    author_name: str = Field(max_length=200)
    kind: str = Field(max_length=20)  # submitted, returned, answered, approved
    body: str = Field(default="", max_length=2000)
    draft_version: int
    at: dt.datetime
