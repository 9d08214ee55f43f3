"""The publishing workflow through its services: draft, change, submit, send back, approve,
revisions, stale decisions refused, and every step on the audit log."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select

from portal.audit.models import AuditEntry
from portal.catalogue.models import Institution, Service
from portal.db import unit_of_work
from portal.outbox.models import OutboxEntry
from portal.publishing import selectors, services
from portal.publishing.models import PUBLISHED, RETURNED, SUBMITTED, Draft
from portal.publishing.services import Actor, DraftRefused, DraftStale

NOW = dt.datetime(2026, 12, 4, 9, 0, tzinfo=dt.UTC)
PUBLISHER = Actor(user_id=None, name="Afisa wa RITA")
CURATOR = Actor(user_id=None, name="Msimamizi")
SLUG = "rita-cheti-cha-kuzaliwa"


def _service(session: Session) -> Service:
    return session.exec(select(Service).where(Service.slug == SLUG)).one()


def test_a_change_goes_from_draft_to_published_with_its_revisions(db: Connection) -> None:
    with unit_of_work(db) as session:
        draft = services.draft_for_service(
            session=session, service=_service(session), actor=PUBLISHER, now=NOW
        )
        summary = {"sw": "Muhtasari mpya wa usajili.", "en": "A new summary of registration."}
        services.draft_update(
            session=session,
            draft=draft,
            changes={"summary": summary},
            version=draft.version,
            actor=PUBLISHER,
            now=NOW,
        )
        assert _service(session).summary != summary  # the published version stays live
        services.draft_submit(
            session=session,
            draft=draft,
            version=draft.version,
            note="Muhtasari",
            actor=PUBLISHER,
            now=NOW,
        )
        assert draft.state == SUBMITTED
        queue = [d.id for d, _institution in selectors.review_queue(session=session)]
        assert draft.id in queue
        revision = services.draft_approve(
            session=session, draft=draft, version=draft.version, actor=CURATOR, now=NOW
        )
        assert draft.state == PUBLISHED
        assert _service(session).summary == summary
        assert revision.number == 2  # 1 is the record as it was before
        numbers = [
            r.number
            for r in selectors.revisions_of(session=session, service_id=revision.service_id)
        ]
        assert numbers == [2, 1]
        changes = selectors.record_changes(
            selectors.revision_get(
                session=session, service_id=revision.service_id, number=1
            ).record,  # type: ignore[union-attr]
            revision.record,
        )
        assert {change.part for change in changes} >= {"summary.sw", "summary.en"}
        outbox = session.exec(select(OutboxEntry).where(OutboxEntry.key == SLUG)).all()
        assert outbox  # search follows through the outbox
        actions = [
            entry.action
            for entry in session.exec(
                select(AuditEntry).where(AuditEntry.entity_key.in_([str(draft.id), SLUG]))
            ).all()  # type: ignore[attr-defined]
        ]
        for action in (
            "draft.create",
            "draft.update",
            "draft.submit",
            "draft.approve",
            "service.publish",
        ):
            assert action in actions


def test_a_stale_review_is_refused(db: Connection) -> None:
    with unit_of_work(db) as session:
        draft = services.draft_for_service(
            session=session, service=_service(session), actor=PUBLISHER, now=NOW
        )
        shown = draft.version
        services.draft_submit(
            session=session, draft=draft, version=shown, note="", actor=PUBLISHER, now=NOW
        )
        with pytest.raises(DraftStale):  # the curator's page showed an older version
            services.draft_approve(
                session=session, draft=draft, version=shown, actor=CURATOR, now=NOW
            )
        services.draft_return(
            session=session,
            draft=draft,
            version=draft.version,
            note="Ongeza gharama.",
            actor=CURATOR,
            now=NOW,
        )
        assert draft.state == RETURNED
        with pytest.raises(DraftRefused):
            services.draft_approve(
                session=session, draft=draft, version=draft.version, actor=CURATOR, now=NOW
            )


def test_an_incomplete_new_service_cannot_be_submitted(db: Connection) -> None:
    with unit_of_work(db) as session:
        rita = session.exec(select(Institution).where(Institution.slug == "rita")).one()
        draft = services.draft_new(
            session=session, institution=rita, slug="rita-huduma-mpya", actor=PUBLISHER, now=NOW
        )
        percent, problems = selectors.completeness(draft.record)
        assert percent < 100
        assert problems
        with pytest.raises(DraftRefused, match="incomplete"):
            services.draft_submit(
                session=session,
                draft=draft,
                version=draft.version,
                note="",
                actor=PUBLISHER,
                now=NOW,
            )
        with pytest.raises(DraftRefused, match="slug_taken"):
            services.draft_new(
                session=session, institution=rita, slug=SLUG, actor=PUBLISHER, now=NOW
            )


def test_the_audit_log_cannot_be_changed(db: Connection) -> None:
    with unit_of_work(db) as session:
        rita = session.exec(select(Institution).where(Institution.slug == "rita")).one()
        services.draft_new(
            session=session, institution=rita, slug="rita-ya-kumbukumbu", actor=PUBLISHER, now=NOW
        )
    for statement in ("UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"), db.begin_nested():
            db.exec_driver_sql(statement)
    with Session(db) as session:
        assert session.exec(select(Draft).where(Draft.slug == "rita-ya-kumbukumbu")).one()
