"""Reads of curation: the curator's overview, the featured services, a life event's steps,
lists to choose services from, and the audit log as a curator reads it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlalchemy.orm import selectinload
from sqlmodel import Session, col, select

from portal.audit import selectors as audit_selectors
from portal.audit.models import AuditEntry
from portal.catalogue.models import Institution, LifeEvent, Service, ServiceLifeEvent, Synonym
from portal.curation.models import FeaturedService
from portal.publishing import selectors as publishing_selectors
from portal.publishing.selectors import FieldChange

FEATURED_MAX = 6  # services on the home page at most
AUDIT_PAGE_SIZE = 25


@dataclass(frozen=True)
class Overview:
    """What waits for the curators."""

    waiting: int
    oldest_wait: dt.timedelta | None
    overdue: int


def overview(*, session: Session, now: dt.datetime) -> Overview:
    queue = publishing_selectors.review_queue(session=session)
    submitted = [draft.submitted_at for draft, _institution in queue if draft.submitted_at]
    overdue = session.exec(
        select(func.count(col(Service.id))).where(Service.review_due <= now.date())
    ).one()
    return Overview(
        waiting=len(queue),
        oldest_wait=now - min(submitted) if submitted else None,
        overdue=overdue,
    )


def _with_institution() -> Any:
    return selectinload(Service.institution)  # type: ignore[arg-type]


def featured_services(*, session: Session, active_only: bool = False) -> list[Service]:
    """The featured services in the curators' order (the home page shows only active ones)."""
    statement = (
        select(Service)
        .join(FeaturedService, col(FeaturedService.service_id) == Service.id)
        .options(_with_institution())
        .order_by(col(FeaturedService.position), col(Service.slug))
    )
    if active_only:
        statement = statement.where(Service.status == "active")
    return list(session.exec(statement).all())


def life_event_steps(*, session: Session, life_event: LifeEvent) -> list[Service]:
    """A life event's services in its journey order (the order its public page lists them)."""
    statement = (
        select(Service)
        .join(ServiceLifeEvent, col(ServiceLifeEvent.service_id) == Service.id)
        .where(ServiceLifeEvent.life_event_id == life_event.id)
        .options(_with_institution())
        .order_by(col(ServiceLifeEvent.position), col(Service.popularity).desc(), col(Service.slug))
    )
    return list(session.exec(statement).all())


def service_choices(*, session: Session, leaving_out: list[Service]) -> list[Service]:
    """Services to choose from, by institution then address, without those listed."""
    left_out = [service.id for service in leaving_out]
    statement = (
        select(Service)
        .join(Institution, col(Institution.id) == Service.institution_id)
        .where(col(Service.id).not_in(left_out))
        .options(_with_institution())
        .order_by(func.lower(Institution.acronym), col(Service.slug))
    )
    return list(session.exec(statement).all())


def services_to_review(
    *, session: Session, institution: Institution | None, overdue_by: dt.date | None
) -> list[Service]:
    """Published services, those due for review first; of one institution, or only those
    whose review is due by `overdue_by`, when asked."""
    statement = select(Service).options(_with_institution())
    if institution is not None:
        statement = statement.where(Service.institution_id == institution.id)
    if overdue_by is not None:
        statement = statement.where(Service.review_due <= overdue_by)
    return list(session.exec(statement.order_by(col(Service.review_due), col(Service.slug))).all())


def synonym_get(*, session: Session, synonym_id: int) -> Synonym | None:
    return session.get(Synonym, synonym_id)


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    number: int
    has_next: bool


def audit_page(
    *,
    session: Session,
    number: int,
    entity: str | None = None,
    action: str | None = None,
    institution: str | None = None,
    entity_key: str | None = None,
) -> AuditPage:
    """One page of the audit log, newest first, filtered."""
    found = audit_selectors.audit_entries(
        session=session,
        entity=entity,
        action=action,
        institution=institution,
        entity_key=entity_key,
        limit=AUDIT_PAGE_SIZE + 1,  # one more tells whether a next page exists
        offset=(number - 1) * AUDIT_PAGE_SIZE,
    )
    return AuditPage(
        entries=found[:AUDIT_PAGE_SIZE], number=number, has_next=len(found) > AUDIT_PAGE_SIZE
    )


def entry_changes(entry: AuditEntry) -> list[FieldChange]:
    """What an entry changed, field by field (a value that is not a record counts as one)."""

    def as_record(value: Any) -> dict[str, Any]:
        if value is None:
            return {}
        return value if isinstance(value, dict) else {"value": value}

    return publishing_selectors.record_changes(as_record(entry.before), as_record(entry.after))
