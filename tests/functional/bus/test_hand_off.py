"""Starting a service through GovESB, end to end over real HTTP: the portal, the sandbox
national-ID provider, the sandbox bus and the demo institutions, each on its own loopback port,
and a citizen's browser going between them one hop at a time.

Each test signs in a citizen of its own choosing and asserts on that citizen's rows only, so
tests do not depend on one another. The bus's faults are switched per test and reset after.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from portal.bus.models import Application, HandOff, SharingReceipt
from portal.bus.services import HAND_OFF_SETTLE, outbox_handlers
from portal.config import Settings
from portal.identity.models import User
from portal.outbox.dispatcher import dispatch_drain
from portal.outbox.models import OutboxEntry
from tests.functional.sandbox.conftest import BARAKA, NEEMA
from tests.page_client import check_page_contract
from tests.sign_in_world import Citizen, World, world_served

RITA_BIRTH = "/huduma/rita-cheti-cha-kuzaliwa"  # RITA-BIRTH-REG, substantial
TRA_TIN = "/huduma/tra-usajili-wa-tin-mtu-binafsi"  # TRA-TIN-INDIVIDUAL
BRELA_NAME = "/huduma/brela-usajili-wa-jina-la-biashara"  # BRELA-ORS-BUSINESS-NAME
NOT_BEHIND_THE_SANDBOX = "/huduma/nida-nakala-ya-kitambulisho"  # NIDA-ID-COPY: no demo system
REHEMA = "19930721-71301-00775-02"
MASANJA = "19810509-33412-01129-85"
ZAWADI = "20011225-21104-00563-39"


@pytest.fixture(scope="module")
def world(settings: Settings, engine: Engine, search_backend: object) -> Iterator[World]:
    with world_served(settings, engine, bus=True) as running:
        yield running


@pytest.fixture(autouse=True)
def _faults_reset(world: World) -> Iterator[None]:
    yield
    assert world.esb is not None
    world.esb.state.faults.reset()


@pytest.fixture
def citizen(world: World) -> Iterator[Citizen]:
    browser = Citizen(world)
    yield browser
    browser.http.close()


def _signed_in_at_consent(citizen: Citizen, nin: str, service: str) -> Any:
    """Ask to start `service`, sign in at its level on the way, and arrive at the consent page."""
    start = citizen.get(f"{service}/anza")
    assert start.status_code == 303
    assert start.headers["location"].startswith("/ingia?")
    begin = citizen.get(start.headers["location"])
    back = citizen.at_provider(begin, nin)
    landed = citizen.get(back.headers["location"])
    assert landed.status_code == 303
    assert landed.headers["location"] == f"{service}/anza"
    _response, tree = citizen.page(f"{service}/anza")
    return tree


def _consent(citizen: Citizen, service: str, tree: Any, key: str | None = None) -> Any:
    answers = {"key": key} if key else {}
    return citizen.post(f"{citizen.world.portal}{service}/anza", tree, answers, f"{service}/anza")


def _key(tree: Any) -> str:
    return next(i.get("value") for i in tree.iter("input") if i.get("name") == "key")


def _user_id(world: World, given_name: str) -> int:
    with Session(world.engine) as session:
        users = session.exec(
            select(User).where(
                col(User.issuer) == world.issuer, col(User.name).startswith(given_name)
            )
        ).all()
        assert len(users) == 1
        assert users[0].id is not None
        return users[0].id


def _rows(world: World, model: type[Any], user_id: int) -> list[Any]:
    with Session(world.engine) as session:
        return list(session.exec(select(model).where(model.user_id == user_id)).all())


def test_a_citizen_starts_a_service_and_follows_it_to_approval(
    world: World, citizen: Citizen
) -> None:
    tree = _signed_in_at_consent(citizen, NEEMA, RITA_BIRTH)
    text = "".join(tree.itertext())
    assert "4217" in text  # her NIN's last four digits
    assert "19880314" not in text  # and never the whole number
    assert "Neema" in text
    assert "Mwakalinga" in text
    assert "RITA" in text

    sent = _consent(citizen, RITA_BIRTH, tree)
    assert sent.status_code == 303, sent.text[:300]
    launch = sent.headers["location"]
    rita = world.institution_urls["rita"]
    assert launch.startswith(f"{rita}/anza?")

    # At the institution: its own page, already filled with her verified details.
    arrived = citizen.get(launch)
    assert arrived.status_code == 303
    page_url = f"{rita}{arrived.headers['location']}"
    page = citizen.get(page_url)
    assert page.status_code == 200
    assert "Neema" in page.text
    assert "Mwakalinga" in page.text
    assert "19880314-51101-00042-17" not in page.text
    assert "19880314511010004217" not in page.text
    assert citizen.get(launch).status_code == 400  # the launch link works once

    user_id = _user_id(world, "Neema")
    (application,) = _rows(world, Application, user_id)
    assert application.status == "received"
    (receipt,) = _rows(world, SharingReceipt, user_id)
    assert receipt.attributes[0] == "nin"
    assert "given_name" in receipt.attributes
    assert receipt.application_id == application.id

    # She fills in RITA's own form; RITA pushes "in review" back through the bus.
    page_tree = check_page_contract(page)  # type: ignore[arg-type]
    form = next(f for f in page_tree.iter("form"))
    answers = {
        "child_given_name": "Amani",
        "child_family_name": "Mwakalinga",
        "child_sex": "ke",
        "child_birth_date": (dt.date.today() - dt.timedelta(days=20)).isoformat(),
        "birth_place": "Hospitali ya Rufaa Mbeya",
        "relationship": "mama",
    }
    submitted = citizen.post(page_url, page_tree, answers, str(form.get("action")))
    assert submitted.status_code == 303, submitted.text[:500]
    _wait_for_status(world, application.id, "in_review")

    # An officer approves it; the portal shows the new status in "Maombi yangu".
    _response, office = citizen.page(f"{rita}/ofisi")
    decide = f"/ofisi/{application.reference}/uamuzi"
    decided = citizen.post(
        f"{rita}/ofisi", office, {"decision": "approve", "note": "Karibu uchukue cheti."}, decide
    )
    assert decided.status_code == 303, decided.text[:500]
    _wait_for_status(world, application.id, "approved")

    _response, mine = citizen.page("/maombi?lang=en")
    listing = "".join(mine.itertext())
    assert application.reference in listing
    assert "Approved" in listing
    _response, detail = citizen.page(f"/maombi/{application.public_id}?lang=en")
    history = "".join(detail.itertext())
    for status in ("Received", "In review", "Approved"):
        assert status in history
    _response, shared = citizen.page("/taarifa-zangu?lang=en")
    receipts = "".join(shared.itertext())
    assert "Registration, Insolvency and Trusteeship Agency" in receipts
    assert "National ID number (NIN)" in receipts


def _wait_for_status(world: World, application_id: int | None, status: str) -> None:
    """Pushes travel institution -> bus -> portal within the request that caused them; allow
    the institution's own retry a moment if the first try lost a race."""
    deadline = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=10)
    while dt.datetime.now(dt.UTC) < deadline:
        with Session(world.engine) as session:
            row = session.get(Application, application_id)
            if row is not None and row.status == status:
                return
        time.sleep(0.05)
    raise AssertionError(f"the application never became {status}")


def test_a_double_submit_opens_one_application(world: World, citizen: Citizen) -> None:
    tree = _signed_in_at_consent(citizen, BARAKA, TRA_TIN)
    key = _key(tree)
    first = _consent(citizen, TRA_TIN, tree, key)
    second = _consent(citizen, TRA_TIN, tree, key)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] != second.headers["location"]  # a fresh one-time link
    user_id = _user_id(world, "Baraka")
    applications = _rows(world, Application, user_id)
    assert len(applications) == 1
    assert len(_rows(world, SharingReceipt, user_id)) == 1
    # Both links lead into the same application at TRA.
    tra = world.institution_urls["tra"]
    assert citizen.get(second.headers["location"]).status_code == 303
    assert citizen.get(f"{tra}/maombi/{applications[0].reference}").status_code == 200


@pytest.mark.parametrize(
    ("fault", "status", "state"),
    [
        ({"server_error": 503}, 503, "unknown"),  # the bus answered 5xx: it may have acted
        ({"provider_failing": True}, 502, "failed"),  # the institution said no
        ({"bad_signature": True}, 503, "unknown"),  # an answer we cannot trust
    ],
)
def test_when_the_bus_or_institution_fails_nothing_is_recorded_as_started(
    world: World, citizen: Citizen, fault: dict[str, Any], status: int, state: str
) -> None:
    tree = _signed_in_at_consent(citizen, REHEMA, BRELA_NAME)
    user_id = _user_id(world, "Rehema")
    before = (_rows(world, Application, user_id), _rows(world, SharingReceipt, user_id))
    assert world.esb is not None
    world.esb.state.faults.set(**fault)
    failed = _consent(citizen, BRELA_NAME, tree)
    assert failed.status_code == status, failed.text[:300]
    retry = check_page_contract(failed)  # type: ignore[arg-type]
    assert any(f.get("action") == f"{BRELA_NAME}/anza" for f in retry.iter("form"))
    assert (_rows(world, Application, user_id), _rows(world, SharingReceipt, user_id)) == before
    assert _hand_off(world, user_id, _key(tree)).state == state
    # The bus is back: "Try again" sends the same key and opens exactly one application.
    world.esb.state.faults.reset()
    again = citizen.post(f"{world.portal}{BRELA_NAME}/anza", retry, {}, f"{BRELA_NAME}/anza")
    assert again.status_code == 303, again.text[:300]
    assert _hand_off(world, user_id, _key(tree)).state == "started"
    assert len(_rows(world, Application, user_id)) == len(before[0]) + 1
    assert len(_rows(world, SharingReceipt, user_id)) == len(before[1]) + 1


def _hand_off(world: World, user_id: int, key: str) -> HandOff:
    with Session(world.engine) as session:
        return session.exec(
            select(HandOff).where(HandOff.user_id == user_id, HandOff.idempotency_key == key)
        ).one()


def test_an_expired_bus_token_is_fetched_again_once(world: World, citizen: Citizen) -> None:
    tree = _signed_in_at_consent(citizen, MASANJA, TRA_TIN)
    assert world.esb is not None
    world.esb.state.faults.tokens_expire()
    sent = _consent(citizen, TRA_TIN, tree)
    assert sent.status_code == 303, sent.text[:300]


def test_a_slow_bus_is_settled_by_the_worker_without_a_duplicate(
    world: World, citizen: Citizen
) -> None:
    tree = _signed_in_at_consent(citizen, ZAWADI, RITA_BIRTH)
    assert world.esb is not None
    world.esb.state.faults.set(provider_delay=3.0)  # longer than the portal waits (2 s)
    slow = _consent(citizen, RITA_BIRTH, tree)
    assert slow.status_code == 503
    assert "Try again" in slow.text or "Jaribu tena" in slow.text
    user_id = _user_id(world, "Zawadi")
    assert _rows(world, Application, user_id) == []
    world.esb.state.faults.reset()
    time.sleep(1.5)  # the bus delivers late: RITA opens the application after all
    bus = world.portal_app.state.bus_client
    report = dispatch_drain(bind=world.engine, handlers=outbox_handlers(client=bus))
    assert report.applied >= 1
    (application,) = _rows(world, Application, user_id)
    assert len(_rows(world, SharingReceipt, user_id)) == 1
    # The citizen's "Try again" now lands in that same application.
    again = citizen.post(
        f"{world.portal}{RITA_BIRTH}/anza",
        check_page_contract(slow),  # type: ignore[arg-type]
        {},
        f"{RITA_BIRTH}/anza",
    )
    assert again.status_code == 303
    assert [a.id for a in _rows(world, Application, user_id)] == [application.id]
    with Session(world.engine) as session:
        pending = session.exec(
            select(OutboxEntry).where(OutboxEntry.topic == HAND_OFF_SETTLE)
        ).all()
        assert all(entry.key != str(application.id) or entry.dead_at is None for entry in pending)


def test_a_service_without_a_system_behind_the_bus_says_so(world: World, citizen: Citizen) -> None:
    tree = _signed_in_at_consent(citizen, NEEMA, NOT_BEHIND_THE_SANDBOX)
    refused = _consent(citizen, NOT_BEHIND_THE_SANDBOX, tree)
    assert refused.status_code in (502, 503)
    check_page_contract(refused)  # type: ignore[arg-type]


def test_starting_needs_the_services_level_of_assurance(world: World, citizen: Citizen) -> None:
    response = citizen.get(f"{RITA_BIRTH}/anza")
    assert response.status_code == 303
    assert response.headers["location"] == "/ingia?" + urlencode(
        {"rudi": f"{RITA_BIRTH}/anza", "kiwango": "substantial"}
    )
