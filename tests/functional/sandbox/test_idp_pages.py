"""The sign-in pages (languages, errors linked to fields, CSRF, the sandbox banner), abuse limits,
the test hooks (headless sign-in, injected faults), the demo citizens, the production refusal
and what the provider never writes to its logs."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re

import pytest
from joserfc.errors import ExpiredTokenError, InvalidKeyIdError

from portal.config import Environment
from portal.sandbox.idp import (
    ACR_HIGH,
    ACR_LOW,
    CITIZENS_FILE,
    IdpConfig,
    IdpFaults,
    SandboxRefusedError,
    citizens_load,
    create_idp_app,
    idp_banner,
    idp_serve,
    nin_normalise,
)
from tests.functional.sandbox.conftest import (
    DAUDI,
    IMANI,
    MWANAISHA,
    NEEMA,
    NEEMA_DIGITS,
    Sandbox,
    StartSandbox,
)
from tests.functional.sandbox.rp import Browser, Page, query, redeem, userinfo, verify


def _nin_page(sandbox: Sandbox, citizen: Browser, **change: str | None) -> Page:
    rp = sandbox.rp()
    response = citizen.authorize(rp, rp.flow(**change))
    return citizen.page(response.headers["location"])


def _code_page(sandbox: Sandbox, citizen: Browser, nin: str, **change: str | None) -> Page:
    page = _nin_page(sandbox, citizen, **change)
    response = citizen.submit(page, {"nin": nin, "action": "continue"})
    assert response.status_code == 303, response.text[:400]
    return citizen.page(response.headers["location"])


def _field(page: Page, name: str) -> dict[str, str]:
    element = page.tree.find(f".//input[@name='{name}']")
    assert element is not None
    return dict(element.attrib)


# ----- the NIN page


@pytest.mark.parametrize(
    "typed",
    [
        NEEMA,
        NEEMA_DIGITS,
        "19880314 51101 00042 17",
        f"  {NEEMA_DIGITS} ",
        "19880314-5110100042-17",
    ],
)
def test_the_nin_is_accepted_with_or_without_separators(
    sandbox: Sandbox, citizen: Browser, typed: str
) -> None:
    page = _nin_page(sandbox, citizen)
    response = citizen.submit(page, {"nin": typed, "action": "continue"})
    assert response.status_code == 303
    assert response.headers["location"].endswith("/code")


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Weka Namba yako ya Utambulisho wa Taifa"),
        ("1988031451101", "NIN ina tarakimu 20, kama 19900101-12345-00001-23"),
        ("19880314-51101-00042-1x", "NIN ina tarakimu 20, kama 19900101-12345-00001-23"),
        ("19900101-12345-00001-23", "Hatukupata NIN hii. Iangalie kisha ujaribu tena"),
    ],
)
def test_a_nin_problem_is_shown_and_linked_to_the_field(
    sandbox: Sandbox, citizen: Browser, typed: str, message: str
) -> None:
    page = _nin_page(sandbox, citizen)
    shown = citizen.as_page(citizen.submit(page, {"nin": typed, "action": "continue"}), 422)
    title = shown.tree.find("./head/title")
    assert title is not None
    assert (title.text or "").startswith("Hitilafu: ")
    links = [(a.get("href"), "".join(a.itertext())) for a in shown.tree.iter("a")]
    assert ("#nin", message) in links  # the summary links to the field
    field = _field(shown, "nin")
    assert field["aria-invalid"] == "true"
    assert "nin-error" in field["aria-describedby"].split()
    error = shown.tree.find(".//p[@id='nin-error']")
    assert error is not None
    assert message in "".join(error.itertext())
    assert field.get("value", "") == typed.strip()  # kept as typed


def test_a_wrong_code_is_shown_and_linked_to_the_field(sandbox: Sandbox, citizen: Browser) -> None:
    page = _code_page(sandbox, citizen, NEEMA)
    wrong = "000000" if page.banner_code() != "000000" else "111111"
    shown = citizen.as_page(citizen.submit(page, {"code": wrong, "action": "continue"}), 422)
    links = [(a.get("href"), "".join(a.itertext())) for a in shown.tree.iter("a")]
    assert ("#code", "Namba ya siri si sahihi. Umebakiza majaribio 4") in links
    assert "code-error" in _field(shown, "code")["aria-describedby"]
    response = citizen.submit(shown, {"code": shown.banner_code(), "action": "continue"})
    assert "code" in query(response.headers["location"])  # the right code still works


def test_the_low_level_asks_the_date_of_birth(sandbox: Sandbox, citizen: Browser) -> None:
    page = _nin_page(sandbox, citizen, acr_values=ACR_LOW)
    assert _field(page, "birthdate")["autocomplete"] == "bday"
    shown = citizen.as_page(
        citizen.submit(page, {"nin": IMANI, "birthdate": "2021-09-04", "action": "continue"}), 422
    )
    assert "#birthdate" in {a.get("href") for a in shown.tree.iter("a")}
    response = citizen.submit(
        shown, {"nin": IMANI, "birthdate": "2021-09-03", "action": "continue"}
    )
    assert "code" in query(response.headers["location"])


def test_the_high_level_asks_the_pin_too(sandbox: Sandbox, citizen: Browser) -> None:
    page = _code_page(sandbox, citizen, MWANAISHA, acr_values=ACR_HIGH)
    assert _field(page, "pin")["type"] == "password"
    shown = citizen.as_page(
        citizen.submit(page, {"code": page.banner_code(), "pin": "0000", "action": "continue"}),
        422,
    )
    assert "#pin" in {a.get("href") for a in shown.tree.iter("a")}


def test_an_expired_code_is_replaced(sandbox: Sandbox, citizen: Browser) -> None:
    page = _code_page(sandbox, citizen, NEEMA)
    first = page.banner_code()
    sandbox.clock.advance(301)
    shown = citizen.as_page(citizen.submit(page, {"code": first, "action": "continue"}), 422)
    assert "Tumekutumia nyingine" in shown.text()
    response = citizen.submit(shown, {"code": shown.banner_code(), "action": "continue"})
    assert "code" in query(response.headers["location"])


# ----- languages and the banner


def test_pages_are_in_swahili_first_and_switch_to_english(
    sandbox: Sandbox, citizen: Browser
) -> None:
    page = _nin_page(sandbox, citizen)
    assert page.tree.get("lang") == "sw"
    assert "Majaribio: hii si NIDA halisi." in page.text()
    switch = next(a for a in page.tree.iter("a") if a.get("hreflang") == "en")
    english = citizen.page(str(switch.get("href")))
    assert english.tree.get("lang") == "en"
    assert english.h1 == "Sign in with your National Identification Number"
    assert "Sandbox: this is not the real NIDA." in english.text()
    code = citizen.page(
        citizen.submit(english, {"nin": NEEMA, "action": "continue"}).headers["location"]
    )
    assert code.h1 == "Enter the code we sent you"  # the choice stays for the sign-in


def test_ui_locales_picks_the_first_known_language(sandbox: Sandbox, citizen: Browser) -> None:
    page = _nin_page(sandbox, citizen, ui_locales="fr en-GB sw")
    assert page.tree.get("lang") == "en"


def test_the_one_time_code_is_on_the_banner_only_when_echo_is_on(
    start_sandbox: StartSandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    with start_sandbox(otp_echo=False) as box, box.browser() as citizen:
        page = _code_page(box, citizen, NEEMA)
        assert page.tree.find(".//p[@class='banner-code']") is None
        assert "Majaribio: hii si NIDA halisi." in page.text()
    assert "one-time code" not in capsys.readouterr().out


def test_pages_carry_a_strict_policy_and_no_script(sandbox: Sandbox, citizen: Browser) -> None:
    page = _nin_page(sandbox, citizen)
    headers = page.response.headers
    policy = headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "script-src" not in policy  # none at all: default-src 'none'
    assert f"form-action 'self' {sandbox.receiver.url}" in policy
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["cache-control"] == "no-store"
    assert not list(page.tree.iter("script"))
    assert not [e for e in page.tree.iter() if e.get("style") is not None]
    sheet = citizen.get("/static/idp.css")
    assert sheet.status_code == 200
    assert sheet.headers["content-type"].startswith("text/css")


# ----- CSRF and the browser binding


def test_a_form_without_its_csrf_token_is_refused(sandbox: Sandbox, citizen: Browser) -> None:
    page = _nin_page(sandbox, citizen)
    response = citizen.submit(page, {"nin": NEEMA, "csrf_token": "", "action": "continue"})
    assert citizen.as_page(response, 403).h1 == "Fomu imepitwa na muda"


def test_a_sign_in_belongs_to_the_browser_that_began_it(sandbox: Sandbox, citizen: Browser) -> None:
    rp = sandbox.rp()
    location = citizen.authorize(rp, rp.flow()).headers["location"]
    with sandbox.browser() as other:
        page = other.page(location, status=400)
        assert page.h1 == "Muda wa kuingia umekwisha"


# ----- abuse


def test_five_wrong_codes_lock_the_nin_for_fifteen_minutes(
    sandbox: Sandbox, citizen: Browser
) -> None:
    page = _code_page(sandbox, citizen, DAUDI)
    wrong = "000000" if page.banner_code() != "000000" else "111111"
    for left in (4, 3, 2, 1):
        page = citizen.as_page(citizen.submit(page, {"code": wrong, "action": "continue"}), 422)
        assert f"Umebakiza majaribio {left}" in page.text()
    locked = citizen.as_page(citizen.submit(page, {"code": wrong, "action": "continue"}), 429)
    assert locked.h1 == "Umejaribu mara nyingi mno"
    assert "imefungwa kwa dakika 15" in locked.text()
    assert locked.response.headers["retry-after"] == "900"
    # Another sign-in, in English, meets the same lock, even with the right code.
    page = _nin_page(sandbox, citizen, ui_locales="en")
    response = citizen.submit(page, {"nin": DAUDI, "action": "continue"})
    english = citizen.as_page(response, 429)
    assert "locked for 15 minutes" in english.text()
    response = citizen.submit(english, {"action": "cancel"})
    assert query(response.headers["location"])["error"] == "access_denied"
    sandbox.clock.advance(15 * 60 + 1)
    page = _code_page(sandbox, citizen, DAUDI)
    response = citizen.submit(page, {"code": page.banner_code(), "action": "continue"})
    assert "code" in query(response.headers["location"])


def test_wrong_answers_from_one_address_are_limited(start_sandbox: StartSandbox) -> None:
    with start_sandbox(max_address_attempts=3) as box, box.browser() as citizen:
        page = _nin_page(box, citizen)
        for _ in range(3):
            response = citizen.submit(
                page, {"nin": "19900101-12345-00001-23", "action": "continue"}
            )
            page = citizen.as_page(response, 422)
        response = citizen.submit(page, {"nin": NEEMA, "action": "continue"})
        assert "kifaa hiki" in citizen.as_page(response, 429).text()


# ----- test hooks


def test_a_headless_sign_in_runs_on_redirects_alone(start_sandbox: StartSandbox) -> None:
    with start_sandbox(headless_login=True) as box, box.browser() as citizen:
        rp = box.rp()
        flow = rp.flow(login_hint=NEEMA_DIGITS, acr_values=ACR_HIGH)
        response = citizen.authorize(rp, flow)
        assert response.status_code == 302
        params = query(response.headers["location"])
        assert (params["state"], params["iss"]) == (flow.state, box.issuer)
        claims = verify(redeem(rp, citizen, params, flow)["id_token"], box.jwks()).claims
        assert claims["acr"] == ACR_HIGH
        flow = rp.flow(prompt="none")  # the headless sign-in left a session
        assert "code" in query(citizen.authorize(rp, flow).headers["location"])


def test_login_hint_signs_no_one_in_unless_headless_is_on(
    sandbox: Sandbox, citizen: Browser
) -> None:
    rp = sandbox.rp()
    response = citizen.authorize(rp, rp.flow(login_hint=NEEMA_DIGITS))
    assert response.headers["location"].startswith(f"{sandbox.issuer}/signin/")


def test_an_authorization_error_can_be_injected_by_configuration(
    start_sandbox: StartSandbox,
) -> None:
    faults = IdpFaults(authorization_error="access_denied")
    with start_sandbox(faults=faults) as box, box.browser() as citizen:
        rp = box.rp()
        flow = rp.flow()
        params = query(citizen.authorize(rp, flow).headers["location"])
        assert params["error"] == "access_denied"
        assert (params["state"], params["iss"]) == (flow.state, box.issuer)


@pytest.mark.parametrize(
    ("faults", "expect"),
    [
        ({"wrong_iss_in_response": True}, "iss is wrong"),
        ({"omit_iss_in_response": True}, "iss is missing"),
        ({"id_token_expired": True}, "expired"),
        ({"id_token_wrong_aud": True}, "aud is wrong"),
        ({"id_token_wrong_iss": True}, "token iss is wrong"),
        ({"id_token_wrong_nonce": True}, "nonce is wrong"),
        ({"id_token_unknown_kid": True}, "kid is unknown"),
        ({"acr": "urn:tz:nida:loa:low"}, "acr is lower"),
        ({"userinfo_wrong_sub": True}, "userinfo sub differs"),
    ],
)
def test_faults_can_be_injected_at_run_time(
    sandbox: Sandbox, citizen: Browser, faults: dict[str, object], expect: str
) -> None:
    sandbox.faults(**faults)
    rp = sandbox.rp()
    flow = rp.flow()
    params = citizen.sign_in(rp, flow, NEEMA)
    if expect.startswith("iss"):
        assert params.get("iss") == (None if "missing" in expect else "http://wrong-issuer.invalid")
        return
    tokens = redeem(rp, citizen, params, flow)
    jwks = sandbox.jwks()
    if expect == "kid is unknown":
        with pytest.raises(InvalidKeyIdError):
            verify(tokens["id_token"], jwks)
        return
    if expect == "expired":
        with pytest.raises(ExpiredTokenError):
            verify(tokens["id_token"], jwks)
        return
    claims = verify(tokens["id_token"], jwks).claims
    if expect == "aud is wrong":
        assert claims["aud"] != "portal"
    elif expect == "token iss is wrong":
        assert claims["iss"] != sandbox.issuer
    elif expect == "nonce is wrong":
        assert claims["nonce"] != flow.nonce
    elif expect == "acr is lower":
        assert claims["acr"] == ACR_LOW
    else:
        assert userinfo(citizen, tokens["access_token"]).json()["sub"] != claims["sub"]


def test_faults_are_read_and_refused_by_name(sandbox: Sandbox, citizen: Browser) -> None:
    assert citizen.get("/dev/faults").json()["wrong_iss_in_response"] is False
    refused = citizen.http.post(f"{sandbox.issuer}/dev/faults", json={"no_such_fault": True})
    assert refused.status_code == 400
    refused = citizen.http.post(
        f"{sandbox.issuer}/dev/faults", json={"authorization_error": "teapot"}
    )
    assert refused.status_code == 400


# ----- the demo citizens


def test_the_demo_citizens_are_varied_and_their_nins_well_formed() -> None:
    citizens = citizens_load(CITIZENS_FILE)
    assert len(citizens) >= 12
    for nin, citizen in citizens.items():
        assert re.fullmatch(r"\d{20}", nin)
        assert dt.datetime.strptime(nin[:8], "%Y%m%d").date() == citizen.birthdate
        assert nin_normalise(citizen.nin_display) == nin
        assert re.fullmatch(r"\d{8}-\d{5}-\d{5}-\d{2}", citizen.nin_display)
    years = [citizen.birthdate.year for citizen in citizens.values()]
    assert max(years) > 2020
    assert min(years) < 1950
    assert len({citizen.region for citizen in citizens.values()}) >= 10
    assert len({citizen.family_name for citizen in citizens.values()}) == len(citizens)


def test_the_demo_citizens_page_lists_them(sandbox: Sandbox, citizen: Browser) -> None:
    page = citizen.page("/dev/citizens")
    assert page.h1 == "Wananchi wa majaribio"
    assert NEEMA in page.text()
    assert len(list(page.tree.iter("tr"))) == len(citizens_load(CITIZENS_FILE)) + 1


# ----- production, and logs


@pytest.mark.parametrize("environment", ["production", Environment.production, "staging"])
def test_the_provider_refuses_production(environment: str) -> None:
    with pytest.raises(SandboxRefusedError, match="development or test"):
        IdpConfig(environment=environment)


def test_a_config_forced_to_production_still_does_not_start() -> None:
    config = IdpConfig(environment="test")
    object.__setattr__(config, "environment", "production")
    with pytest.raises(SandboxRefusedError):
        create_idp_app(config)
    with pytest.raises(SandboxRefusedError):
        idp_serve(config, "127.0.0.1", 0)


def test_the_provider_listens_on_loopback_only() -> None:
    with pytest.raises(SandboxRefusedError, match="loopback"):
        idp_serve(IdpConfig(environment="test"), "0.0.0.0", 0)


def test_the_banner_says_what_this_is_and_that_it_forgets() -> None:
    config = IdpConfig(environment="development")
    banner = idp_banner(config)
    assert "not the real NIDA" in banner
    assert "memory" in banner
    assert config.issuer in banner


def test_no_nin_code_or_token_reaches_the_logs(
    sandbox: Sandbox,
    citizen: Browser,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    rp = sandbox.rp()
    flow = rp.flow(claims='{"id_token": {"nin": null}}')
    params = citizen.sign_in(rp, flow, NEEMA)
    tokens = redeem(rp, citizen, params, flow)
    rp.token(citizen.http, params["code"], flow.verifier)  # a replay, which is logged
    citizen.get(f"{sandbox.issuer}/logout?id_token_hint={tokens['id_token']}")
    # The HTTP client's own records (the harness's, and the provider's outgoing calls, whose
    # tokens travel in bodies only) are left out: what is checked is what the provider says.
    said = [r for r in caplog.records if not r.name.startswith(("httpx2", "httpcore2"))]
    logged = "\n".join(r.getMessage() for r in said) + capsys.readouterr().out
    assert "sign-in of NIN ref" in logged  # the provider did log, by reference
    for secret in (
        NEEMA_DIGITS,
        NEEMA,
        params["code"],
        tokens["access_token"],
        tokens["id_token"],
        flow.verifier,
    ):
        assert secret not in logged


def test_configuration_mistakes_stop_the_start() -> None:
    config = IdpConfig(environment="test")
    with pytest.raises(SandboxRefusedError):
        dataclasses.replace(config, code_ttl=120)
    with pytest.raises(SandboxRefusedError):
        dataclasses.replace(config, issuer="http://127.0.0.1:8001/")
