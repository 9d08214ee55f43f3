"""Reads of the published catalogue."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import func
from sqlalchemy.orm import selectinload
from sqlmodel import Session, SQLModel, col, select

from portal.catalogue.models import (
    Category,
    Institution,
    LifeEvent,
    Service,
    ServiceCategory,
    ServiceLifeEvent,
    Synonym,
)

Row = TypeVar("Row", bound=SQLModel)


@dataclass(frozen=True)
class Page:
    """One page of services and what is needed to link to the others."""

    items: list[Service]
    total: int
    number: int
    size: int

    @property
    def count(self) -> int:
        return max(1, -(-self.total // self.size))


def _by_slug(session: Session, model: type[Row], slug: str) -> Row | None:
    return session.exec(select(model).where(model.slug == slug)).first()  # type: ignore[attr-defined]


def institution_get(*, session: Session, slug: str) -> Institution | None:
    return _by_slug(session, Institution, slug)


def category_get(*, session: Session, slug: str) -> Category | None:
    return _by_slug(session, Category, slug)


def life_event_get(*, session: Session, slug: str) -> LifeEvent | None:
    return _by_slug(session, LifeEvent, slug)


def service_get(*, session: Session, slug: str) -> Service | None:
    """A service with its institution, categories and life events loaded."""
    statement = (
        select(Service)
        .where(Service.slug == slug)
        .options(
            selectinload(Service.institution),  # type: ignore[arg-type]
            selectinload(Service.categories),  # type: ignore[arg-type]
            selectinload(Service.life_events),  # type: ignore[arg-type]
        )
    )
    return session.exec(statement).first()


def institution_list(*, session: Session) -> list[tuple[Institution, int]]:
    """Every institution with its number of services, by acronym."""
    counts = (
        select(Institution, func.count(col(Service.id)))
        .join(Service, isouter=True)
        .group_by(col(Institution.id))
        .order_by(func.lower(Institution.acronym))
    )
    return [(institution, count) for institution, count in session.exec(counts).all()]


def category_list(*, session: Session) -> list[tuple[Category, int]]:
    """Categories in their curated order, with their number of services."""
    statement = (
        select(Category, func.count(col(ServiceCategory.service_id)))
        .join(ServiceCategory, isouter=True)
        .group_by(col(Category.id))
        .order_by(col(Category.position))
    )
    return [(category, count) for category, count in session.exec(statement).all()]


def life_event_list(*, session: Session) -> list[tuple[LifeEvent, int]]:
    """Life events in their curated order, with their number of services."""
    statement = (
        select(LifeEvent, func.count(col(ServiceLifeEvent.service_id)))
        .join(ServiceLifeEvent, isouter=True)
        .group_by(col(LifeEvent.id))
        .order_by(col(LifeEvent.position))
    )
    return [(event, count) for event, count in session.exec(statement).all()]


def service_list_popular(*, session: Session, limit: int) -> list[Service]:
    """The most used active services."""
    statement = (
        select(Service)
        .where(Service.status == "active")
        .options(selectinload(Service.institution))  # type: ignore[arg-type]
        .order_by(col(Service.popularity).desc(), col(Service.slug))
        .limit(limit)
    )
    return list(session.exec(statement).all())


def service_page(
    *,
    session: Session,
    number: int,
    size: int,
    institution: Institution | None = None,
    category: Category | None = None,
    life_event: LifeEvent | None = None,
) -> Page:
    """Services of one institution, category or life event, one page of them: most used first,
    or for a life event in its journey order (the curators' steps), then most used first."""
    statement = select(Service)
    if institution is not None:
        statement = statement.where(Service.institution_id == institution.id)
    if category is not None:
        statement = statement.join(ServiceCategory).where(
            ServiceCategory.category_id == category.id
        )
    if life_event is not None:
        statement = statement.join(ServiceLifeEvent).where(
            ServiceLifeEvent.life_event_id == life_event.id
        )
    total = session.exec(select(func.count()).select_from(statement.subquery())).one()
    order = [col(Service.popularity).desc(), col(Service.slug)]
    if life_event is not None:  # a life event lists its services in their journey order
        order.insert(0, col(ServiceLifeEvent.position))
    items = session.exec(
        statement.options(selectinload(Service.institution))  # type: ignore[arg-type]
        .order_by(*order)
        .offset((number - 1) * size)
        .limit(size)
    ).all()
    return Page(items=list(items), total=total, number=number, size=size)


def service_list_full(*, session: Session, slugs: Collection[str] | None = None) -> list[Service]:
    """Services with institution, categories and life events loaded: all, or those named."""
    statement = select(Service).options(
        selectinload(Service.institution),  # type: ignore[arg-type]
        selectinload(Service.categories),  # type: ignore[arg-type]
        selectinload(Service.life_events),  # type: ignore[arg-type]
    )
    if slugs is not None:
        statement = statement.where(col(Service.slug).in_(list(slugs)))
    return list(session.exec(statement.order_by(col(Service.slug))).all())


def synonym_list(*, session: Session) -> list[Synonym]:
    return list(session.exec(select(Synonym).order_by(col(Synonym.id))).all())


def institution_acronyms(*, session: Session) -> list[str]:
    return list(session.exec(select(Institution.acronym)).all())


def taxonomy_names(*, session: Session) -> dict[str, dict[str, Any]]:
    """Display names of institutions, categories and life events by slug, for facet labels.
    Only the columns needed are read: this runs on every search page."""
    institutions = session.exec(select(Institution.slug, Institution.acronym, Institution.name))
    return {
        "institution": {slug: {"acronym": acronym, **name} for slug, acronym, name in institutions},
        "category": dict(session.exec(select(Category.slug, Category.name)).all()),
        "life_events": dict(session.exec(select(LifeEvent.slug, LifeEvent.name)).all()),
    }


def service_record(service: Service) -> dict[str, Any]:
    """The published service as a record of the seed shape (`ServiceIn` as JSON): what a draft
    starts from, what an export writes, and what `service_upsert` takes back unchanged."""
    record: dict[str, Any] = {
        "slug": service.slug,
        "institution": service.institution.slug,
        "name": service.name,
        "alternative_names": service.alternative_names,
        "summary": service.summary,
        "description": service.description,
        "steps": service.steps,
        "categories": sorted(category.slug for category in service.categories),
        "life_events": sorted(life_event.slug for life_event in service.life_events),
        "audience": service.audience,
        "eligibility": service.eligibility,
        "required_documents": service.required_documents,
        "identifiers": service.identifiers,
        "output": service.output,
        "cost": service.cost,
        "processing_time": service.processing_time,
        "processing_time_note": service.processing_time_note,
        "channels": service.channels,
        "launch": {
            "mode": service.launch_mode,
            **({"api_code": service.launch_api_code} if service.launch_api_code else {}),
            "assurance": service.launch_assurance,
            "shares": service.launch_shares,
        },
        "legal_basis": service.legal_basis,
        "contact": service.contact,
        "status": service.status,
        "alert": service.alert,
        "last_reviewed": service.last_reviewed.isoformat(),
        "review_due": service.review_due.isoformat(),
        "popularity": service.popularity,
    }
    return {name: value for name, value in record.items() if value is not None}
