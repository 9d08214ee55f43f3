"""Who reaches the publishing pages: every page and every state-changing route of RITA's
publishing, against every role. Anonymous visitors are sent to sign in (pages) or refused
(posts); citizens and another institution's publisher get 403 and change nothing; RITA's
publisher, curators and administrators get through. Unknown or hostile addresses are 404."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy.engine import Connection
from sqlmodel import Session, col, func, select

from portal.catalogue.models import Service
from portal.db import unit_of_work
from portal.identity import services as identity_services
from portal.identity.models import User
from portal.publishing import services
from portal.publishing.models import Draft
from portal.publishing.schemas import SECTIONS
from portal.publishing.services import Actor
from portal.web.csrf import UNSAFE_METHODS
from tests.functional.publishing.test_pages import SLUG, draft_of, save
from tests.page_client import PageClient
from tests.people import signed_in_as

SOMEONE = Actor(user_id=None, name="Afisa wa RITA")


def _draft(db: Connection, slug: str = SLUG) -> Draft:
    """An open draft of a published service, made as its publisher would."""
    with unit_of_work(db) as session:
        service = session.exec(select(Service).where(Service.slug == slug)).one()
        return services.draft_for_service(
            session=session, service=service, actor=SOMEONE, now=dt.datetime.now(dt.UTC)
        )


def _pages(draft_id: int) -> list[str]:
    return [
        "/chapisha/rita",
        f"/chapisha/rasimu/{draft_id}",
        *(f"/chapisha/rasimu/{draft_id}/{section}" for section in SECTIONS),
        f"/chapisha/rasimu/{draft_id}/hakikisho",
        f"/chapisha/huduma/{SLUG}/matoleo",
        f"/chapisha/huduma/{SLUG}/linganisha?kutoka=sasa&hadi=rasimu",
    ]


def _posts(draft_id: int, version: int) -> list[tuple[str, dict[str, str]]]:
    shown = {"version": str(version)}
    return [
        ("/chapisha/rita/mpya", {"slug": "rita-huduma-ya-jaribio"}),
        (f"/chapisha/huduma/{SLUG}/hariri", {}),
        *((f"/chapisha/rasimu/{draft_id}/{section}", shown) for section in SECTIONS),
        (f"/chapisha/rasimu/{draft_id}/wasilisha", {**shown, "note": "Imebadilishwa"}),
        (f"/chapisha/rasimu/{draft_id}/jibu", {**shown, "answer": "Sawa"}),
        (f"/chapisha/rasimu/{draft_id}/acha", {**shown, "confirm": "yes"}),
    ]


def _token(client: TestClient) -> str:
    """The CSRF token of this client's pages (the feedback widget on the home page has one)."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/").text)
    assert match
    return match.group(1)


def _drafts(db: Connection) -> int:
    with Session(db) as session:
        return session.exec(select(func.count(col(Draft.id)))).one()


@pytest.fixture
def draft(db: Connection) -> Draft:
    return _draft(db)


def test_anonymous_visitors_are_sent_to_sign_in_and_cannot_post(
    client: TestClient, db: Connection, draft: Draft
) -> None:
    assert draft.id is not None
    for url in ["/chapisha", *_pages(draft.id)]:
        response = client.get(url, follow_redirects=False)
        assert response.status_code == 303, url
        location = urlsplit(response.headers["location"])
        assert location.path == "/ingia"
        assert parse_qs(location.query)["rudi"] == [urlsplit(url).path]
    token = _token(client)
    before = _drafts(db)
    for url, data in _posts(draft.id, draft.version):
        response = client.post(url, data={**data, "csrf_token": token}, follow_redirects=False)
        assert response.status_code == 403, url
    assert _drafts(db) == before
    assert draft_of(db, draft.id).version == draft.version


@pytest.mark.parametrize(
    ("role", "institution"), [(None, ""), ("publisher", "tra")], ids=["citizen", "tra-publisher"]
)
def test_citizens_and_other_institutions_publishers_are_refused_everywhere(
    pages: PageClient,
    client: TestClient,
    db: Connection,
    draft: Draft,
    role: str | None,
    institution: str,
) -> None:
    assert draft.id is not None
    signed_in_as(client, db, role=role, institution=institution)
    for url in _pages(draft.id):
        page = pages.get(url + ("&" if "?" in url else "?") + "lang=en", status=403)
        assert page.h1 == "You cannot do this", url
    desk = client.get("/chapisha?lang=en")
    if role is None:
        assert desk.status_code == 403
    else:  # their own start page, without RITA
        assert desk.status_code == 200
        assert "/chapisha/tra" in desk.text
        assert "/chapisha/rita" not in desk.text
    token = _token(client)
    before = _drafts(db)
    for url, data in _posts(draft.id, draft.version):
        response = client.post(url, data={**data, "csrf_token": token}, follow_redirects=False)
        assert response.status_code == 403, url
    assert _drafts(db) == before
    after = draft_of(db, draft.id)
    assert (after.version, after.state, after.record) == (draft.version, draft.state, draft.record)


@pytest.mark.parametrize(
    ("role", "institution"),
    [("publisher", "rita"), ("curator", ""), ("administrator", "")],
    ids=["rita-publisher", "curator", "administrator"],
)
def test_ritas_publisher_curators_and_administrators_reach_every_page(
    pages: PageClient,
    client: TestClient,
    db: Connection,
    draft: Draft,
    role: str,
    institution: str,
) -> None:
    assert draft.id is not None
    signed_in_as(client, db, role=role, institution=institution)
    pages.get("/chapisha")
    for url in _pages(draft.id):
        pages.get(url)
    save(pages, draft.id, "hali", {"status": "active"})
    assert draft_of(db, draft.id).version == draft.version + 1


def test_a_curator_edits_any_institutions_service(
    pages: PageClient, client: TestClient, db: Connection
) -> None:
    signed_in_as(client, db, role="curator")
    page = pages.get("/chapisha/tra?lang=en")
    slug = "tra-usajili-wa-tin-mtu-binafsi"
    response = pages.post(page, {}, action=f"/chapisha/huduma/{slug}/hariri")
    draft_id = int(response.headers["location"].rsplit("/", 1)[1])  # type: ignore[union-attr]
    save(pages, draft_id, "muda", {"time_amount": "2", "time_unit": "days"})
    assert draft_of(db, draft_id).record["processing_time"] == "P2D"


def test_a_publisher_of_two_institutions_reaches_both(
    pages: PageClient, client: TestClient, db: Connection
) -> None:
    user_id = signed_in_as(client, db, role="publisher", institution="rita")
    with unit_of_work(db) as session:  # the same person also publishes for TRA
        user = session.get(User, user_id)
        assert user is not None
        assert user.nin_hash is not None
        identity_services.role_grant(
            session=session,
            nin_digest=user.nin_hash,
            role="publisher",
            institution="tra",
            by="tests",
            now=dt.datetime.now(dt.UTC),
        )
    desk = pages.get("/chapisha?lang=en")
    assert [a.get("href") for a in desk.tree.findall(".//tbody/tr/th/a")] == [
        "/chapisha/rita",
        "/chapisha/tra",
    ]
    pages.get("/chapisha/tra")
    pages.get("/chapisha/nida", status=403)


@pytest.mark.parametrize(
    "url",
    [
        "/chapisha/hakuna-taasisi",
        "/chapisha/" + "r" * 300,
        "/chapisha/rasimu/0",
        "/chapisha/rasimu/-1",
        "/chapisha/rasimu/abc",
        "/chapisha/rasimu/%C2%B2",
        "/chapisha/rasimu/99999999",
        "/chapisha/rasimu/9223372036854775808",
        "/chapisha/rasimu/" + "9" * 60,
        "/chapisha/rasimu/99999999999999999999999/majina",
        "/chapisha/rasimu/1e3/hakikisho",
        "/chapisha/huduma/hakuna-huduma/matoleo",
        "/chapisha/huduma/" + "h" * 300 + "/linganisha?kutoka=1&hadi=2",
    ],
)
def test_unknown_or_hostile_addresses_are_not_found(
    pages: PageClient, client: TestClient, db: Connection, url: str
) -> None:
    signed_in_as(client, db, role="curator")
    pages.get(url, status=404)


def test_posts_to_unknown_drafts_are_not_found(client: TestClient, db: Connection) -> None:
    signed_in_as(client, db, role="curator")
    token = _token(client)
    for url in (
        "/chapisha/rasimu/99999999999999999999999/majina",
        "/chapisha/rasimu/0/wasilisha",
        "/chapisha/huduma/hakuna-huduma/hariri",
        "/chapisha/hakuna-taasisi/mpya",
    ):
        response = client.post(url, data={"csrf_token": token, "version": "1"})
        assert response.status_code == 404, url


def test_the_lists_name_every_state_changing_publishing_route(app: FastAPI) -> None:
    """A new route under /chapisha must join the lists above (or the import tests', for the
    one upload), so that the role tests reach it."""
    registered = {
        str(route.path)
        for route in iter_route_contexts(app.routes)
        if isinstance(route.original_route, APIRoute)
        and str(route.path).startswith("/chapisha")
        and (route.methods or set()) & UNSAFE_METHODS
    }
    listed = {
        re.sub(r"^/chapisha/rita/", "/chapisha/{institution}/", url)
        .replace(f"/huduma/{SLUG}/", "/huduma/{slug}/")
        .replace("/rasimu/1/", "/rasimu/{draft_id}/")
        for url, _data in _posts(1, 1)
    }
    listed = {
        re.sub(
            r"/rasimu/\{draft_id\}/(" + "|".join(SECTIONS) + ")$",
            "/rasimu/{draft_id}/{section}",
            url,
        )
        for url in listed
    }
    import_upload = "/chapisha/{institution}/ingiza"  # tests/functional/publishing/test_import.py
    assert registered == listed | {import_upload}
