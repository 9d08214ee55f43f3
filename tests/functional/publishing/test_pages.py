"""The publisher's pages end to end: the start page, an institution's services, a published
service's draft edited, previewed exactly as its public page and submitted; a new service drafted
section by section; the actions on a draft (answer, discard) and what they refuse."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy.engine import Connection
from sqlmodel import Session, select

from portal.catalogue.models import Service
from portal.db import unit_of_work
from portal.publishing import services
from portal.publishing.models import DISCARDED, EDITING, RETURNED, SUBMITTED, Draft
from portal.publishing.services import Actor
from tests.page_client import Page, PageClient
from tests.people import signed_in_as

SLUG = "rita-cheti-cha-kuzaliwa"
CURATOR = Actor(user_id=None, name="Msimamizi wa Katalogi")


def sign_in_publisher(client: TestClient, db: Connection, institution: str = "rita") -> int:
    return signed_in_as(
        client, db, role="publisher", institution=institution, name=f"Afisa wa {institution}"
    )


def draft_id_of(response: Response | Page) -> int:
    """The id of the draft a POST redirected to."""
    assert isinstance(response, Response)
    match = re.fullmatch(r"/chapisha/rasimu/(\d+)", response.headers["location"])
    assert match, response.headers["location"]
    return int(match.group(1))


def edit(pages: PageClient, slug: str = SLUG, institution: str = "rita") -> int:
    """Open (or find) the draft of a published service from its institution's page."""
    page = pages.get(f"/chapisha/{institution}?lang=en")
    return draft_id_of(pages.post(page, {}, action=f"/chapisha/huduma/{slug}/hariri"))


def save(
    pages: PageClient,
    draft_id: int,
    section: str,
    answers: dict[str, Any],
    *,
    status: int = 303,
) -> Response | Page:
    """Fill in one section of a draft as a browser would, from its page."""
    url = f"/chapisha/rasimu/{draft_id}/{section}"
    page = pages.get(f"{url}?lang=en")
    return pages.post(page, answers, action=url, status=status)


def draft_of(db: Connection, draft_id: int) -> Draft:
    with Session(db) as session:
        draft = session.get(Draft, draft_id)
        assert draft is not None
        return draft


def main_of(page: Page) -> str:
    """The page's main content, as served."""
    html = page.response.text
    return html[html.index("<main") : html.index("</main>")]


def test_the_start_page_lists_only_the_publishers_institutions(
    pages: PageClient, client: TestClient, db: Connection
) -> None:
    sign_in_publisher(client, db)
    page = pages.get("/chapisha?lang=en")
    assert page.h1 == "Publish services"
    rows = page.texts(".//tbody/tr/th")
    assert len(rows) == 1
    assert rows[0].startswith("RITA")
    assert page.find(".//table/caption") is not None
    cells = page.texts(".//tbody/tr/td")
    assert cells[0] == "7"  # RITA's services in the seed catalogue


def test_a_curator_sees_every_institution_with_its_counts(
    pages: PageClient, client: TestClient, db: Connection
) -> None:
    signed_in_as(client, db, role="curator")
    with unit_of_work(db) as session:
        service = session.exec(select(Service).where(Service.slug == SLUG)).one()
        draft = services.draft_for_service(
            session=session, service=service, actor=CURATOR, now=_now()
        )
        services.draft_submit(
            session=session, draft=draft, version=draft.version, note="", actor=CURATOR, now=_now()
        )
        services.draft_return(
            session=session,
            draft=draft,
            version=draft.version,
            note="Ongeza gharama.",
            actor=CURATOR,
            now=_now(),
        )
    page = pages.get("/chapisha?lang=en")
    rows = {
        "".join(row.find("th/a").itertext()): ["".join(td.itertext()) for td in row.findall("td")]  # type: ignore[union-attr]
        for row in page.tree.findall(".//tbody/tr")
    }
    assert len(rows) > 20
    assert rows["RITA"] == ["7", "1", "1", "0"]  # services, open drafts, sent back, overdue


def test_an_institutions_page_marks_each_service(
    pages: PageClient, client: TestClient, db: Connection
) -> None:
    sign_in_publisher(client, db)
    with unit_of_work(db) as session:
        service = session.exec(select(Service).where(Service.slug == SLUG)).one()
        service.review_due = _now().date() - dt.timedelta(days=3)
        session.add(service)
        draft = services.draft_for_service(
            session=session, service=service, actor=CURATOR, now=_now()
        )
        services.draft_submit(
            session=session, draft=draft, version=draft.version, note="", actor=CURATOR, now=_now()
        )
        services.draft_return(
            session=session,
            draft=draft,
            version=draft.version,
            note="Ada ya kuchelewa imebadilika.",
            actor=CURATOR,
            now=_now(),
        )
    page = pages.get("/chapisha/rita?lang=en")
    assert page.h1 == "Services of RITA"
    card = next(
        text for text in page.texts(".//ul[@class='cards']/li") if "birth certificate" in text
    )
    assert "Complete" in card
    assert "Review overdue since" in card
    assert "Draft: Sent back to you" in card
    assert "Ada ya kuchelewa imebadilika." in card
    assert page.find(f".//a[@href='/chapisha/rasimu/{draft.id}']") is not None
    assert page.find(f".//a[@href='/chapisha/huduma/{SLUG}/matoleo']") is not None
    other = next(text for text in page.texts(".//ul[@class='cards']/li") if "death" in text)
    assert "Edit" in other  # no draft yet: a button makes one


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def test_a_publisher_edits_previews_and_submits_a_service(
    pages: PageClient, client: TestClient, db: Connection
) -> None:
    sign_in_publisher(client, db)
    public = pages.get(f"/huduma/{SLUG}?lang=en")
    listing = pages.get("/chapisha/rita?lang=en")
    hariri = f"/chapisha/huduma/{SLUG}/hariri"
    draft_id = draft_id_of(pages.post(listing, {}, action=hariri))
    assert draft_id_of(pages.post(listing, {}, action=hariri)) == draft_id  # not a second one
    overview = pages.get(f"/chapisha/rasimu/{draft_id}?lang=en")
    assert overview.h1 == "Draft: Birth registration and birth certificate"
    assert "Being edited" in overview.text()
    assert "Complete: it can be previewed" in overview.text()

    saved = save(
        pages,
        draft_id,
        "muhtasari",
        {
            "summary_sw": "Muhtasari mpya wa usajili.",
            "summary_en": "A new summary of registration.",
        },
    )
    assert isinstance(saved, Response)
    assert saved.headers["location"] == f"/chapisha/rasimu/{draft_id}"
    assert draft_of(db, draft_id).record["summary"]["en"] == "A new summary of registration."

    preview = pages.get(f"/chapisha/rasimu/{draft_id}/hakikisho?lang=en")
    assert "Preview: not published" in preview.text()
    assert "A new summary of registration." in main_of(preview)
    assert "A new summary of registration." not in pages.get(f"/huduma/{SLUG}?lang=en").text()

    overview = pages.get(f"/chapisha/rasimu/{draft_id}?lang=en")
    submit = f"/chapisha/rasimu/{draft_id}/wasilisha"
    refused = pages.post(overview, {"note": ""}, action=submit, status=422)
    assert isinstance(refused, Page)
    assert "Say what changed" in refused.text()
    submitted = pages.post(overview, {"note": "Muhtasari mpya"}, action=submit)
    assert isinstance(submitted, Response)
    assert submitted.headers["location"] == f"/chapisha/rasimu/{draft_id}"
    draft = draft_of(db, draft_id)
    assert (draft.state, draft.change_note) == (SUBMITTED, "Muhtasari mpya")
    overview = pages.get(f"/chapisha/rasimu/{draft_id}?lang=en")
    assert "With the curators for review" in overview.text()
    assert "Submitted for review" in overview.text()  # the notes thread
    assert main_of(pages.get(f"/huduma/{SLUG}?lang=en")) == main_of(public)  # still live as was

    # In review, the draft cannot be changed: its sections say so, and a save is refused.
    blocked = pages.get(f"/chapisha/rasimu/{draft_id}/majina?lang=en")
    assert blocked.h1 == "This draft cannot be changed now"
    assert "with the curators for review" in blocked.text()


def test_the_preview_of_an_unchanged_draft_is_the_public_page(
    pages: PageClient, client: TestClient, db: Connection
) -> None:
    sign_in_publisher(client, db)
    draft_id = edit(pages)
    preview = pages.get(f"/chapisha/rasimu/{draft_id}/hakikisho?lang=en")
    public = pages.get(f"/huduma/{SLUG}?lang=en")
    assert main_of(preview) == main_of(public)
    assert preview.h1 == public.h1
    banner = preview.find(".//div[@role='region']")
    assert banner is not None
    assert "Preview: not published" in "".join(banner.itertext())
    assert preview.find(".//meta[@name='robots']") is not None
    assert preview.find(".//script[@type='application/ld+json']") is None


def test_a_new_service_is_drafted_section_by_section(
    pages: PageClient, client: TestClient, db: Connection
) -> None:
    sign_in_publisher(client, db)
    page = pages.get("/chapisha/rita?lang=en")
    new = "/chapisha/rita/mpya"
    taken = pages.post(page, {"slug": SLUG}, action=new, status=422)
    assert isinstance(taken, Page)
    assert taken.texts(".//p[@class='error-message']") == [
        "Error: A service or a draft already has this address: choose another"
    ]
    bad = pages.post(page, {"slug": "Cheti <b>Kipya</b>"}, action=new, status=422)
    assert isinstance(bad, Page)
    assert "Use only small letters" in bad.text()
    assert bad.find(".//input[@name='slug']").get("value") == "Cheti <b>Kipya</b>"  # type: ignore[union-attr]
    draft_id = draft_id_of(pages.post(page, {"slug": "rita-cheti-cha-ndoa"}, action=new))

    blocked = pages.get(f"/chapisha/rasimu/{draft_id}/hakikisho?lang=en")
    assert blocked.h1 == "The preview is not ready yet"
    assert blocked.find(f".//a[@href='/chapisha/rasimu/{draft_id}/majina']") is not None
    overview = pages.get(f"/chapisha/rasimu/{draft_id}?lang=en")
    assert "Nothing: a new service" in overview.text()
    assert "Name: not given yet" in overview.text()
    assert pages.client.get(f"/chapisha/rasimu/{draft_id}/wasilisha").status_code in (404, 405)

    answers: list[tuple[str, dict[str, Any]]] = [
        ("majina", {"name_sw": "Cheti cha ndoa", "name_en": "Marriage certificate"}),
        (
            "muhtasari",
            {
                "summary_sw": "Pata cheti cha ndoa.",
                "summary_en": "Get a marriage certificate.",
                "description_sw": "Wanandoa hupata cheti baada ya kusajili ndoa.",
                "description_en": "A couple gets a certificate once their marriage is registered.",
                "output_sw": "Cheti cha ndoa",
                "output_en": "A marriage certificate",
            },
        ),
        ("hatua", {"steps_sw": "Jaza fomu\nLipa ada", "steps_en": "Fill in the form\nPay the fee"}),
        (
            "wanaostahili",
            {
                "audience": ["citizen"],
                "eligibility_sw": "Wanandoa",
                "eligibility_en": "Married couples",
            },
        ),
        (
            "gharama",
            {
                "fee1_amount": "10,000",
                "fee1_sw": "Kila cheti",
                "fee1_en": "Each certificate",
                "gepg": "yes",
            },
        ),
        ("muda", {"time_amount": "14", "time_unit": "days"}),
        ("njia", {"online_url": "https://erita.rita.go.tz/"}),
        ("makundi", {"categories": ["utambulisho-na-usajili"], "life_events": ["kufunga-ndoa"]}),
    ]
    for section, filled in answers:
        save(pages, draft_id, section, filled)
    overview = pages.get(f"/chapisha/rasimu/{draft_id}?lang=en")
    assert "Complete: it can be previewed" in overview.text(), overview.text()
    preview = pages.get(f"/chapisha/rasimu/{draft_id}/hakikisho?lang=en")
    assert preview.h1 == "Marriage certificate"
    assert "TSh 10,000" in preview.text()
    pages.post(overview, {"note": "Huduma mpya"}, action=f"/chapisha/rasimu/{draft_id}/wasilisha")
    draft = draft_of(db, draft_id)
    assert draft.state == SUBMITTED
    assert draft.record["cost"] == {
        "items": [
            {"amount_tzs": 10000, "condition": {"sw": "Kila cheti", "en": "Each certificate"}}
        ],
        "gepg": True,
    }
    assert draft.record["processing_time"] == "P14D"
    assert "launch" not in draft.record  # the record's default: a link


def test_a_returned_draft_is_answered_changed_and_submitted_again(
    pages: PageClient, client: TestClient, db: Connection
) -> None:
    sign_in_publisher(client, db)
    draft_id = edit(pages)
    overview = pages.get(f"/chapisha/rasimu/{draft_id}?lang=en")
    pages.post(overview, {"note": "Ada"}, action=f"/chapisha/rasimu/{draft_id}/wasilisha")
    with unit_of_work(db) as session:
        draft = session.get(Draft, draft_id)
        assert draft is not None
        services.draft_return(
            session=session,
            draft=draft,
            version=draft.version,
            note="Ada ya kuchelewa ni ngapi sasa?",
            actor=CURATOR,
            now=_now(),
        )
    overview = pages.get(f"/chapisha/rasimu/{draft_id}?lang=en")
    assert "Sent back to you" in overview.text()
    assert "Ada ya kuchelewa ni ngapi sasa?" in overview.text()
    answer = f"/chapisha/rasimu/{draft_id}/jibu"
    empty = pages.post(overview, {"answer": " "}, action=answer, status=422)
    assert isinstance(empty, Page)
    assert "Write your answer to the curator" in empty.text()
    pages.post(overview, {"answer": "Ni 4,000; nimeisahihisha."}, action=answer)
    assert draft_of(db, draft_id).state == RETURNED
    save(pages, draft_id, "hali", {"status": "active"})
    assert draft_of(db, draft_id).state == EDITING  # a change takes it back to the publisher
    overview = pages.get(f"/chapisha/rasimu/{draft_id}?lang=en")
    assert "Ni 4,000; nimeisahihisha." in overview.text()
    pages.post(
        overview, {"note": "Ada imesahihishwa"}, action=f"/chapisha/rasimu/{draft_id}/wasilisha"
    )
    assert draft_of(db, draft_id).state == SUBMITTED


def test_a_draft_is_discarded_only_when_confirmed(
    pages: PageClient, client: TestClient, db: Connection
) -> None:
    sign_in_publisher(client, db)
    draft_id = edit(pages)
    overview = pages.get(f"/chapisha/rasimu/{draft_id}?lang=en")
    discard = f"/chapisha/rasimu/{draft_id}/acha"
    unconfirmed = pages.post(overview, {}, action=discard, status=422)
    assert isinstance(unconfirmed, Page)
    assert "Tick the box" in unconfirmed.text()
    done = pages.post(overview, {"confirm": "yes"}, action=discard)
    assert isinstance(done, Response)
    assert done.headers["location"] == "/chapisha/rita"
    assert draft_of(db, draft_id).state == DISCARDED
    again = pages.post(overview, {"confirm": "yes"}, action=discard, status=409)
    assert isinstance(again, Page)
    assert again.h1 == "This draft cannot be changed now"
    assert edit(pages) != draft_id  # editing again starts a new draft


def test_an_action_on_a_draft_changed_meanwhile_is_refused(
    pages: PageClient, client: TestClient, db: Connection
) -> None:
    sign_in_publisher(client, db)
    draft_id = edit(pages)
    overview = pages.get(f"/chapisha/rasimu/{draft_id}?lang=en")  # version 1
    save(pages, draft_id, "hali", {"status": "active"})  # version 2, from another page
    for action, answers in (("wasilisha", {"note": "x"}), ("acha", {"confirm": "yes"})):
        stale = pages.post(
            overview, answers, action=f"/chapisha/rasimu/{draft_id}/{action}", status=409
        )
        assert isinstance(stale, Page)
        assert "Someone else changed this draft" in stale.text()
        assert stale.find(".//input[@name='version']").get("value") == "2"  # type: ignore[union-attr]
    assert draft_of(db, draft_id).state == EDITING
