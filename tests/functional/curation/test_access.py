"""Every curation route, GET and POST, against every role: a visitor who is not signed in is
sent to sign in, a citizen and a publisher are refused, a curator and an administrator get in."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy.engine import Connection
from sqlmodel import select

from portal.catalogue import selectors as catalogue_selectors
from portal.catalogue.models import Service
from portal.db import unit_of_work
from portal.publishing import services as publishing_services
from portal.publishing.services import Actor
from tests.page_client import PageClient
from tests.people import signed_in_as

NOW = dt.datetime(2026, 12, 4, 9, 0, tzinfo=dt.UTC)
SERVICE = "rita-cheti-cha-kuzaliwa"  # a step of kuzaliwa-mtoto
EVENT = "kuzaliwa-mtoto"
# Every route of the curators' tools, as the app registers it. The POSTs run in this order,
# so the one deleting a synonym comes last.
GETS = [
    "/simamia",
    "/simamia/mapitio",
    "/simamia/mapitio/{draft_id}",
    "/simamia/taasisi",
    "/simamia/taasisi/mpya",
    "/simamia/taasisi/{slug}",
    "/simamia/makundi",
    "/simamia/makundi/mpya",
    "/simamia/makundi/{slug}",
    "/simamia/matukio",
    "/simamia/matukio/mpya",
    "/simamia/matukio/{slug}",
    "/simamia/matukio/{slug}/hatua",
    "/simamia/visawe",
    "/simamia/visawe/mpya",
    "/simamia/visawe/{synonym_id}",
    "/simamia/visawe/{synonym_id}/futa",
    "/simamia/zilizoangaziwa",
    "/simamia/huduma",
    "/simamia/huduma/{slug}/hali",
    "/simamia/kumbukumbu",
]
POSTS = [
    "/simamia/mapitio/{draft_id}/idhinisha",
    "/simamia/mapitio/{draft_id}/rudisha",
    "/simamia/taasisi/mpya",
    "/simamia/taasisi/{slug}",
    "/simamia/makundi/mpya",
    "/simamia/makundi/{slug}",
    "/simamia/matukio/mpya",
    "/simamia/matukio/{slug}",
    "/simamia/matukio/{slug}/hatua",
    "/simamia/matukio/{slug}/hatua/{service}/juu",
    "/simamia/matukio/{slug}/hatua/{service}/chini",
    "/simamia/matukio/{slug}/hatua/{service}/ondoa",
    "/simamia/visawe/mpya",
    "/simamia/visawe/{synonym_id}",
    "/simamia/zilizoangaziwa",
    "/simamia/zilizoangaziwa/{service}/juu",
    "/simamia/zilizoangaziwa/{service}/chini",
    "/simamia/zilizoangaziwa/{service}/ondoa",
    "/simamia/huduma/{slug}/hali",
    "/simamia/visawe/{synonym_id}/futa",
]
# What `{slug}` names after each tool's path.
SLUGS = {"taasisi": "rita", "makundi": "elimu", "matukio": EVENT, "huduma": SERVICE}


def _submitted_draft(db: Connection) -> int:
    with unit_of_work(db) as session:
        service = session.exec(select(Service).where(Service.slug == SERVICE)).one()
        publisher = Actor(user_id=None, name="Afisa wa RITA")
        draft = publishing_services.draft_for_service(
            session=session, service=service, actor=publisher, now=NOW
        )
        publishing_services.draft_submit(
            session=session, draft=draft, version=draft.version, note="", actor=publisher, now=NOW
        )
        assert draft.id is not None
        return draft.id


def _paths(db: Connection) -> tuple[list[str], list[str]]:
    """The GET and POST paths to try, with a draft waiting for review."""
    with unit_of_work(db) as session:
        synonym_id = catalogue_selectors.synonym_list(session=session)[0].id
    draft_id = _submitted_draft(db)

    def path(route: str) -> str:
        tool = route.removeprefix("/simamia/").split("/")[0]
        return route.format(
            draft_id=draft_id, synonym_id=synonym_id, slug=SLUGS.get(tool, ""), service=SERVICE
        )

    return [path(route) for route in GETS], [path(route) for route in POSTS]


def _csrf_token(client: TestClient) -> str:
    page = client.get("/")
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found
    return found.group(1)


def _sign_in(client: TestClient, db: Connection, role: str) -> None:
    if role == "citizen":
        signed_in_as(client, db)
    elif role == "publisher":
        signed_in_as(client, db, role="publisher", institution="rita")
    elif role != "anonymous":
        signed_in_as(client, db, role=role)


def test_the_lists_name_every_curation_route(app: FastAPI) -> None:
    registered = {
        (method, str(route.path))
        for route in iter_route_contexts(app.routes)
        if isinstance(route.original_route, APIRoute) and str(route.path).startswith("/simamia")
        for method in route.methods or set()
    }
    listed = {("GET", path) for path in GETS} | {("POST", path) for path in POSTS}
    assert registered == listed


@pytest.mark.parametrize("role", ["anonymous", "citizen", "publisher"])
def test_who_is_not_a_curator_is_refused_everywhere(
    client: TestClient, db: Connection, role: str
) -> None:
    gets, posts = _paths(db)
    token = _csrf_token(client)
    _sign_in(client, db, role)
    for path in gets:
        response = client.get(path, follow_redirects=False)
        _assert_refused(response.status_code, response.headers, role, path)
    for path in posts:
        response = client.post(path, data={"csrf_token": token}, follow_redirects=False)
        _assert_refused(response.status_code, response.headers, role, path)


def _assert_refused(status: int, headers: object, role: str, path: str) -> None:
    if role == "anonymous":
        assert status == 303, (path, status)
        assert headers["location"].startswith("/ingia?"), path  # type: ignore[index]
    else:
        assert status == 403, (role, path, status)


@pytest.mark.parametrize("role", ["curator", "administrator"])
def test_curators_and_administrators_get_in_everywhere(
    client: TestClient, db: Connection, role: str
) -> None:
    gets, posts = _paths(db)
    token = _csrf_token(client)
    _sign_in(client, db, role)
    pages = PageClient(client)
    for path in gets:
        pages.get(path)  # 200, and the page holds to the page contract
    for path in posts:
        response = client.post(path, data={"csrf_token": token}, follow_redirects=False)
        # An empty form is answered with its errors (422), a move or a removal is done (303)
        # or refused as not applying (409): never sent to sign in, never forbidden.
        assert response.status_code in (303, 409, 422), (path, response.status_code)
        if response.status_code == 303:
            assert not response.headers["location"].startswith("/ingia"), path
