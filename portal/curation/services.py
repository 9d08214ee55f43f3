"""Writes of curation: institutions, categories, life events and their steps, synonyms, the
featured services and a service's status.

Services flush; the caller's unit of work commits. Every change writes one audit entry (before
and after) in the same unit of work, and a search outbox row when search must follow.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, TypeVar

from pydantic import ValidationError
from sqlmodel import Session, col, select

from portal.audit import services as audit_services
from portal.catalogue import selectors as catalogue_selectors
from portal.catalogue import services as catalogue_services
from portal.catalogue.models import Category, Institution, LifeEvent, Service, ServiceLifeEvent
from portal.catalogue.schemas import InstitutionIn, ServiceIn, SynonymIn, TermIn, Text
from portal.curation import selectors
from portal.curation.models import FeaturedService
from portal.outbox import services as outbox_services
from portal.publishing.services import Actor

Term = TypeVar("Term", Category, LifeEvent)
UP, DOWN = -1, 1


class CurationRefused(ValueError):
    """What was asked cannot be done; `reason` says why (a code the page explains)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _audit(
    session: Session,
    actor: Actor,
    action: str,
    entity: str,
    key: str,
    now: dt.datetime,
    *,
    institution: str | None = None,
    before: Any = None,
    after: Any = None,
) -> None:
    audit_services.audit_record(
        session=session,
        actor_id=actor.user_id,
        actor=actor.name,
        action=action,
        entity=entity,
        entity_key=key,
        institution=institution,
        before=before,
        after=after,
        now=now,
    )


def _services_changed(session: Session, services: list[Service], now: dt.datetime) -> None:
    """Search documents carry names of institutions and terms: ask search to redo these."""
    for service in services:
        outbox_services.outbox_add(
            session=session, topic=catalogue_services.SERVICE_CHANGED, key=service.slug, now=now
        )


def institution_record(institution: Institution) -> dict[str, Any]:
    """The institution as a record of the seed shape (`InstitutionIn` as JSON)."""
    return {
        "slug": institution.slug,
        "acronym": institution.acronym,
        "name": institution.name,
        "description": institution.description,
        "website": institution.website,
        "contact": institution.contact,
    }


def institution_save(
    *, session: Session, record: InstitutionIn, new: bool, actor: Actor, now: dt.datetime
) -> Institution:
    """Create an institution (its slug must be free) or change one."""
    existing = catalogue_selectors.institution_get(session=session, slug=record.slug)
    if new and existing is not None:
        raise CurationRefused("slug_taken")
    if not new and existing is None:
        raise CurationRefused("not_found")
    before = institution_record(existing) if existing is not None else None
    institution = catalogue_services.institution_upsert(session=session, record=record, now=now)
    session.flush()
    after = institution_record(institution)
    if before == after:
        return institution
    _audit(
        session,
        actor,
        "institution.create" if new else "institution.update",
        "institution",
        record.slug,
        now,
        institution=record.slug,
        before=before,
        after=after,
    )
    if before is not None and (before["name"], before["acronym"]) != (
        after["name"],
        after["acronym"],
    ):
        _services_changed(session, list(institution.services), now)
    return institution


def term_record(term: Category | LifeEvent) -> dict[str, Any]:
    return {"slug": term.slug, "name": term.name, "description": term.description}


def _entity(model: type[Category] | type[LifeEvent]) -> str:
    return "category" if model is Category else "life_event"


def term_save(
    *,
    session: Session,
    model: type[Term],
    record: TermIn,
    new: bool,
    actor: Actor,
    now: dt.datetime,
) -> Term:
    """Create a category or life event (last in the curated order) or change its texts."""
    existing = session.exec(select(model).where(model.slug == record.slug)).first()
    if new and existing is not None:
        raise CurationRefused("slug_taken")
    if existing is None:
        if not new:
            raise CurationRefused("not_found")
        last = session.exec(select(model.position).order_by(col(model.position).desc())).first()
        position = 0 if last is None else last + 1
        before = None
    else:
        position, before = existing.position, term_record(existing)
    term = catalogue_services.term_upsert(
        session=session, model=model, record=record, position=position
    )
    session.flush()
    after = term_record(term)
    if before == after:
        return term
    entity = _entity(model)
    action = f"{entity}.create" if new else f"{entity}.update"
    _audit(session, actor, action, entity, record.slug, now, before=before, after=after)
    if before is not None and before["name"] != after["name"]:
        _services_changed(session, list(term.services), now)
    return term


def _steps_number(session: Session, life_event: LifeEvent, order: list[Service]) -> None:
    """Give the life event's links the positions 0, 1, 2... of `order`."""
    links = {
        link.service_id: link
        for link in session.exec(
            select(ServiceLifeEvent).where(ServiceLifeEvent.life_event_id == life_event.id)
        ).all()
    }
    for position, service in enumerate(order):
        link = links[service.id]  # type: ignore[index]
        if link.position != position:
            link.position = position
            session.add(link)
    session.flush()
    session.expire(life_event, ["services"])


def _slugs(services: list[Service]) -> list[str]:
    return [service.slug for service in services]


def _steps_audit(
    session: Session,
    actor: Actor,
    action: str,
    life_event: LifeEvent,
    before: list[Service],
    after: list[Service],
    now: dt.datetime,
) -> None:
    _audit(
        session,
        actor,
        action,
        "life_event",
        life_event.slug,
        now,
        before={"steps": _slugs(before)},
        after={"steps": _slugs(after)},
    )


def step_move(
    *,
    session: Session,
    life_event: LifeEvent,
    service: Service,
    direction: int,
    actor: Actor,
    now: dt.datetime,
) -> None:
    """Move a service one step earlier (UP) or later (DOWN) in the life event's journey."""
    steps = selectors.life_event_steps(session=session, life_event=life_event)
    if service not in steps:
        raise CurationRefused("not_a_step")
    index = steps.index(service)
    target = index + direction
    if not 0 <= target < len(steps):
        raise CurationRefused("at_the_end")
    order = list(steps)
    order[index], order[target] = order[target], order[index]
    _steps_number(session, life_event, order)
    _steps_audit(session, actor, "life_event.steps", life_event, steps, order, now)


def _service_links_changed(session: Session, service: Service, now: dt.datetime) -> None:
    service.updated_at = now
    session.add(service)
    session.expire(service, ["life_events"])
    _services_changed(session, [service], now)


def step_add(
    *, session: Session, life_event: LifeEvent, service: Service, actor: Actor, now: dt.datetime
) -> None:
    """Make a service the last step of the life event."""
    steps = selectors.life_event_steps(session=session, life_event=life_event)
    if service in steps:
        raise CurationRefused("already_a_step")
    assert service.id is not None
    assert life_event.id is not None
    session.add(ServiceLifeEvent(service_id=service.id, life_event_id=life_event.id))
    session.flush()
    _steps_number(session, life_event, [*steps, service])
    _service_links_changed(session, service, now)
    _steps_audit(session, actor, "life_event.step_add", life_event, steps, [*steps, service], now)


def step_remove(
    *, session: Session, life_event: LifeEvent, service: Service, actor: Actor, now: dt.datetime
) -> None:
    """Take a service out of the life event's journey."""
    steps = selectors.life_event_steps(session=session, life_event=life_event)
    if service not in steps:
        raise CurationRefused("not_a_step")
    link = session.get(ServiceLifeEvent, (service.id, life_event.id))
    session.delete(link)
    session.flush()
    rest = [step for step in steps if step is not service]
    _steps_number(session, life_event, rest)
    _service_links_changed(session, service, now)
    _steps_audit(session, actor, "life_event.step_remove", life_event, steps, rest, now)


def _synonym_entries(session: Session) -> list[tuple[int, SynonymIn]]:
    return [
        (row.id, SynonymIn(terms=row.terms, one_way=row.one_way, note=row.note))
        for row in catalogue_selectors.synonym_list(session=session)
        if row.id is not None
    ]


def _synonym_audit(
    session: Session,
    actor: Actor,
    action: str,
    before: SynonymIn | None,
    after: SynonymIn | None,
    now: dt.datetime,
) -> None:
    named = after or before
    assert named is not None
    _audit(
        session,
        actor,
        action,
        "synonym",
        ", ".join(named.terms),
        now,
        before=before.model_dump(exclude_none=True) if before else None,
        after=after.model_dump(exclude_none=True) if after else None,
    )


def synonym_add(*, session: Session, entry: SynonymIn, actor: Actor, now: dt.datetime) -> None:
    entries = [kept for _id, kept in _synonym_entries(session)]
    catalogue_services.synonyms_replace(session=session, entries=[*entries, entry], now=now)
    _synonym_audit(session, actor, "synonym.create", None, entry, now)
    session.flush()


def synonym_change(
    *,
    session: Session,
    synonym_id: int,
    entry: SynonymIn | None,
    actor: Actor,
    now: dt.datetime,
) -> None:
    """Replace one entry of the synonym list (None: remove it). Every change of the list gives
    its entries new ids, so an id that is gone means the list changed since it was shown."""
    entries = _synonym_entries(session)
    before = next((kept for kept_id, kept in entries if kept_id == synonym_id), None)
    if before is None:
        raise CurationRefused("list_changed")
    if entry == before:
        return
    wanted = [entry if kept_id == synonym_id else kept for kept_id, kept in entries]
    catalogue_services.synonyms_replace(
        session=session, entries=[kept for kept in wanted if kept is not None], now=now
    )
    action = "synonym.update" if entry is not None else "synonym.delete"
    _synonym_audit(session, actor, action, before, entry, now)
    session.flush()


def _featured_rows(session: Session) -> list[FeaturedService]:
    return list(
        session.exec(
            select(FeaturedService).order_by(
                col(FeaturedService.position), col(FeaturedService.service_id)
            )
        ).all()
    )


def _featured_audit(
    session: Session,
    actor: Actor,
    action: str,
    before: list[Service],
    now: dt.datetime,
) -> None:
    after = selectors.featured_services(session=session)
    _audit(
        session,
        actor,
        action,
        "featured",
        "home",
        now,
        before={"services": _slugs(before)},
        after={"services": _slugs(after)},
    )


def _featured_number(session: Session, rows: list[FeaturedService]) -> None:
    for position, row in enumerate(rows):
        if row.position != position:
            row.position = position
            session.add(row)
    session.flush()


def featured_add(*, session: Session, service: Service, actor: Actor, now: dt.datetime) -> None:
    """Feature a service on the home page, after those already featured."""
    before = selectors.featured_services(session=session)
    if service in before:
        raise CurationRefused("already_featured")
    if len(before) >= selectors.FEATURED_MAX:
        raise CurationRefused("featured_full")
    assert service.id is not None
    session.add(
        FeaturedService(
            service_id=service.id, position=len(before), featured_at=now, featured_by=actor.name
        )
    )
    session.flush()
    _featured_audit(session, actor, "featured.add", before, now)


def featured_move(
    *, session: Session, service: Service, direction: int, actor: Actor, now: dt.datetime
) -> None:
    before = selectors.featured_services(session=session)
    rows = _featured_rows(session)
    index = next((i for i, row in enumerate(rows) if row.service_id == service.id), None)
    if index is None:
        raise CurationRefused("not_featured")
    target = index + direction
    if not 0 <= target < len(rows):
        raise CurationRefused("at_the_end")
    rows[index], rows[target] = rows[target], rows[index]
    _featured_number(session, rows)
    _featured_audit(session, actor, "featured.move", before, now)


def featured_remove(*, session: Session, service: Service, actor: Actor, now: dt.datetime) -> None:
    before = selectors.featured_services(session=session)
    row = session.get(FeaturedService, service.id)
    if row is None:
        raise CurationRefused("not_featured")
    session.delete(row)
    session.flush()
    _featured_number(session, _featured_rows(session))
    _featured_audit(session, actor, "featured.remove", before, now)


def service_status_set(
    *,
    session: Session,
    service: Service,
    status: str,
    alert: Text | None,
    actor: Actor,
    now: dt.datetime,
) -> None:
    """Set a published service's status and notice, straight on the live record (a closure
    cannot wait for a review); search follows through the outbox."""
    record = catalogue_selectors.service_record(service)
    before = {"status": record["status"], "alert": record.get("alert")}
    record["status"] = status
    record.pop("alert", None)
    if alert is not None:
        record["alert"] = alert.model_dump()
    after = {"status": status, "alert": record.get("alert")}
    if before == after:
        return
    try:
        checked = ServiceIn.model_validate(record)
    except ValidationError as error:
        raise CurationRefused("record_invalid") from error
    catalogue_services.service_upsert(
        session=session,
        record=checked,
        institution=service.institution,
        categories=list(service.categories),
        life_events=list(service.life_events),
        now=now,
    )
    _audit(
        session,
        actor,
        "service.status",
        "service",
        service.slug,
        now,
        institution=service.institution.slug,
        before=before,
        after=after,
    )
    session.flush()
