"""Tables of the published catalogue.

Bilingual texts are stored as JSON objects `{"sw": ..., "en": ...}` and lists of them, so one
template filter renders any of them in the reader's language.

SQLModel resolves relationship annotations at class creation, so this module does not use
`from __future__ import annotations`.
"""

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, Relationship, SQLModel

from portal import db  # noqa: F401  (applies the constraint naming convention first)
from portal.catalogue.schemas import parse_duration

LocalText = dict[str, str]


def _json(nullable: bool = False) -> Any:
    return Field(sa_column=Column(JSON, nullable=nullable))


class ServiceCategory(SQLModel, table=True):
    __tablename__ = "service_category"

    service_id: int = Field(foreign_key="service.id", primary_key=True, ondelete="CASCADE")
    category_id: int = Field(
        foreign_key="category.id", primary_key=True, ondelete="CASCADE", index=True
    )


class ServiceLifeEvent(SQLModel, table=True):
    __tablename__ = "service_life_event"

    service_id: int = Field(foreign_key="service.id", primary_key=True, ondelete="CASCADE")
    life_event_id: int = Field(
        foreign_key="life_event.id", primary_key=True, ondelete="CASCADE", index=True
    )
    position: int = 0  # the service's step in the life event's journey (curators order them)


class Institution(SQLModel, table=True):
    __tablename__ = "institution"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=80, unique=True, index=True)
    acronym: str = Field(max_length=20)
    name: LocalText = _json()
    description: LocalText = _json()
    website: str = Field(max_length=500)
    contact: dict[str, Any] = _json()

    services: list["Service"] = Relationship(back_populates="institution")


class Category(SQLModel, table=True):
    __tablename__ = "category"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=80, unique=True, index=True)
    position: int = 0
    name: LocalText = _json()
    description: LocalText = _json()

    services: list["Service"] = Relationship(
        back_populates="categories", link_model=ServiceCategory
    )


class LifeEvent(SQLModel, table=True):
    __tablename__ = "life_event"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=80, unique=True, index=True)
    position: int = 0
    name: LocalText = _json()
    description: LocalText = _json()

    services: list["Service"] = Relationship(
        back_populates="life_events", link_model=ServiceLifeEvent
    )


class Service(SQLModel, table=True):
    __tablename__ = "service"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=80, unique=True, index=True)
    institution_id: int = Field(foreign_key="institution.id", index=True)
    name: LocalText = _json()
    alternative_names: dict[str, list[str]] = _json()
    summary: LocalText = _json()
    description: LocalText = _json()
    steps: dict[str, list[str]] = _json()
    audience: list[str] = _json()
    eligibility: LocalText = _json()
    required_documents: list[LocalText] = _json()
    identifiers: list[str] = _json()
    output: LocalText = _json()
    cost: dict[str, Any] = _json()
    processing_time: str = Field(max_length=20)
    processing_time_note: LocalText | None = _json(nullable=True)
    channels: dict[str, Any] = _json()
    launch_mode: str = Field(max_length=20)
    launch_api_code: str | None = Field(default=None, max_length=64)
    launch_assurance: str = Field(max_length=20)
    launch_shares: list[str] = _json()  # the verified details a hand-off gives the institution
    legal_basis: list[dict[str, Any]] = _json()
    contact: dict[str, Any] = _json()
    status: str = Field(max_length=30, index=True)
    alert: LocalText | None = _json(nullable=True)
    last_reviewed: dt.date
    review_due: dt.date
    popularity: int = Field(default=0, index=True)
    updated_at: dt.datetime

    institution: Institution = Relationship(back_populates="services")
    categories: list[Category] = Relationship(back_populates="services", link_model=ServiceCategory)
    life_events: list[LifeEvent] = Relationship(
        back_populates="services", link_model=ServiceLifeEvent
    )

    @property
    def processing_duration(self) -> dt.timedelta:
        """The processing time (stored as an ISO 8601 duration) as a timedelta."""
        return parse_duration(self.processing_time)


class Synonym(SQLModel, table=True):
    """A search vocabulary entry: mutual terms, or (one way) a first term that finds the rest."""

    __tablename__ = "synonym"

    id: int | None = Field(default=None, primary_key=True)
    terms: list[str] = _json()
    one_way: bool = False
    note: str | None = Field(default=None, max_length=300)
