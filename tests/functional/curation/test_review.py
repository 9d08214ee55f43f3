"""The review queue and decisions, through the pages: approving publishes (public page,
search outbox row, revision), sending back needs a comment, a stale decision is refused."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.engine import Connection
from sqlmodel import Session, col, select

from portal.audit.models import AuditEntry
from portal.catalogue.models import Institution, Service
from portal.catalogue.services import SERVICE_CHANGED
from portal.db import unit_of_work
from portal.outbox.models import OutboxEntry
from portal.publishing import services as publishing_services
from portal.publishing.models import PUBLISHED, RETURNED, SUBMITTED, Draft, ReviewNote, Revision
from portal.publishing.services import Actor
from tests.page_client import Page, PageClient
from tests.people import signed_in_as

NOW = dt.datetime(2026, 12, 4, 9, 0, tzinfo=dt.UTC)
PUBLISHER = Actor(user_id=None, name="Afisa wa Majaribio")
RITA = "rita-cheti-cha-kuzaliwa"
TRA = "tra-usajili-wa-tin-mtu-binafsi"
SUMMARY = {
    "sw": "Muhtasari mpya wa usajili wa vizazi.",
    "en": "A new summary of birth registration.",
}


def _service(session: Session, slug: str) -> Service:
    return session.exec(select(Service).where(Service.slug == slug)).one()


def _submitted(db: Connection, slug: str = RITA, changes: dict[str, Any] | None = None) -> int:
    """A draft of a published service, changed and submitted for review; its id."""
    with unit_of_work(db) as session:
        draft = publishing_services.draft_for_service(
            session=session, service=_service(session, slug), actor=PUBLISHER, now=NOW
        )
        publishing_services.draft_update(
            session=session,
            draft=draft,
            changes=changes or {"summary": SUMMARY},
            version=draft.version,
            actor=PUBLISHER,
            now=NOW,
        )
        publishing_services.draft_submit(
            session=session,
            draft=draft,
            version=draft.version,
            note="Muhtasari mpya",
            actor=PUBLISHER,
            now=NOW,
        )
        assert draft.id is not None
        return draft.id


def _draft(db: Connection, draft_id: int) -> Draft:
    with unit_of_work(db) as session:
        draft = session.get(Draft, draft_id)
        assert draft is not None
        return draft


def _curator(client: TestClient, db: Connection) -> None:
    signed_in_as(client, db, role="curator", name="Msimamizi Mkuu")


def _review_page(pages: PageClient, draft_id: int, status: int = 200) -> Page:
    return pages.get(f"/simamia/mapitio/{draft_id}?lang=en", status=status)


def test_the_review_page_compares_the_draft_with_the_published_service(
    pages: PageClient, client: TestClient, db: Connection
) -> None:
    draft_id = _submitted(db)
    _curator(client, db)
    page = _review_page(pages, draft_id)
    rows = page.texts(".//table//tbody/tr")
    assert any(row.startswith("summary.en") and SUMMARY["en"] in row for row in rows), rows
    assert len(rows) == 2  # only the summary changed, in both languages
    text = page.text()
    assert "Muhtasari mpya" in text  # the change note and the notes thread
    assert "Complete: every required part is filled in." in text
    assert "A change to a published service" in text
    pages.form(page, f"/simamia/mapitio/{draft_id}/idhinisha")
    pages.form(page, f"/simamia/mapitio/{draft_id}/rudisha")


def test_approving_publishes_the_change(
    pages: PageClient, client: TestClient, db: Connection
) -> None:
    draft_id = _submitted(db)
    _curator(client, db)
    page = _review_page(pages, draft_id)
    response = pages.post(page, {}, action=f"/simamia/mapitio/{draft_id}/idhinisha")
    assert response.headers["location"] == f"/simamia/mapitio/{draft_id}"
    assert SUMMARY["en"] in pages.get(f"/huduma/{RITA}?lang=en").text()
    with unit_of_work(db) as session:
        draft = session.get(Draft, draft_id)
        assert draft is not None
        assert draft.state == PUBLISHED
        outbox = session.exec(
            select(OutboxEntry).where(OutboxEntry.topic == SERVICE_CHANGED, OutboxEntry.key == RITA)
        ).all()
        assert outbox, "search follows through the outbox"
        revision = session.exec(select(Revision).where(Revision.draft_id == draft_id)).one()
        assert revision.published_by_name == "Msimamizi Mkuu"
        assert revision.record["summary"] == SUMMARY
        actions = set(
            session.exec(
                select(AuditEntry.action).where(
                    col(AuditEntry.entity_key).in_([str(draft_id), RITA])
                )
            ).all()
        )
        assert {"draft.approve", "service.publish"} <= actions
    after = _review_page(pages, draft_id)
    assert "Approved and published" in after.text()
    assert not [form for form in after.tree.iter("form") if "idhinisha" in form.get("action", "")]


def test_sending_back_needs_a_comment_and_the_publisher_sees_it(
    pages: PageClient, client: TestClient, db: Connection
) -> None:
    draft_id = _submitted(db)
    _curator(client, db)
    page = _review_page(pages, draft_id)
    action = f"/simamia/mapitio/{draft_id}/rudisha"
    refused = pages.post(page, {"comment": "   "}, action=action, status=422)
    assert "Enter what the publisher needs to change" in refused.text()
    assert _draft(db, draft_id).state == SUBMITTED
    comment = "Tafadhali ongeza ada ya cheti cha pili."
    pages.post(refused, {"comment": comment}, action=action)
    draft = _draft(db, draft_id)
    assert draft.state == RETURNED
    with unit_of_work(db) as session:
        notes = session.exec(select(ReviewNote).where(ReviewNote.draft_id == draft_id)).all()
        returned = [note for note in notes if note.kind == "returned"]
        assert [note.body for note in returned] == [comment]
        assert returned[0].author_name == "Msimamizi Mkuu"
        assert session.exec(
            select(AuditEntry).where(
                AuditEntry.action == "draft.return", AuditEntry.entity_key == str(draft_id)
            )
        ).one()
    assert comment in _review_page(pages, draft_id).text()


def test_a_comment_with_html_is_refused_with_a_message(
    pages: PageClient, client: TestClient, db: Connection
) -> None:
    draft_id = _submitted(db)
    _curator(client, db)
    page = _review_page(pages, draft_id)
    action = f"/simamia/mapitio/{draft_id}/rudisha"
    refused = pages.post(page, {"comment": "<script>alert(1)</script>"}, action=action, status=422)
    assert "Remove the HTML" in refused.text()
    assert "<script>alert" not in refused.response.text


def test_a_decision_on_an_older_version_is_refused(
    pages: PageClient, client: TestClient, db: Connection
) -> None:
    draft_id = _submitted(db)
    _curator(client, db)
    page = _review_page(pages, draft_id)
    with unit_of_work(db) as session:  # meanwhile the publisher takes it back and resubmits
        draft = session.get(Draft, draft_id)
        assert draft is not None
        publishing_services.draft_return(
            session=session,
            draft=draft,
            version=draft.version,
            note="Nitarekebisha",
            actor=PUBLISHER,
            now=NOW,
        )
        publishing_services.draft_update(
            session=session,
            draft=draft,
            changes={"summary": {"sw": "Muhtasari mwingine.", "en": "Another summary."}},
            version=draft.version,
            actor=PUBLISHER,
            now=NOW,
        )
        publishing_services.draft_submit(
            session=session, draft=draft, version=draft.version, note="", actor=PUBLISHER, now=NOW
        )
    refused = pages.post(page, {}, action=f"/simamia/mapitio/{draft_id}/idhinisha", status=409)
    assert refused.h1 == "This changed while you were looking at it"
    assert refused.find(f".//a[@href='/simamia/mapitio/{draft_id}']") is not None
    assert _draft(db, draft_id).state == SUBMITTED
    with unit_of_work(db) as session:
        assert _service(session, RITA).summary != SUMMARY
        assert not session.exec(select(Revision).where(Revision.draft_id == draft_id)).all()
    again = pages.post(
        page, {"comment": "Sawa"}, action=f"/simamia/mapitio/{draft_id}/rudisha", status=409
    )
    assert again.h1 == "This changed while you were looking at it"


def test_a_draft_of_a_service_published_meanwhile_is_refused(
    pages: PageClient, client: TestClient, db: Connection
) -> None:
    draft_id = _submitted(db)
    with unit_of_work(db) as session:  # the service is published again from another draft
        draft = session.get(Draft, draft_id)
        assert draft is not None
        draft.base_revision = 7
        session.add(draft)
    _curator(client, db)
    page = _review_page(pages, draft_id)
    refused = pages.post(page, {}, action=f"/simamia/mapitio/{draft_id}/idhinisha", status=409)
    assert "published again" in refused.text()
    assert _draft(db, draft_id).state == SUBMITTED


def test_a_decision_already_taken_is_refused(
    pages: PageClient, client: TestClient, db: Connection
) -> None:
    draft_id = _submitted(db)
    _curator(client, db)
    page = _review_page(pages, draft_id)
    pages.post(page, {}, action=f"/simamia/mapitio/{draft_id}/idhinisha")
    twice = pages.post(page, {}, action=f"/simamia/mapitio/{draft_id}/idhinisha", status=409)
    assert twice.h1 == "This draft is no longer waiting for review"


def test_a_tampered_version_is_answered_with_a_message(
    pages: PageClient, client: TestClient, db: Connection
) -> None:
    draft_id = _submitted(db)
    _curator(client, db)
    page = _review_page(pages, draft_id)
    action = f"/simamia/mapitio/{draft_id}/idhinisha"
    for version in ("abc", "99999999999999999999", "-1"):
        refused = pages.post(page, {"version": version}, action=action, status=422)
        assert "reload it and decide again" in refused.text()
    assert _draft(db, draft_id).state == SUBMITTED


def test_the_queue_lists_the_oldest_first_and_filters_by_institution(
    pages: PageClient, client: TestClient, db: Connection
) -> None:
    first = _submitted(db, RITA)
    second = _submitted(db, TRA, {"summary": {"sw": "Muhtasari wa TIN.", "en": "TIN summary."}})
    with unit_of_work(db) as session:
        older = session.get(Draft, second)
        assert older is not None
        older.submitted_at = NOW - dt.timedelta(days=3)
        session.add(older)
    _curator(client, db)
    links = pages.get("/simamia/mapitio?lang=en").tree.findall(".//table//a")
    hrefs = [link.get("href") for link in links]
    assert hrefs.index(f"/simamia/mapitio/{second}") < hrefs.index(f"/simamia/mapitio/{first}")
    only_tra = pages.get("/simamia/mapitio?taasisi=tra&lang=en")
    hrefs = [link.get("href") for link in only_tra.tree.findall(".//table//a")]
    assert f"/simamia/mapitio/{second}" in hrefs
    assert f"/simamia/mapitio/{first}" not in hrefs
    assert only_tra.find(".//select[@name='taasisi']/option[@selected]").get("value") == "tra"  # type: ignore[union-attr]


def test_a_bad_queue_filter_says_so(pages: PageClient, client: TestClient, db: Connection) -> None:
    _curator(client, db)
    unknown = pages.get("/simamia/mapitio?taasisi=hakuna-taasisi&lang=en", status=400)
    assert "Select an institution from the list" in unknown.text()
    hostile = pages.get("/simamia/mapitio?taasisi=%3Cscript%3E&lang=en", status=400)
    assert "<script>" not in hostile.response.text


def test_review_addresses_that_do_not_exist(
    pages: PageClient, client: TestClient, db: Connection
) -> None:
    _curator(client, db)
    pages.get("/simamia/mapitio/2147483647", status=404)
    pages.get("/simamia/mapitio/99999999999999999999999", status=400)
    pages.get("/simamia/mapitio/abc", status=400)
    pages.get("/simamia/mapitio/0", status=400)


def test_the_start_page_counts_what_waits(
    pages: PageClient, client: TestClient, db: Connection
) -> None:
    _submitted(db)
    _curator(client, db)
    page = pages.get("/simamia?lang=en")
    facts = dict(zip(page.texts(".//dl/dt"), page.texts(".//dl/dd"), strict=True))
    assert int(facts["Drafts waiting for review"]) >= 1
    assert facts["Longest wait"] != "No draft is waiting"
    assert int(facts["Services overdue for review"]) >= 0
    hrefs = {link.get("href") for link in page.tree.iter("a")}
    assert {"/simamia/mapitio", "/simamia/taasisi", "/simamia/kumbukumbu"} <= hrefs


def test_a_new_service_is_shown_as_new(
    pages: PageClient, client: TestClient, db: Connection
) -> None:
    with unit_of_work(db) as session:
        rita = session.exec(select(Institution).where(Institution.slug == "rita")).one()
        draft = publishing_services.draft_new(
            session=session, institution=rita, slug="rita-huduma-mpya", actor=PUBLISHER, now=NOW
        )
        draft.state, draft.submitted_at = SUBMITTED, NOW  # incomplete, to show its problems
        session.add(draft)
        draft_id = draft.id
    _curator(client, db)
    page = pages.get(f"/simamia/mapitio/{draft_id}?lang=en")
    text = page.text()
    assert "The new service, field by field" in text
    assert "These parts must be corrected" in text
    refused = pages.post(page, {}, action=f"/simamia/mapitio/{draft_id}/idhinisha", status=409)
    assert refused.h1 == "This draft cannot be published as it is"
    with unit_of_work(db) as session:
        assert (
            session.exec(select(Service).where(Service.slug == "rita-huduma-mpya")).first() is None
        )
