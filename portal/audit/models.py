"""The audit log's one table. The application only ever inserts into it; the database refuses
an update or a delete (a trigger on SQLite and on PostgreSQL, added by the migration).

SQLModel resolves relationship annotations at class creation, so this module does not use
`from __future__ import annotations`.
"""

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from portal import db  # noqa: F401  (applies the constraint naming convention first)


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: dt.datetime = Field(index=True)
    actor_id: int | None = Field(default=None, index=True)  # a person's id; None: a command
    actor: str = Field(max_length=200)  # their name then, or the command, for reading later
    action: str = Field(max_length=60, index=True)  # e.g. draft.submit, service.publish
    entity: str = Field(max_length=40, index=True)  # service, draft, institution, role ...
    entity_key: str = Field(max_length=120, index=True)  # its slug or id
    institution: str | None = Field(default=None, max_length=80, index=True)  # whose record
    before: Any = Field(default=None, sa_column=Column(JSON, nullable=True))
    after: Any = Field(default=None, sa_column=Column(JSON, nullable=True))
    note: str | None = Field(default=None, max_length=2000)
