"""Writes of publishing: drafts made, changed, submitted, sent back, answered and approved.

Services flush; the caller's unit of work commits. Every change is written to the audit log in
the same unit of work. A change or a review decision names the draft version it was made on:
if the draft (or the published service) changed meanwhile, it is refused with `DraftStale`
instead of being applied to something the person did not see.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlmodel import Session, col, select

from portal.audit import services as audit_services
from portal.catalogue import selectors as catalogue_selectors
from portal.catalogue import services as catalogue_services
from portal.catalogue.models import Category, Institution, LifeEvent, Service
from portal.catalogue.schemas import ServiceIn
from portal.publishing.models import (
    DISCARDED,
    EDITING,
    OPEN_STATES,
    PUBLISHED,
    RETURNED,
    SUBMITTED,
    Draft,
    ReviewNote,
    Revision,
)

REVIEW_EVERY = dt.timedelta(days=365)  # how long an approved record stays current


class DraftStale(ValueError):
    """The draft, or the service it changes, changed since the person last saw it."""


class DraftRefused(ValueError):
    """What was asked cannot be done to a draft in its state, or its record is not complete."""


@dataclass(frozen=True)
class Actor:
    """Who is acting, as the audit log and the review notes record them."""

    user_id: int | None
    name: str


def _audit(
    session: Session, actor: Actor, action: str, draft: Draft, now: dt.datetime, **extra: Any
) -> None:
    institution = session.get(Institution, draft.institution_id)
    audit_services.audit_record(
        session=session,
        actor_id=actor.user_id,
        actor=actor.name,
        action=action,
        entity="draft",
        entity_key=str(draft.id),
        institution=institution.slug if institution else None,
        now=now,
        **extra,
    )


def latest_revision(*, session: Session, service_id: int) -> Revision | None:
    return session.exec(
        select(Revision)
        .where(Revision.service_id == service_id)
        .order_by(col(Revision.number).desc())
    ).first()


def draft_open_of(*, session: Session, service_id: int) -> Draft | None:
    """The service's draft still being worked on or reviewed, if any (there is one at most)."""
    return session.exec(
        select(Draft).where(Draft.service_id == service_id, col(Draft.state).in_(OPEN_STATES))
    ).first()


def draft_for_service(
    *, session: Session, service: Service, actor: Actor, now: dt.datetime
) -> Draft:
    """The open draft of a published service, or a new one made from its current record."""
    assert service.id is not None
    existing = draft_open_of(session=session, service_id=service.id)
    if existing is not None:
        return existing
    latest = latest_revision(session=session, service_id=service.id)
    return _draft_add(
        session,
        Draft(
            institution_id=service.institution_id,
            service_id=service.id,
            slug=service.slug,
            record=catalogue_selectors.service_record(service),
            state=EDITING,
            base_revision=latest.number if latest else 0,
            created_at=now,
            updated_at=now,
        ),
        actor,
        now,
    )


def _draft_add(session: Session, draft: Draft, actor: Actor, now: dt.datetime) -> Draft:
    draft.created_by = draft.updated_by = actor.user_id
    session.add(draft)
    session.flush()
    _audit(session, actor, "draft.create", draft, now, after={"slug": draft.slug})
    return draft


def draft_new(
    *, session: Session, institution: Institution, slug: str, actor: Actor, now: dt.datetime
) -> Draft:
    """A draft of a new service of `institution`; its slug must be free."""
    taken = session.exec(select(Service.id).where(Service.slug == slug)).first() is not None
    drafted = session.exec(
        select(Draft.id).where(Draft.slug == slug, col(Draft.state).in_(OPEN_STATES))
    ).first()
    if taken or drafted is not None:
        raise DraftRefused("slug_taken")
    assert institution.id is not None
    return _draft_add(
        session,
        Draft(
            institution_id=institution.id,
            slug=slug,
            # Approval sets the review dates again; a new record starts with provisional ones
            # so that no page has to ask the publisher for them before it can be submitted.
            record={
                "slug": slug,
                "institution": institution.slug,
                "last_reviewed": now.date().isoformat(),
                "review_due": (now.date() + REVIEW_EVERY).isoformat(),
            },
            state=EDITING,
            created_at=now,
            updated_at=now,
        ),
        actor,
        now,
    )


def _version_check(draft: Draft, version: int) -> None:
    if draft.version != version:
        raise DraftStale("the draft changed since it was shown")


def draft_update(
    *,
    session: Session,
    draft: Draft,
    changes: dict[str, Any],
    version: int,
    actor: Actor,
    now: dt.datetime,
) -> Draft:
    """Set some top-level parts of the draft's record (a part given as None is removed)."""
    if draft.state not in (EDITING, RETURNED):
        raise DraftRefused("not_editable")
    _version_check(draft, version)
    if "slug" in changes or "institution" in changes:
        raise DraftRefused("fixed_part")
    before = {name: draft.record.get(name) for name in changes}
    record = dict(draft.record)
    for name, value in changes.items():
        if value is None:
            record.pop(name, None)
        else:
            record[name] = value
    draft.record = record
    draft.state = EDITING
    draft.version += 1
    draft.updated_by, draft.updated_at = actor.user_id, now
    session.add(draft)
    session.flush()
    _audit(session, actor, "draft.update", draft, now, before=before, after=changes)
    return draft


def record_problems(record: dict[str, Any]) -> list[tuple[str, str]]:
    """What keeps a record from being published: (part, message) pairs; none when complete."""
    try:
        ServiceIn.model_validate(record)
    except ValidationError as error:
        return [
            (".".join(str(part) for part in problem["loc"]) or "record", problem["msg"])
            for problem in error.errors(include_url=False)
        ]
    return []


def draft_submit(
    *, session: Session, draft: Draft, version: int, note: str, actor: Actor, now: dt.datetime
) -> None:
    """Send a complete draft to the curators' review queue."""
    if draft.state not in (EDITING, RETURNED):
        raise DraftRefused("not_editable")
    _version_check(draft, version)
    if record_problems(draft.record):
        raise DraftRefused("incomplete")
    draft.state, draft.submitted_at = SUBMITTED, now
    draft.change_note = note[:500]
    draft.version += 1
    session.add(draft)
    _note(session, draft, actor, "submitted", note, now)
    _audit(session, actor, "draft.submit", draft, now, note=note or None)
    session.flush()


def _note(
    session: Session, draft: Draft, actor: Actor, kind: str, body: str, now: dt.datetime
) -> None:
    assert draft.id is not None
    session.add(
        ReviewNote(
            draft_id=draft.id,
            author_id=actor.user_id,
            author_name=actor.name,
            kind=kind,
            body=body[:2000],
            draft_version=draft.version,
            at=now,
        )
    )


def draft_return(
    *, session: Session, draft: Draft, version: int, note: str, actor: Actor, now: dt.datetime
) -> None:
    """A curator sends the draft back to its publisher, saying why."""
    if draft.state != SUBMITTED:
        raise DraftRefused("not_submitted")
    _version_check(draft, version)
    if not note.strip():
        raise DraftRefused("note_needed")
    draft.state = RETURNED
    draft.version += 1
    session.add(draft)
    _note(session, draft, actor, "returned", note, now)
    _audit(session, actor, "draft.return", draft, now, note=note)
    session.flush()


def draft_answer(
    *, session: Session, draft: Draft, note: str, actor: Actor, now: dt.datetime
) -> None:
    """The publisher answers the curator's note (before changing and submitting again)."""
    if draft.state != RETURNED:
        raise DraftRefused("not_returned")
    if not note.strip():
        raise DraftRefused("note_needed")
    _note(session, draft, actor, "answered", note, now)
    _audit(session, actor, "draft.answer", draft, now, note=note)
    session.flush()


def draft_discard(*, session: Session, draft: Draft, actor: Actor, now: dt.datetime) -> None:
    if draft.state not in OPEN_STATES:
        raise DraftRefused("not_open")
    draft.state = DISCARDED
    draft.version += 1
    session.add(draft)
    _audit(session, actor, "draft.discard", draft, now)
    session.flush()


def draft_approve(
    *, session: Session, draft: Draft, version: int, actor: Actor, now: dt.datetime
) -> Revision:
    """Publish the draft: the catalogue record changes (and search follows through the
    outbox), the record is kept as the service's next revision."""
    if draft.state != SUBMITTED:
        raise DraftRefused("not_submitted")
    _version_check(draft, version)
    service = session.get(Service, draft.service_id) if draft.service_id else None
    latest = None
    if service is not None:
        assert service.id is not None
        latest = latest_revision(session=session, service_id=service.id)
        if (latest.number if latest else 0) != (draft.base_revision or 0):
            raise DraftStale("the service was published again since this draft was made")
        if latest is None:  # its first revision: the record as it was before this one
            session.add(_revision(service.id, 1, catalogue_selectors.service_record(service), now))
            latest_number = 1
        else:
            latest_number = latest.number
        before = catalogue_selectors.service_record(service)
    else:
        taken = session.exec(select(Service.id).where(Service.slug == draft.slug)).first()
        if taken is not None:
            raise DraftStale("another service took this address since this draft was made")
        latest_number, before = 0, None
    today = now.date()
    record = {
        **draft.record,
        "last_reviewed": today.isoformat(),
        "review_due": max(
            dt.date.fromisoformat(str(draft.record.get("review_due", today.isoformat()))),
            today + REVIEW_EVERY,
        ).isoformat(),
    }
    checked = ServiceIn.model_validate(record)
    published = record_publish(session=session, record=checked, now=now)
    assert published.id is not None
    revision = _revision(
        published.id,
        latest_number + 1,
        checked.model_dump(mode="json", exclude_none=True),
        now,
        draft=draft,
        actor=actor,
    )
    session.add(revision)
    draft.state, draft.service_id, draft.record = PUBLISHED, published.id, revision.record
    draft.version += 1
    session.add(draft)
    _note(session, draft, actor, "approved", "", now)
    _audit(session, actor, "draft.approve", draft, now)
    audit_services.audit_record(
        session=session,
        actor_id=actor.user_id,
        actor=actor.name,
        action="service.publish",
        entity="service",
        entity_key=checked.slug,
        institution=checked.institution,
        before=before,
        after=revision.record,
        note=draft.change_note or None,
        now=now,
    )
    session.flush()
    return revision


def _revision(
    service_id: int,
    number: int,
    record: dict[str, Any],
    now: dt.datetime,
    *,
    draft: Draft | None = None,
    actor: Actor | None = None,
) -> Revision:
    return Revision(
        service_id=service_id,
        number=number,
        record=record,
        change_note=draft.change_note if draft else "",
        draft_id=draft.id if draft else None,
        published_by=actor.user_id if actor else None,
        published_by_name=actor.name if actor else "the catalogue before review",
        published_at=now,
    )


def record_publish(*, session: Session, record: ServiceIn, now: dt.datetime) -> Service:
    """Make `record` the published service (with its institution, categories and life events
    looked up by slug); search follows through the outbox."""
    institution = session.exec(
        select(Institution).where(Institution.slug == record.institution)
    ).one()
    categories = list(
        session.exec(select(Category).where(col(Category.slug).in_(record.categories))).all()
    )
    life_events = list(
        session.exec(select(LifeEvent).where(col(LifeEvent.slug).in_(record.life_events))).all()
    )
    if len(categories) != len(set(record.categories)) or len(life_events) != len(
        set(record.life_events)
    ):
        raise DraftRefused("unknown_term")
    service = catalogue_services.service_upsert(
        session=session,
        record=record,
        institution=institution,
        categories=categories,
        life_events=life_events,
        now=now,
    )
    session.flush()
    return service
