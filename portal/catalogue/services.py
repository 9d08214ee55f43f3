"""Writes to the catalogue. Services flush; the caller's unit of work commits."""

from __future__ import annotations

import datetime as dt
from typing import Any, TypeVar

from sqlalchemy import inspect
from sqlmodel import Session, SQLModel, col, select

from portal.catalogue.models import (
    Category,
    Institution,
    LifeEvent,
    Service,
    Synonym,
)
from portal.catalogue.schemas import InstitutionIn, ServiceIn, SynonymIn, TermIn
from portal.catalogue.seed import SeedBundle
from portal.outbox import services as outbox_services

# Outbox topics the search index follows. A service changed (key: its slug); or something the
# index settings are made of did (key: "synonyms" or "acronyms"): the settings are re-applied.
SERVICE_CHANGED = "catalogue.service"
SEARCH_SETTINGS_CHANGED = "search.settings"
Row = TypeVar("Row", bound=SQLModel)
Term = TypeVar("Term", Category, LifeEvent)


def _dump(value: Any) -> Any:
    """JSON-ready form of a record part (URLs and enums as strings, no empty optionals)."""
    return value.model_dump(mode="json", exclude_none=True) if value is not None else None


def _upsert(session: Session, model: type[Row], slug: str, values: dict[str, Any]) -> Row:
    """Insert a row by slug, or set only the values that differ (so a re-run changes nothing)."""
    row = session.exec(select(model).where(model.slug == slug)).first()  # type: ignore[attr-defined]
    if row is None:
        row = model(slug=slug, **values)
        session.add(row)
        return row
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
    return row


def institution_upsert(*, session: Session, record: InstitutionIn, now: dt.datetime) -> Institution:
    """Create or update an institution by slug. A new or changed acronym changes the search
    settings (acronyms are exact words there), so it writes an outbox row for them."""
    institution = _upsert(
        session,
        Institution,
        record.slug,
        {
            "acronym": record.acronym,
            "name": _dump(record.name),
            "description": _dump(record.description),
            "website": str(record.website),
            "contact": _dump(record.contact),
        },
    )
    if institution.id is None or inspect(institution).attrs.acronym.history.has_changes():
        outbox_services.outbox_add(
            session=session, topic=SEARCH_SETTINGS_CHANGED, key="acronyms", now=now
        )
    return institution


def term_upsert(*, session: Session, model: type[Term], record: TermIn, position: int) -> Term:
    """Create or update a category or a life event by slug."""
    return _upsert(
        session,
        model,
        record.slug,
        {
            "position": position,
            "name": _dump(record.name),
            "description": _dump(record.description),
        },
    )


def service_upsert(
    *,
    session: Session,
    record: ServiceIn,
    institution: Institution,
    categories: list[Category],
    life_events: list[LifeEvent],
    now: dt.datetime,
) -> Service:
    """Create or update a published service by slug, with its category and life-event links."""
    service = _upsert(
        session,
        Service,
        record.slug,
        {
            "institution_id": institution.id,
            "name": _dump(record.name),
            "alternative_names": _dump(record.alternative_names),
            "summary": _dump(record.summary),
            "description": _dump(record.description),
            "steps": _dump(record.steps),
            "audience": [audience.value for audience in record.audience],
            "eligibility": _dump(record.eligibility),
            "required_documents": [_dump(document) for document in record.required_documents],
            "identifiers": [identifier.value for identifier in record.identifiers],
            "output": _dump(record.output),
            "cost": _dump(record.cost),
            "processing_time": record.processing_time,
            "processing_time_note": _dump(record.processing_time_note),
            "channels": _dump(record.channels),
            "launch_mode": record.launch.mode.value,
            "launch_api_code": record.launch.api_code,
            "launch_assurance": record.launch.assurance.value,
            "launch_shares": [attribute.value for attribute in record.launch.shares],
            "legal_basis": [_dump(law) for law in record.legal_basis],
            "contact": _dump(record.contact),
            "status": record.status.value,
            "alert": _dump(record.alert),
            "last_reviewed": record.last_reviewed,
            "review_due": record.review_due,
            "popularity": record.popularity,
        },
    )
    # No autoflush while comparing: a flush would hide the changes from is_modified.
    with session.no_autoflush:
        if service.categories != categories:
            service.categories = categories
        if service.life_events != life_events:
            service.life_events = life_events
        if service.id is None or session.is_modified(service):
            service.updated_at = now
            outbox_services.outbox_add(
                session=session, topic=SERVICE_CHANGED, key=record.slug, now=now
            )
    return service


def synonyms_replace(*, session: Session, entries: list[SynonymIn], now: dt.datetime) -> None:
    """Make the synonym list exactly `entries`, leaving it untouched when it already is; a
    change writes an outbox row for the search settings, which carry the synonyms."""
    current = session.exec(select(Synonym).order_by(col(Synonym.id))).all()
    wanted = [(entry.terms, entry.one_way, entry.note) for entry in entries]
    if [(row.terms, row.one_way, row.note) for row in current] == wanted:
        return
    for row in current:
        session.delete(row)
    session.add_all(
        Synonym(terms=terms, one_way=one_way, note=note) for terms, one_way, note in wanted
    )
    outbox_services.outbox_add(
        session=session, topic=SEARCH_SETTINGS_CHANGED, key="synonyms", now=now
    )


def catalogue_seed(*, session: Session, bundle: SeedBundle, now: dt.datetime) -> dict[str, int]:
    """Apply a validated seed bundle: upsert everything by slug, replace the synonym list."""
    institutions = {
        r.slug: institution_upsert(session=session, record=r, now=now) for r in bundle.institutions
    }
    categories = {
        r.slug: term_upsert(session=session, model=Category, record=r, position=i)
        for i, r in enumerate(bundle.categories)
    }
    life_events = {
        r.slug: term_upsert(session=session, model=LifeEvent, record=r, position=i)
        for i, r in enumerate(bundle.life_events)
    }
    # A renamed institution, category or life event changes how its services are found.
    named: list[Institution | Category | LifeEvent] = [*institutions.values()]
    named += [*categories.values(), *life_events.values()]
    renamed = [row for row in named if row.id is not None and session.is_modified(row)]
    session.flush()
    for row in renamed:
        for service in row.services:
            outbox_services.outbox_add(
                session=session, topic=SERVICE_CHANGED, key=service.slug, now=now
            )
    for record in bundle.services:
        service_upsert(
            session=session,
            record=record,
            institution=institutions[record.institution],
            categories=[categories[slug] for slug in record.categories],
            life_events=[life_events[slug] for slug in record.life_events],
            now=now,
        )
    synonyms_replace(session=session, entries=bundle.synonyms, now=now)
    session.flush()
    return {
        "institutions": len(institutions),
        "categories": len(categories),
        "life_events": len(life_events),
        "services": len(bundle.services),
        "synonyms": len(bundle.synonyms),
    }
