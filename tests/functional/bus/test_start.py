"""The consent page and the start of a hand-off, in-process, with a bus that cannot be reached."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Connection
from sqlmodel import Session, select

from portal.bus.models import Application, HandOff
from portal.bus.services import HAND_OFF_SETTLE
from portal.outbox.models import OutboxEntry
from tests.functional.bus.conftest import application_opened, person, signed_in
from tests.page_client import PageClient

RITA = "/huduma/rita-cheti-cha-kuzaliwa"
BRELA_NAME_SEARCH = "/huduma/brela-kutafuta-jina"  # a plain link: not started through Mlango
NIN = "19880314511010004217"
ATTRIBUTES = {
    "nin": NIN,
    "given_name": "Neema",
    "family_name": "Mwakalinga",
    "birthdate": "1988-03-14",
    "phone_number": "+255700000101",
}


@pytest.fixture
def user_id(bus_client: TestClient, db: Connection) -> int:
    """The person signed in to `bus_client` for this test."""
    return signed_in(bus_client, db, ATTRIBUTES)


@pytest.fixture
def citizen_pages(bus_client: TestClient, user_id: int) -> PageClient:
    return PageClient(bus_client)


def test_the_consent_page_names_who_gets_what_and_why(citizen_pages: PageClient) -> None:
    page = citizen_pages.get(f"{RITA}/anza?lang=en")
    text = page.text()
    for expected in (
        "Registration, Insolvency and Trusteeship Agency",
        "National ID number (NIN)",
        "Your NIN, ending in 4217",
        "Neema",
        "Mwakalinga",
        "1988-03-14",
        "+255700000101",
        "To start the service: Birth registration and birth certificate",
        "Agree and continue",
    ):
        assert expected in text, expected
    assert NIN not in text


def test_the_service_page_offers_to_start_through_mlango(citizen_pages: PageClient) -> None:
    page = citizen_pages.get(f"{RITA}?lang=en")
    start = page.find(".//a[@class='button']")
    assert start is not None
    assert start.get("href") == f"{RITA}/anza"


def test_a_service_not_started_through_the_bus_has_no_consent_page(
    citizen_pages: PageClient,
) -> None:
    citizen_pages.get(f"{BRELA_NAME_SEARCH}/anza", status=404)
    citizen_pages.get("/huduma/hakuna-huduma-hii/anza", status=404)


def test_an_unreachable_bus_says_so_and_records_nothing_started(
    citizen_pages: PageClient, user_id: int, db: Connection, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    consent = citizen_pages.get(f"{RITA}/anza?lang=en")
    page = citizen_pages.post(consent, {}, action=f"{RITA}/anza", status=503)
    assert "Try again" in page.text()
    assert "Nothing was shared" in page.text()
    with Session(db) as session:
        (hand_off,) = session.exec(select(HandOff).where(HandOff.user_id == user_id)).all()
        assert (hand_off.state, hand_off.failure) == ("failed", "unreachable")
        assert session.exec(select(Application).where(Application.user_id == user_id)).all() == []
        # It never left, so there is nothing for the worker to settle.
        settle = select(OutboxEntry).where(
            OutboxEntry.topic == HAND_OFF_SETTLE, OutboxEntry.key == str(hand_off.id)
        )
        assert session.exec(settle).all() == []
    assert NIN not in caplog.text
    assert "Mwakalinga" not in caplog.text


def test_a_form_without_its_key_is_shown_again(citizen_pages: PageClient) -> None:
    consent = citizen_pages.get(f"{RITA}/anza?lang=en")
    for key in ("", "short", "x" * 65, "<script>alert(1)</script>aaaaaaaaaaaaaaa"):
        page = citizen_pages.post(consent, {"key": key}, action=f"{RITA}/anza", status=422)
        assert "This form has expired: start again" in page.text()


def test_a_key_used_for_one_service_cannot_start_another(
    citizen_pages: PageClient, user_id: int, db: Connection
) -> None:
    consent = citizen_pages.get(f"{RITA}/anza")
    key = next(i.get("value") for i in consent.tree.iter("input") if i.get("name") == "key")
    citizen_pages.post(consent, {}, action=f"{RITA}/anza", status=503)
    tra = "/huduma/tra-usajili-wa-tin-mtu-binafsi"
    other = citizen_pages.get(f"{tra}/anza")
    page = citizen_pages.post(other, {"key": key}, action=f"{tra}/anza", status=200)
    assert page.find(".//input[@name='key']") is not None  # a fresh consent page, new key
    with Session(db) as session:
        assert len(session.exec(select(HandOff).where(HandOff.user_id == user_id)).all()) == 1


def test_signed_out_people_are_sent_to_sign_in(pages: PageClient, client: TestClient) -> None:
    response = client.get(f"{RITA}/anza", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/ingia?")
    for path in ("/maombi", "/taarifa-zangu", "/maombi/abc"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303, path


def test_nobody_sees_anothers_application(citizen_pages: PageClient, db: Connection) -> None:
    theirs = application_opened(db, user_id=person(db), reference="RITA-OTHER-1")
    citizen_pages.get(f"/maombi/{theirs.public_id}", status=404)
    citizen_pages.get("/maombi/" + "x" * 200, status=404)
    assert "RITA-OTHER-1" not in citizen_pages.get("/maombi").text()


def test_a_life_event_shows_a_signed_in_person_where_they_are(
    citizen_pages: PageClient, user_id: int, db: Connection, pages: PageClient
) -> None:
    application_opened(db, user_id=user_id, reference="RITA-JOURNEY-1")
    page = citizen_pages.get("/matukio/kuzaliwa-mtoto?lang=en")
    section = page.find(".//section[@aria-labelledby='progress-heading']")
    assert section is not None
    steps = {
        "".join(item.find("a").itertext()): "".join(item.find("strong").itertext())  # type: ignore[union-attr]
        for item in section.iter("li")
    }
    assert steps["Birth registration and birth certificate"] == "Started"
    assert "Not started" in steps.values()
    next_step = "".join(section.find("p").itertext())  # type: ignore[union-attr]
    assert next_step.startswith("Next step:")
    assert "Birth registration" not in next_step
    # Signed out, the page is the plain journey.
    plain = pages.get("/matukio/kuzaliwa-mtoto?lang=en")
    assert plain.find(".//section[@aria-labelledby='progress-heading']") is None


def test_hand_offs_are_limited_per_client(citizen_pages: PageClient) -> None:
    consent = citizen_pages.get(f"{RITA}/anza")
    for _ in range(20):
        citizen_pages.post(consent, {}, action=f"{RITA}/anza", status=503)
    citizen_pages.post(consent, {}, action=f"{RITA}/anza", status=429)


def test_a_service_is_given_only_what_it_needs(citizen_pages: PageClient) -> None:
    clearance = "/huduma/tra-hati-ya-kodi-kulipwa"  # shares: nin, names, phone
    text = citizen_pages.get(f"{clearance}/anza?lang=en").text()
    for shown in ("Your NIN, ending in 4217", "Neema", "Mwakalinga", "+255700000101"):
        assert shown in text
    assert "Date of birth" not in text
    assert "1988-03-14" not in text
