"""The whole journey in a real Chromium without JavaScript: find a service, sign in, agree to
share, land in the institution's own system already known, submit there, and watch the status
change in "Maombi yangu"; every Mlango page on the way passes axe and the weight budget."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.engine import Engine

from portal.config import Settings
from tests.browser.conftest import WEIGHTS, bytes_on_the_wire
from tests.browser.test_pages import BUDGET, _axe_violations
from tests.sign_in_world import World, world_served

MASANJA = "19810509-33412-01129-85"  # a demo citizen of his own in this module


@pytest.fixture(scope="module")
def world(settings: Settings, engine: Engine, search_backend: object) -> Iterator[World]:
    with world_served(settings, engine, bus=True) as running:
        yield running


def _checked(page: Page, axe_source: str, name: str) -> None:
    """The page passes axe, and weighs under the budget when loaded afresh."""
    transferred = bytes_on_the_wire(page)
    page.reload()
    assert _axe_violations(page, axe_source) == [], name
    WEIGHTS[name] = transferred()
    assert WEIGHTS[name] < BUDGET, name


@pytest.mark.browser
@pytest.mark.parametrize("browser_context_args", [{"java_script_enabled": False}], indirect=True)
def test_a_citizen_starts_a_service_and_follows_it(
    page: Page, world: World, axe_source: str
) -> None:
    page.goto(f"{world.portal}/tafuta?q=tin&lang=en")
    page.get_by_role("link", name=re.compile("TIN", re.IGNORECASE)).first.click()
    expect(page).to_have_url(re.compile(r"/huduma/tra-usajili-wa-tin-mtu-binafsi$"))
    page.get_by_role("link", name="Start the service").click()

    # Signing in at the service's level, on the sandbox national-ID provider.
    expect(page).to_have_url(re.compile(f"^{re.escape(world.issuer)}/"))
    page.get_by_label(re.compile("NIN")).fill(MASANJA)
    page.get_by_role("button", name=re.compile("Continue|Endelea")).click()
    code = re.search(r"\b(\d{6})\b", page.locator(".banner-code").inner_text())
    assert code, "the sandbox shows the one-time code on its banner"
    page.get_by_label(re.compile("code|msimbo", re.IGNORECASE)).first.fill(code.group(1))
    page.get_by_role("button", name=re.compile("Continue|Endelea")).click()

    # The consent page: who gets what, and why.
    expect(page).to_have_url(re.compile(r"/huduma/tra-usajili-wa-tin-mtu-binafsi/anza$"))
    main = page.locator("main")
    expect(main).to_contain_text("Tanzania Revenue Authority")
    expect(main).to_contain_text("Your NIN, ending in 2985")
    expect(main).to_contain_text("Masanja")
    _checked(page, axe_source, "consent page")
    page.get_by_role("button", name="Agree and continue").click()

    # The institution's own system, already filled with his verified details.
    expect(page).to_have_url(re.compile(f"^{re.escape(world.institution_urls['tra'])}/maombi/"))
    expect(page.locator("body")).to_contain_text("Masanja")
    expect(page.locator("body")).to_contain_text("Shija")
    reference = page.url.rsplit("/", 1)[1].split("?", 1)[0]

    # Back in Mlango, the application is there, received.
    page.goto(f"{world.portal}/maombi?lang=en")
    expect(page.locator("main")).to_contain_text(reference)
    expect(page.locator("main")).to_contain_text("Received")
    _checked(page, axe_source, "my applications")

    # TRA's officer decides (its back office, a sandbox page); the status travels back.
    _tra_submits_and_approves(page, world, reference)
    page.goto(f"{world.portal}/maombi?lang=en")
    expect(page.locator("main")).to_contain_text("Approved")
    page.get_by_role("link", name=re.compile("TIN", re.IGNORECASE)).first.click()
    expect(page.locator("main")).to_contain_text("In review")
    _checked(page, axe_source, "an application")
    page.goto(f"{world.portal}/taarifa-zangu?lang=en")
    expect(page.locator("main")).to_contain_text("Tanzania Revenue Authority")
    expect(page.locator("main")).to_contain_text("National ID number (NIN)")
    _checked(page, axe_source, "my shared data")


def _tra_submits_and_approves(page: Page, world: World, reference: str) -> None:
    """The citizen sends TRA's form, then an officer approves it in TRA's back office."""
    tra = world.institution_urls["tra"]
    page.goto(f"{tra}/maombi/{reference}")
    form = page.locator("form").first
    for field in form.locator("select").all():
        field.select_option(index=1)
    for field in form.locator("input[type=radio]").all()[:1]:
        field.check()
    for field in form.locator("input[type=text], input[type=date], input:not([type])").all():
        if field.is_editable() and not field.input_value():
            name = field.get_attribute("name") or ""
            field.fill(dt.date(2026, 11, 1).isoformat() if "date" in name else "Duka la vitabu")
    form.locator("button[type=submit]").first.click()
    page.goto(f"{tra}/ofisi")
    page.locator(f"#approve-{reference}").click()
