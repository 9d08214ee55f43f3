"""Reads of publishing: an institution's services and drafts, the review queue, revisions and
a field-by-field comparison of two records."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func
from sqlmodel import Session, col, select

from portal.catalogue.models import Category, Institution, LifeEvent, Service
from portal.catalogue.schemas import ServiceIn, parse_duration
from portal.publishing.models import (
    OPEN_STATES,
    RETURNED,
    SUBMITTED,
    Draft,
    ReviewNote,
    Revision,
)
from portal.publishing.services import record_problems


@dataclass(frozen=True)
class ServiceRow:
    """One service on a publisher's list: its open draft, and what needs doing."""

    service: Service
    draft: Draft | None
    review_overdue: bool


def services_of(*, session: Session, institution: Institution, today: dt.date) -> list[ServiceRow]:
    services = session.exec(
        select(Service).where(Service.institution_id == institution.id).order_by(col(Service.slug))
    ).all()
    drafts = {
        draft.service_id: draft
        for draft in session.exec(
            select(Draft).where(
                Draft.institution_id == institution.id, col(Draft.state).in_(OPEN_STATES)
            )
        ).all()
    }
    return [
        ServiceRow(
            service=service,
            draft=drafts.get(service.id),
            review_overdue=service.review_due <= today,
        )
        for service in services
    ]


def new_drafts_of(*, session: Session, institution: Institution) -> list[Draft]:
    """Open drafts of services not yet published."""
    return list(
        session.exec(
            select(Draft)
            .where(
                Draft.institution_id == institution.id,
                col(Draft.service_id).is_(None),
                col(Draft.state).in_(OPEN_STATES),
            )
            .order_by(col(Draft.created_at))
        ).all()
    )


def completeness(record: dict[str, Any]) -> tuple[int, list[tuple[str, str]]]:
    """How complete a record is (per cent of its required parts without a problem) and the
    problems left."""
    problems = record_problems(record)
    required = 14  # the parts of a service record that have no default
    missing = {part.split(".")[0] for part, _message in problems}
    return max(0, round(100 * (required - len(missing)) / required)), problems


def review_queue(
    *, session: Session, institution_id: int | None = None
) -> list[tuple[Draft, Institution]]:
    """Drafts waiting for a curator, the oldest first."""
    statement = (
        select(Draft, Institution)
        .join(Institution, col(Institution.id) == Draft.institution_id)
        .where(Draft.state == SUBMITTED)
    )
    if institution_id is not None:
        statement = statement.where(Draft.institution_id == institution_id)
    rows = session.exec(statement.order_by(col(Draft.submitted_at))).all()
    return [(draft, institution) for draft, institution in rows]


def notes_of(*, session: Session, draft_id: int) -> list[ReviewNote]:
    return list(
        session.exec(
            select(ReviewNote)
            .where(ReviewNote.draft_id == draft_id)
            .order_by(col(ReviewNote.at), col(ReviewNote.id))
        ).all()
    )


def revisions_of(*, session: Session, service_id: int) -> list[Revision]:
    """A service's published versions, the newest first."""
    return list(
        session.exec(
            select(Revision)
            .where(Revision.service_id == service_id)
            .order_by(col(Revision.number).desc())
        ).all()
    )


def revision_get(*, session: Session, service_id: int, number: int) -> Revision | None:
    return session.exec(
        select(Revision).where(Revision.service_id == service_id, Revision.number == number)
    ).first()


@dataclass(frozen=True)
class FieldChange:
    part: str
    before: str
    after: str


def _flat(value: Any, prefix: str, out: dict[str, str]) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            _flat(inner, f"{prefix}.{key}" if prefix else key, out)
    elif isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
        for index, inner in enumerate(value, 1):
            _flat(inner, f"{prefix}[{index}]", out)
    else:
        out[prefix] = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def record_changes(before: dict[str, Any], after: dict[str, Any]) -> list[FieldChange]:
    """Every part that differs between two records, field by field, in the record's order."""
    old: dict[str, str] = {}
    new: dict[str, str] = {}
    _flat(before, "", old)
    _flat(after, "", new)
    parts = list(dict.fromkeys([*new, *old]))
    return [
        FieldChange(part=part, before=old.get(part, ""), after=new.get(part, ""))
        for part in parts
        if old.get(part) != new.get(part)
    ]


def draft_get(*, session: Session, draft_id: int) -> tuple[Draft, Institution] | None:
    """A draft with the institution it belongs to."""
    row = session.exec(
        select(Draft, Institution)
        .join(Institution, col(Institution.id) == Draft.institution_id)
        .where(Draft.id == draft_id)
    ).first()
    return (row[0], row[1]) if row else None


@dataclass(frozen=True)
class DeskCounts:
    """What a publisher's start page says of one institution."""

    services: int = 0
    open_drafts: int = 0
    returned: int = 0
    review_overdue: int = 0


def desk_counts(
    *, session: Session, institution_ids: list[int], today: dt.date
) -> dict[int, DeskCounts]:
    """Per institution: its services, open drafts, drafts sent back, services overdue review."""
    services = dict(
        session.exec(
            select(Service.institution_id, func.count(col(Service.id)))
            .where(col(Service.institution_id).in_(institution_ids))
            .group_by(col(Service.institution_id))
        ).all()
    )
    overdue = dict(
        session.exec(
            select(Service.institution_id, func.count(col(Service.id)))
            .where(col(Service.institution_id).in_(institution_ids), Service.review_due <= today)
            .group_by(col(Service.institution_id))
        ).all()
    )
    drafts: dict[int, dict[str, int]] = {}
    for institution_id, state, count in session.exec(
        select(Draft.institution_id, Draft.state, func.count(col(Draft.id)))
        .where(col(Draft.institution_id).in_(institution_ids), col(Draft.state).in_(OPEN_STATES))
        .group_by(col(Draft.institution_id), col(Draft.state))
    ).all():
        drafts.setdefault(institution_id, {})[state] = count
    return {
        institution_id: DeskCounts(
            services=services.get(institution_id, 0),
            open_drafts=sum(drafts.get(institution_id, {}).values()),
            returned=drafts.get(institution_id, {}).get(RETURNED, 0),
            review_overdue=overdue.get(institution_id, 0),
        )
        for institution_id in institution_ids
    }


@dataclass(frozen=True)
class ServicePreview:
    """A draft's record as the public service page reads a catalogue `Service`: the same
    attributes, built in memory from the record (nothing is written)."""

    slug: str
    institution: Institution
    name: dict[str, str]
    alternative_names: dict[str, list[str]]
    summary: dict[str, str]
    description: dict[str, str]
    steps: dict[str, list[str]]
    audience: list[str]
    eligibility: dict[str, str]
    required_documents: list[dict[str, str]]
    identifiers: list[str]
    output: dict[str, str]
    cost: dict[str, Any]
    processing_time: str
    processing_time_note: dict[str, str] | None
    channels: dict[str, Any]
    launch_mode: str
    launch_api_code: str | None
    launch_assurance: str
    launch_shares: list[str]
    legal_basis: list[dict[str, Any]]
    contact: dict[str, Any]
    status: str
    alert: dict[str, str] | None
    last_reviewed: dt.date
    review_due: dt.date
    popularity: int
    categories: list[Category]
    life_events: list[LifeEvent]

    @property
    def processing_duration(self) -> dt.timedelta:
        return parse_duration(self.processing_time)


def service_preview(*, session: Session, record: dict[str, Any]) -> ServicePreview | None:
    """The public page's view of a complete record (None when it is not complete), shaped as
    approval would publish it."""
    try:
        checked = ServiceIn.model_validate(record)
    except ValidationError:
        return None
    institution = session.exec(
        select(Institution).where(Institution.slug == checked.institution)
    ).first()
    if institution is None:
        return None
    shown = checked.model_dump(mode="json", exclude_none=True)
    launch = shown["launch"]
    # In the order the catalogue loads a service's links: by the term's id.
    categories = session.exec(
        select(Category)
        .where(col(Category.slug).in_(checked.categories))
        .order_by(col(Category.id))
    ).all()
    life_events = session.exec(
        select(LifeEvent)
        .where(col(LifeEvent.slug).in_(checked.life_events))
        .order_by(col(LifeEvent.id))
    ).all()
    return ServicePreview(
        slug=checked.slug,
        institution=institution,
        name=shown["name"],
        alternative_names=shown["alternative_names"],
        summary=shown["summary"],
        description=shown["description"],
        steps=shown["steps"],
        audience=shown["audience"],
        eligibility=shown["eligibility"],
        required_documents=shown["required_documents"],
        identifiers=shown["identifiers"],
        output=shown["output"],
        cost=shown["cost"],
        processing_time=checked.processing_time,
        processing_time_note=shown.get("processing_time_note"),
        channels=shown["channels"],
        launch_mode=launch["mode"],
        launch_api_code=launch.get("api_code"),
        launch_assurance=launch["assurance"],
        launch_shares=launch["shares"],
        legal_basis=shown["legal_basis"],
        contact=shown["contact"],
        status=shown["status"],
        alert=shown.get("alert"),
        last_reviewed=checked.last_reviewed,
        review_due=checked.review_due,
        popularity=checked.popularity,
        categories=list(categories),
        life_events=list(life_events),
    )
