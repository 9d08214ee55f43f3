"""Tables of the hand-off: attempts to start a service, applications, their history, receipts.

A hand-off is a citizen's consented start of one service, under an idempotency key: however
often it is sent (a double click, a retry, the worker settling a timeout), it opens at most one
application. An application exists only once its institution has said so. A receipt records
what was shared, with whom, when and why: the names of the attributes, never their values.

SQLModel resolves relationship annotations at class creation, so this module does not use
`from __future__ import annotations`.
"""

import datetime as dt

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel, UniqueConstraint

from portal import db  # noqa: F401  (applies the constraint naming convention first)

LocalText = dict[str, str]


class HandOff(SQLModel, table=True):
    __tablename__ = "hand_off"
    __table_args__ = (UniqueConstraint("user_id", "idempotency_key"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    service_id: int = Field(foreign_key="service.id", index=True)
    idempotency_key: str = Field(max_length=64)
    state: str = Field(max_length=20, index=True)  # sending, started, unknown, failed
    failure: str | None = Field(default=None, max_length=60)  # why it failed or is unknown
    attributes: list[str] = Field(sa_column=Column(JSON, nullable=False))  # what was consented
    locale: str = Field(max_length=5)
    application_id: int | None = Field(default=None, foreign_key="application.id")
    created_at: dt.datetime
    updated_at: dt.datetime


class Application(SQLModel, table=True):
    """An application an institution has opened for a citizen, as far as its pushes tell."""

    __tablename__ = "application"
    __table_args__ = (UniqueConstraint("push_code", "reference"),)

    id: int | None = Field(default=None, primary_key=True)
    public_id: str = Field(max_length=32, unique=True)  # in URLs, instead of the row id
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    service_id: int = Field(foreign_key="service.id", index=True)
    institution_id: int = Field(foreign_key="institution.id", index=True)
    reference: str = Field(max_length=100)  # the institution's own
    push_code: str = Field(max_length=64)  # the code its status pushes come under
    status: str = Field(max_length=20)
    status_message: LocalText | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    sequence: int = 1  # of the latest status the institution pushed
    started_at: dt.datetime
    updated_at: dt.datetime


class ApplicationEvent(SQLModel, table=True):
    """One status an institution reported, kept as the application's history."""

    __tablename__ = "application_event"
    __table_args__ = (UniqueConstraint("application_id", "event_id"),)

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="application.id", index=True, ondelete="CASCADE")
    event_id: str = Field(max_length=64)
    sequence: int
    status: str = Field(max_length=20)
    message: LocalText | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    at: dt.datetime  # when the institution says it happened
    received_at: dt.datetime


class SharingReceipt(SQLModel, table=True):
    """Data shared about a citizen: which attributes, with which institution, when and why."""

    __tablename__ = "sharing_receipt"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    institution_id: int = Field(foreign_key="institution.id")
    service_id: int = Field(foreign_key="service.id")
    application_id: int | None = Field(default=None, foreign_key="application.id")
    attributes: list[str] = Field(sa_column=Column(JSON, nullable=False))
    purpose: str = Field(max_length=30)  # why, as a code the page words: "service_start"
    request_id: str = Field(max_length=64)  # GovESB's, to trace the exchange with the bus
    shared_at: dt.datetime = Field(index=True)


class BusDeliverySeen(SQLModel, table=True):
    """GovESB request ids of deliveries already acted on: a replay is refused."""

    __tablename__ = "bus_delivery_seen"

    request_id: str = Field(primary_key=True, max_length=64)
    received_at: dt.datetime = Field(index=True)
