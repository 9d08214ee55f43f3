"""A service's revisions after an approval, and two versions compared field by field in an
accessible table; bad or unknown revision numbers are 400 or 404, never a server error."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Connection

from portal.db import unit_of_work
from portal.publishing import services
from portal.publishing.models import Draft
from portal.publishing.services import Actor
from tests.functional.publishing.test_pages import SLUG, edit, save, sign_in_publisher
from tests.page_client import Page, PageClient

CURATOR = Actor(user_id=None, name="Msimamizi Mkuu")
BASE = f"/chapisha/huduma/{SLUG}"


def _approve(db: Connection, draft_id: int) -> None:
    with unit_of_work(db) as session:
        draft = session.get(Draft, draft_id)
        assert draft is not None
        services.draft_approve(
            session=session,
            draft=draft,
            version=draft.version,
            actor=CURATOR,
            now=dt.datetime.now(dt.UTC),
        )


def _submit(pages: PageClient, draft_id: int, note: str) -> None:
    overview = pages.get(f"/chapisha/rasimu/{draft_id}?lang=en")
    pages.post(overview, {"note": note}, action=f"/chapisha/rasimu/{draft_id}/wasilisha")


@pytest.fixture
def approved(pages: PageClient, client: TestClient, db: Connection) -> None:
    """RITA's publisher changed the summary; a curator approved it (revision 2)."""
    sign_in_publisher(client, db)
    draft_id = edit(pages)
    save(
        pages,
        draft_id,
        "muhtasari",
        {"summary_sw": "Sajili mtoto wako mtandaoni.", "summary_en": "Register your child online."},
    )
    _submit(pages, draft_id, "Muhtasari ulio wazi zaidi")
    _approve(db, draft_id)


def _table(page: Page) -> list[list[str]]:
    return [
        [" ".join("".join(cell.itertext()).split()) for cell in row]
        for row in page.tree.findall(".//table/tbody/tr")
    ]


def _changes(page: Page) -> dict[str, list[str]]:
    """The compared parts by their path in the record, with the label and both values."""
    found = {}
    for row in page.tree.findall(".//table/tbody/tr"):
        head, *values = row
        code = head.find("code")
        assert code is not None
        assert code.text
        label = (head.text or "").strip()
        found[code.text] = [label, *(" ".join("".join(v.itertext()).split()) for v in values)]
    return found


def test_the_revisions_list_who_when_and_why(pages: PageClient, approved: None) -> None:
    page = pages.get(f"{BASE}/matoleo?lang=en")
    assert page.h1 == "Revisions of Birth registration and birth certificate"
    assert page.find(".//table/caption") is not None
    assert [th.get("scope") for th in page.tree.findall(".//thead/tr/th")] == ["col"] * 5
    rows = _table(page)
    assert [row[0] for row in rows] == ["2", "1"]
    assert rows[0][1] == "Msimamizi Mkuu"
    assert rows[0][3] == "Muhtasari ulio wazi zaidi"
    assert rows[1][1] == "the catalogue before review"
    link = page.find(".//tbody/tr/td/a")
    assert link is not None
    assert link.get("href") == f"{BASE}/linganisha?kutoka=1&hadi=2"
    assert page.find(".//form[@method='get']") is not None


def test_two_revisions_are_compared_field_by_field(pages: PageClient, approved: None) -> None:
    page = pages.get(f"{BASE}/linganisha?kutoka=1&hadi=2&lang=en")
    assert page.h1 == "Compare versions of Birth registration and birth certificate"
    caption = page.find(".//table/caption")
    assert caption is not None
    assert "Revision 1 to Revision 2" in "".join(caption.itertext())
    header = page.tree.findall(".//thead/tr/th")
    assert ["".join(th.itertext()) for th in header] == ["Part", "Revision 1", "Revision 2"]
    assert {th.get("scope") for th in header} == {"col"}
    assert {th.get("scope") for th in page.tree.findall(".//tbody/tr/th")} == {"row"}
    rows = _changes(page)
    assert rows["summary.en"] == [
        "Summary",
        "Register a child's birth and get a birth certificate through eRITA.",
        "Register your child online.",
    ]
    assert "summary.sw" in rows
    assert any(part.endswith("last_reviewed") for part in rows)  # approval set the dates
    same = pages.get(f"{BASE}/linganisha?kutoka=2&hadi=2&lang=en")
    assert "are the same" in same.text()
    assert same.find(".//table") is None


def test_a_revision_is_compared_with_the_open_draft(
    pages: PageClient, db: Connection, approved: None
) -> None:
    draft_id = edit(pages)
    save(pages, draft_id, "majina", {"name_en": "Birth certificate"})
    page = pages.get(f"{BASE}/linganisha?kutoka=2&hadi=rasimu&lang=en")
    assert _changes(page) == {
        "name.en": ["Name", "Birth registration and birth certificate", "Birth certificate"]
    }
    live = pages.get(f"{BASE}/linganisha?kutoka=sasa&hadi=rasimu&lang=en")
    assert set(_changes(live)) == {"name.en"}
    revisions = pages.get(f"{BASE}/matoleo?lang=en")
    assert revisions.find(f".//a[@href='/chapisha/rasimu/{draft_id}']") is not None


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("", 400),
        ("kutoka=1", 400),
        ("kutoka=abc&hadi=2", 400),
        ("kutoka=0&hadi=2", 400),
        ("kutoka=-1&hadi=2", 400),
        ("kutoka=1.5&hadi=2", 400),
        ("kutoka=%C2%B2&hadi=2", 400),
        ("kutoka=99999999999999999999999&hadi=2", 400),
        ("kutoka=2147483648&hadi=2", 400),
        ("kutoka=1&hadi=" + "9" * 5000, 400),
        ("kutoka=7&hadi=2", 404),
        ("kutoka=1&hadi=2147483647", 404),
        ("kutoka=1&hadi=rasimu", 404),  # no open draft
        ("kutoka=rasimu&hadi=rasimu", 404),
    ],
)
def test_bad_or_unknown_revision_numbers(
    pages: PageClient, approved: None, query: str, status: int
) -> None:
    pages.get(f"{BASE}/linganisha?{query}", status=status)


def test_a_service_never_reviewed_has_no_revisions_yet(
    pages: PageClient, client: TestClient, db: Connection
) -> None:
    sign_in_publisher(client, db)
    page = pages.get(f"{BASE}/matoleo?lang=en")
    assert "No revision is kept yet" in page.text()
    pages.get(f"{BASE}/linganisha?kutoka=1&hadi=sasa", status=404)
