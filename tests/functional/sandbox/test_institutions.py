"""The demo institution systems over real HTTP, the test playing the bus: signed hand-offs in,
launch links, the citizen's pages, the back office, and status pushes out to a fake engine."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from portal.bus.govesb.client import ClientConfig
from portal.bus.govesb.envelope import compact, delivery_data, envelope
from portal.bus.govesb.keys import PrivateKey, private_key_generate
from portal.sandbox.idp import SandboxRefusedError
from portal.sandbox.institutions import (
    DEMO_INSTITUTIONS,
    create_institution_app,
    demo_institution,
    demo_institutions,
    institution_serve,
)
from tests.functional.sandbox.institutions_world import (
    CITIZEN,
    CLIENT_SECRET,
    NIN,
    Browser,
    FakeEngine,
    InstitutionWorld,
    csrf_of,
    engine_started,
    institution_started,
    open_body,
    wait_until,
)
from tests.page_client import check_page_contract

RITA_FORM = {
    "child_given_name": "Amani",
    "child_family_name": "Mwakyusa",
    "child_sex": "ke",
    "child_birth_date": "2026-10-30",
    "birth_place": "Hospitali ya Mwananyamala, Kinondoni",
    "relationship": "mama",
}


@pytest.fixture(scope="module")
def esb_key() -> PrivateKey:
    return private_key_generate()


@pytest.fixture(scope="module")
def engine_served(esb_key: PrivateKey) -> Iterator[tuple[str, FakeEngine]]:
    with engine_started(esb_key) as served:
        yield served


@pytest.fixture
def fake_engine(engine_served: tuple[str, FakeEngine]) -> Iterator[FakeEngine]:
    _url, running = engine_served
    yield running
    running.outcomes.clear()
    running.failing = False


@pytest.fixture(scope="module")
def rita_served(
    engine_served: tuple[str, FakeEngine], esb_key: PrivateKey
) -> Iterator[InstitutionWorld]:
    url, running = engine_served
    with institution_started("rita", url, running, esb_key) as world:
        yield world


@pytest.fixture
def rita(rita_served: InstitutionWorld, fake_engine: FakeEngine) -> Iterator[InstitutionWorld]:
    yield rita_served
    rita_served.clock.reset()


@pytest.fixture
def citizen(rita: InstitutionWorld) -> Iterator[Browser]:
    opened = Browser(rita)
    yield opened
    opened.close()


def _arrive(world: InstitutionWorld, citizen: Browser, **changes: Any) -> tuple[str, str]:
    """Open an application and follow its launch link: (reference, page path)."""
    opened = world.open(**changes)
    return opened["reference"], citizen.arrive(opened["launchUrl"])


def _submit(citizen: Browser, path: str, **fields: str) -> Any:
    page = citizen.get(path)
    return citizen.post_form(path, {"csrf_token": csrf_of(page), **RITA_FORM, **fields})


# ----- the hand-off


def test_open_answers_a_reference_and_a_one_time_launch_url(rita: InstitutionWorld) -> None:
    answer = rita.deliver(open_body())
    assert answer.status_code == 200
    reply = rita.reply(answer)
    assert reply.success
    assert list(reply.esb_body) == [
        "reference",
        "status",
        "launchUrl",
        "launchExpiresIn",
        "statusPushCode",
    ]
    assert re.fullmatch(r"RITA-\d{4}-\d{6}", reply.esb_body["reference"])
    assert reply.esb_body["status"] == "received"
    assert re.fullmatch(
        re.escape(f"{rita.url}/anza?tiketi=") + r"[A-Za-z0-9_-]{40,}", reply.esb_body["launchUrl"]
    )
    assert reply.esb_body["launchExpiresIn"] == 300
    assert reply.esb_body["statusPushCode"] == "RITA-STATUS"


def test_the_same_key_gives_the_same_application_and_a_fresh_link(
    rita: InstitutionWorld, citizen: Browser
) -> None:
    first = rita.open()
    again = rita.open(idempotencyKey=first["idempotencyKey"])
    assert again["reference"] == first["reference"]
    assert again["launchUrl"] != first["launchUrl"]
    assert citizen.launch(first["launchUrl"]).status_code == 400  # the fresh link replaced it
    assert citizen.launch(again["launchUrl"]).status_code == 303


def test_find_tells_what_a_key_opened(rita: InstitutionWorld) -> None:
    opened = rita.open()
    found = rita.find(opened["idempotencyKey"])
    assert found.success
    assert found.esb_body == {
        "reference": opened["reference"],
        "status": "received",
        "statusPushCode": "RITA-STATUS",
    }
    missing = rita.find("k" * 30)
    assert not missing.success
    assert missing.message == "not_found"


def test_a_key_cannot_open_a_second_application_for_another_citizen(
    rita: InstitutionWorld,
) -> None:
    opened = rita.open()
    other = {**CITIZEN, "nin": "19751102252070031864"}
    reply = rita.reply(
        rita.deliver(open_body(idempotencyKey=opened["idempotencyKey"], citizen=other))
    )
    assert not reply.success
    assert reply.message == "idempotencyKey already used elsewhere"


def _wrong_key(world: InstitutionWorld) -> bytes:
    return world.signed_delivery(
        open_body(idempotencyKey="wrong-key-" + "w" * 20), key=private_key_generate()
    )


def _tampered(world: InstitutionWorld) -> bytes:
    signed = world.signed_delivery(open_body(idempotencyKey="tampered-" + "t" * 20))
    return signed.replace(b'"givenName":"Neema"', b'"givenName":"Nemo!"')


def _malformed(world: InstitutionWorld) -> bytes:
    return b'{"data": {"esbBody": "tampered-tttttttttttttttttttt"'


def _unsigned(world: InstitutionWorld) -> bytes:
    body = open_body(idempotencyKey="unsigned-" + "u" * 20)
    data = delivery_data(request_id="r" * 32, code="RITA-BIRTH-REG", esb_body=body)
    return b'{"data":%s}' % compact(data).encode()


def _incomplete(world: InstitutionWorld) -> bytes:
    data = {
        "esbBody": open_body(idempotencyKey="incomplete-" + "i" * 20),
        "apiCode": "RITA-BIRTH-REG",
    }
    return envelope(data, world.esb_key)


@pytest.mark.parametrize(
    ("spoil", "status", "key"),
    [
        (_wrong_key, 401, "wrong-key-" + "w" * 20),
        (_tampered, 401, "tampered-" + "t" * 20),
        (_unsigned, 401, "unsigned-" + "u" * 20),
        (_malformed, 400, None),
        (_incomplete, 400, "incomplete-" + "i" * 20),
    ],
    ids=["wrong key", "tampered", "unsigned", "malformed", "incomplete"],
)
def test_a_delivery_the_bus_did_not_sign_is_refused_and_opens_nothing(
    rita: InstitutionWorld, spoil: Any, status: int, key: str | None
) -> None:
    answer = rita.post_raw(spoil(rita))
    assert answer.status_code == status
    reply = rita.reply(answer)  # signed all the same
    assert not reply.success
    assert reply.message
    if key is not None:
        assert rita.find(key).message == "not_found"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"idempotencyKey": "short"}, "invalid idempotencyKey"),
        ({"idempotencyKey": "has spaces in it and is long enough"}, "invalid idempotencyKey"),
        ({"apiCode": "TRA-TIN-INDIVIDUAL"}, "invalid apiCode: it differs from the delivery's"),
        ({"locale": "fr"}, "invalid locale"),
        ({"service": "Not A Slug"}, "invalid service"),
        ({"purpose": None}, "invalid purpose"),
        ({"returnUrl": "javascript:alert(1)"}, "invalid returnUrl"),
        ({"citizen": {**CITIZEN, "nin": NIN[:-1]}}, "invalid citizen.nin"),
        ({"citizen": {**CITIZEN, "nin": "1988031451101000421X"}}, "invalid citizen.nin"),
        ({"citizen": {**CITIZEN, "nin": 19880314511010004217}}, "invalid citizen.nin"),
        ({"citizen": {**CITIZEN, "givenName": "N" * 101}}, "invalid citizen.givenName"),
        ({"citizen": {**CITIZEN, "familyName": ""}}, "invalid citizen.familyName"),
        ({"citizen": {**CITIZEN, "birthDate": "1988-02-30"}}, "invalid citizen.birthDate"),
        ({"citizen": {**CITIZEN, "phoneNumber": "0754000042"}}, "invalid citizen.phoneNumber"),
        ({"citizen": {**CITIZEN, "address": "Dodoma"}}, "invalid citizen: unknown attribute"),
        ({"citizen": [NIN]}, "invalid citizen"),
        ({"operation": "close"}, "unknown operation"),
    ],
)
def test_an_invalid_hand_off_gets_a_signed_failure_and_opens_nothing(
    rita: InstitutionWorld, changes: dict[str, Any], message: str
) -> None:
    body = open_body(**changes)
    answer = rita.deliver(body)
    assert answer.status_code == 200
    reply = rita.reply(answer)
    assert (reply.success, reply.message) == (False, message)
    key = body["idempotencyKey"]
    if re.fullmatch(r"[A-Za-z0-9_-]{22,64}", key):
        assert rita.find(key).message == "not_found"


def test_an_unknown_api_code_or_body_is_refused(rita: InstitutionWorld) -> None:
    body = open_body("TRA-TIN-INDIVIDUAL")
    refused = rita.reply(rita.deliver(body, api_code="TRA-TIN-INDIVIDUAL"))
    assert (refused.success, refused.message) == (False, "unknown apiCode")
    assert rita.find(body["idempotencyKey"]).message == "not_found"
    not_object = rita.reply(rita.deliver(["open"]))
    assert (not_object.success, not_object.message) == (False, "invalid esbBody")


def test_an_oversized_body_is_refused_before_it_is_read(rita: InstitutionWorld) -> None:
    answer = rita.post_raw(b"{" + b" " * (1024 * 1024) + b"}")
    assert answer.status_code == 413
    reply = rita.reply(answer)
    assert not reply.success


# ----- the launch link


def test_a_launch_link_works_once(rita: InstitutionWorld, citizen: Browser) -> None:
    opened = rita.open()
    first = citizen.launch(opened["launchUrl"])
    assert first.status_code == 303
    assert first.headers["location"] == f"/maombi/{opened['reference']}"
    cookie = first.headers["set-cookie"]
    assert "httponly" in cookie.lower()
    assert f"path=/maombi/{opened['reference']}".lower() in cookie.lower()
    assert first.headers["referrer-policy"] == "no-referrer"
    second = citizen.launch(opened["launchUrl"])
    assert second.status_code == 400
    check_page_contract(second)
    assert "Kiungo hiki kimepitwa na muda au kimeshatumika" in second.text
    assert "This link has expired or was used" in second.text
    assert "Start again from Mlango" in second.text


def test_an_expired_launch_link_is_refused(rita: InstitutionWorld, citizen: Browser) -> None:
    opened = rita.open()
    rita.clock.advance(301)
    assert citizen.launch(opened["launchUrl"]).status_code == 400
    assert citizen.launch(f"{rita.url}/anza?tiketi=made-up").status_code == 400
    assert citizen.launch(f"{rita.url}/anza").status_code == 400


# ----- the citizen's page


def test_the_page_shows_the_verified_details_and_hides_the_nin(
    rita: InstitutionWorld, citizen: Browser
) -> None:
    _reference, path = _arrive(rita, citizen)
    page = citizen.get(path)
    assert page.status_code == 200
    tree = check_page_contract(page)
    assert tree.get("lang") == "sw"
    assert "Neema" in page.text
    assert "Mwakyusa" in page.text
    assert "Imethibitishwa kupitia Mlango" in page.text
    assert NIN not in page.text
    assert NIN[:16] not in page.text
    assert "••••••••••••••••4217" in page.text
    inputs = {element.get("name") for element in tree.iter("input")}
    assert inputs == {"csrf_token", *RITA_FORM}  # the verified details are not fields
    english = citizen.get(f"{path}?lugha=en")
    assert check_page_contract(english).get("lang") == "en"
    assert "Verified through Mlango" in english.text


def test_another_browser_cannot_see_the_application(
    rita: InstitutionWorld, citizen: Browser
) -> None:
    reference, path = _arrive(rita, citizen)
    stranger = Browser(rita)
    try:
        refused = stranger.get(path)
        assert refused.status_code == 403
        check_page_contract(refused)
        assert RITA_FORM["birth_place"] not in refused.text
        assert "Neema" not in refused.text
        # Nor may this citizen's session for one application open another.
        other_reference, _other_path = _arrive(rita, stranger)
        session = stranger.http.cookies.get(f"{rita.slug}_kikao")
        forged = rita.http.get(path, headers={"Cookie": f"{rita.slug}_kikao={session}"})
        assert other_reference != reference
        assert forged.status_code == 403
        assert stranger.post_form(path, {"csrf_token": "x", **RITA_FORM}).status_code == 403
    finally:
        stranger.close()


def test_a_missing_field_shows_the_form_again_with_an_error(
    rita: InstitutionWorld, citizen: Browser, fake_engine: FakeEngine
) -> None:
    before = len(fake_engine.pushes)
    _reference, path = _arrive(rita, citizen)
    answer = _submit(citizen, path, child_given_name="  ", child_birth_date="2031-01-01")
    assert answer.status_code == 422
    tree = check_page_contract(answer)
    assert tree.findtext("./head/title", "").startswith("Hitilafu:")
    assert "Jina la kwanza la mtoto: jaza sehemu hii" in answer.text
    assert "tarehe haiwezi kuwa ya baadaye" in answer.text
    assert 'value="Hospitali ya Mwananyamala, Kinondoni"' in answer.text  # kept
    assert len(fake_engine.pushes) == before


def test_a_form_without_its_token_is_refused(rita: InstitutionWorld, citizen: Browser) -> None:
    _reference, path = _arrive(rita, citizen)
    assert citizen.post_form(path, {"csrf_token": "forged", **RITA_FORM}).status_code == 403
    assert citizen.post_form(path, dict(RITA_FORM)).status_code == 403


def test_submitting_the_form_pushes_in_review(
    rita: InstitutionWorld, citizen: Browser, fake_engine: FakeEngine
) -> None:
    reference, path = _arrive(rita, citizen)
    answer = _submit(citizen, path)
    assert answer.status_code == 303
    assert answer.headers["location"] == path
    pushed = [p for p in fake_engine.pushes if p.body["reference"] == reference]
    assert len(pushed) == 1
    assert pushed[0].data["pushCode"] == "RITA-STATUS"
    body = pushed[0].body
    assert list(body) == ["reference", "eventId", "sequence", "status", "message", "at"]
    assert body["sequence"] == 2
    assert body["status"] == "in_review"
    assert re.fullmatch(r"[0-9a-f]{32}", body["eventId"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", body["at"])
    assert set(body["message"]) == {"sw", "en"}
    page = citizen.get(path)
    assert "Linakaguliwa" in page.text
    assert "Hospitali ya Mwananyamala, Kinondoni" in page.text
    assert 'name="child_given_name"' not in page.text


# ----- the back office


def test_the_back_office_approves_and_pushes_it(
    rita: InstitutionWorld, citizen: Browser, fake_engine: FakeEngine
) -> None:
    reference, path = _arrive(rita, citizen)
    _submit(citizen, path)
    office = rita.http.get("/ofisi")
    assert office.status_code == 200
    check_page_contract(office)
    assert "Majaribio tu: ukurasa huu hauna kuingia" in office.text
    assert reference in office.text
    assert NIN not in office.text
    decided = rita.http.post(
        f"/ofisi/{reference}/uamuzi",
        data={
            "csrf_token": csrf_of(office),
            "decision": "approve",
            "note": "Chukua cheti Kinondoni.",
        },
    )
    assert decided.status_code == 303
    bodies = [b for b in fake_engine.delivered("rita") if b["reference"] == reference]
    assert [(b["sequence"], b["status"]) for b in bodies] == [(2, "in_review"), (3, "approved")]
    assert bodies[1]["message"] == {
        "sw": "Ombi lako limekubaliwa. Ujumbe wa afisa: Chukua cheti Kinondoni.",
        "en": "Your application has been approved. Officer's note: Chukua cheti Kinondoni.",
    }
    assert "Limekubaliwa" in citizen.get(path).text
    again = rita.http.post(
        f"/ofisi/{reference}/uamuzi", data={"csrf_token": csrf_of(office), "decision": "reject"}
    )
    assert again.status_code == 409


def test_the_back_office_checks_its_form(rita: InstitutionWorld, citizen: Browser) -> None:
    reference, path = _arrive(rita, citizen)
    _submit(citizen, path)
    token = csrf_of(rita.http.get("/ofisi"))
    undecided = rita.http.post(f"/ofisi/{reference}/uamuzi", data={"csrf_token": token})
    assert undecided.status_code == 422
    check_page_contract(undecided)
    assert "Chagua kukubali au kukataa" in undecided.text
    forged = rita.http.post(
        f"/ofisi/{reference}/uamuzi", data={"csrf_token": "forged", "decision": "approve"}
    )
    assert forged.status_code == 403


def test_a_push_that_fails_is_retried_and_delivered(
    rita: InstitutionWorld, citizen: Browser, fake_engine: FakeEngine
) -> None:
    fake_engine.outcomes.extend(["failure", "down"])
    reference, path = _arrive(rita, citizen)
    assert _submit(citizen, path).status_code == 303
    wait_until(lambda: any(b["reference"] == reference for b in fake_engine.delivered("rita")))
    tries = [p for p in fake_engine.pushes if p.body["reference"] == reference]
    assert [p.outcome for p in tries] == ["failure", "down", "success"]
    assert len({p.body["eventId"] for p in tries}) == 1  # the same event each time
    assert "imefika" in rita.http.get("/ofisi").text


@pytest.fixture
def tra(
    engine_served: tuple[str, FakeEngine], esb_key: PrivateKey, fake_engine: FakeEngine
) -> Iterator[InstitutionWorld]:
    """TRA, retrying only after a minute: what is delivered here is sent by the button."""
    url, _running = engine_served
    with institution_started(
        "tra", url, fake_engine, esb_key, retry_first=60.0, retry_max=60.0
    ) as world:
        yield world


def test_an_undelivered_push_shows_and_the_button_sends_it_in_order(
    tra: InstitutionWorld, fake_engine: FakeEngine
) -> None:
    fake_engine.failing = True
    opened = tra.open(apiCode="TRA-TAX-CLEARANCE", service="tra-hati-ya-kodi-kulipwa")
    citizen = Browser(tra)
    try:
        path = citizen.arrive(opened["launchUrl"])
        page = citizen.get(path)
        form = {"csrf_token": csrf_of(page), "tin": "123456789", "clearance_purpose": "zabuni"}
        assert citizen.post_form(path, form).status_code == 303
    finally:
        citizen.close()
    reference = opened["reference"]
    assert reference.startswith("TRA-TCC-")
    office = tra.http.get("/ofisi?lugha=en")
    assert "not yet delivered" in office.text
    assert "refused: unknown_reference" in office.text
    token = csrf_of(office)
    tra.http.post(
        f"/ofisi/{reference}/uamuzi",
        data={"csrf_token": token, "decision": "reject", "note": "TIN haijalipiwa."},
    )
    tries = len(fake_engine.pushes)
    # The decision tried the queue again from its head; the rejection waits behind it.
    sent = [p.body["sequence"] for p in fake_engine.pushes if p.body["reference"] == reference]
    assert sent == [2, 2]
    fake_engine.failing = False
    retried = tra.http.post(
        f"/ofisi/{reference}/tuma-tena", data={"csrf_token": token, "lugha": "en"}
    )
    assert retried.status_code == 303
    assert retried.headers["location"] == "/ofisi?lugha=en"
    delivered = [b for b in fake_engine.delivered("tra") if b["reference"] == reference]
    assert [(b["sequence"], b["status"]) for b in delivered] == [(2, "in_review"), (3, "rejected")]
    assert len(fake_engine.pushes) == tries + 2
    assert "not yet delivered" not in tra.http.get("/ofisi?lugha=en").text


def test_nothing_logged_carries_a_nin_or_a_token(
    rita: InstitutionWorld, citizen: Browser, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    opened = rita.open()
    path = citizen.arrive(opened["launchUrl"])
    _submit(citizen, path)
    token = opened["launchUrl"].split("tiketi=")[1]
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("portal."))
    assert opened["reference"] in logged
    assert NIN not in logged
    assert token not in logged
    assert "Neema" not in logged


def test_the_front_page_stylesheet_and_unknown_pages(rita: InstitutionWorld) -> None:
    front = rita.http.get("/?lugha=en")
    assert front.status_code == 200
    check_page_contract(front)
    assert "Birth registration" in front.text
    assert front.headers["content-security-policy"].startswith("default-src 'none'")
    stylesheet = rita.http.get("/static/institution.css")
    assert stylesheet.status_code == 200
    assert stylesheet.headers["content-type"].startswith("text/css")
    missing = rita.http.get("/hakuna")
    assert missing.status_code == 404
    check_page_contract(missing)


# ----- configuration


def _bus(esb_key: PrivateKey, client_id: str = "rita") -> ClientConfig:
    return ClientConfig(
        base_url="http://127.0.0.1:8002",
        client_id=client_id,
        client_secret=CLIENT_SECRET,
        private_key=private_key_generate(),
        esb_public_key=esb_key.public_key(),
    )


def test_the_three_demo_institutions(esb_key: PrivateKey) -> None:
    configs = demo_institutions({slug: _bus(esb_key, slug) for slug in DEMO_INSTITUTIONS})
    summary = {
        slug: (c.base_url, c.push_code, [s.api_code for s in c.services])
        for slug, c in configs.items()
    }
    assert summary == {
        "rita": ("http://127.0.0.1:8003", "RITA-STATUS", ["RITA-BIRTH-REG"]),
        "tra": (
            "http://127.0.0.1:8004",
            "TRA-STATUS",
            ["TRA-TIN-INDIVIDUAL", "TRA-TAX-CLEARANCE"],
        ),
        "brela": ("http://127.0.0.1:8005", "BRELA-STATUS", ["BRELA-ORS-BUSINESS-NAME"]),
    }
    brela = configs["brela"].services[0]
    assert [f.name for f in brela.fields] == [
        "business_name",
        "business_activity",
        "business_region",
    ]
    assert configs["rita"].launch_ttl == 300


def test_it_refuses_to_run_outside_development_and_test(esb_key: PrivateKey) -> None:
    with pytest.raises(SandboxRefusedError, match="development or test"):
        demo_institution("rita", bus=_bus(esb_key), environment="production")
    config = demo_institution("rita", bus=_bus(esb_key), environment="test")
    production = replace(config)
    object.__setattr__(production, "environment", "production")
    with pytest.raises(SandboxRefusedError):
        create_institution_app(production)
    with pytest.raises(SandboxRefusedError):
        institution_serve(production)
    with pytest.raises(SandboxRefusedError, match="loopback"):
        institution_serve(config, host="0.0.0.0")


def test_its_bus_client_must_hold_its_keys(esb_key: PrivateKey) -> None:
    bus = _bus(esb_key)
    config = demo_institution("rita", bus=bus, environment="test")
    with pytest.raises(SandboxRefusedError, match="another key"):
        replace(config, private_key=private_key_generate())
    with pytest.raises(SandboxRefusedError, match="GovESB key"):
        replace(config, esb_public_key=private_key_generate().public_key())
