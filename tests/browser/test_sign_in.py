"""A citizen signs in with the NIN and a one-time code through the sandbox provider, in a real
Chromium, sees their account and signs out; the provider's pages pass the same checks."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.engine import Engine

from portal.config import Settings
from tests.browser.conftest import WEIGHTS, bytes_on_the_wire
from tests.browser.test_pages import BUDGET, _axe_violations
from tests.functional.sandbox.conftest import NEEMA
from tests.sign_in_world import World, world_served


@pytest.fixture(scope="module")
def world(settings: Settings, engine: Engine, search_backend: object) -> Iterator[World]:
    with world_served(settings, engine) as running:
        yield running


@pytest.mark.browser
@pytest.mark.parametrize("browser_context_args", [{"java_script_enabled": False}], indirect=True)
def test_a_citizen_signs_in_and_out_without_javascript(
    page: Page, world: World, axe_source: str
) -> None:
    page.goto(f"{world.portal}/huduma/rita-cheti-cha-kuzaliwa?lang=en")
    page.get_by_role("link", name="Sign in").click()
    expect(page).to_have_url(re.compile(f"^{re.escape(world.issuer)}/"))
    transferred = bytes_on_the_wire(page)
    page.reload()
    assert _axe_violations(page, axe_source) == []  # the provider's NIN page
    WEIGHTS["sandbox NIN page"] = transferred()
    assert WEIGHTS["sandbox NIN page"] < BUDGET
    page.get_by_label(re.compile("NIN")).fill(NEEMA)
    page.get_by_role("button", name=re.compile("Continue|Endelea")).click()
    code = re.search(r"\b(\d{6})\b", page.locator(".banner-code").inner_text())
    assert code, "the sandbox shows the one-time code on its banner"
    assert _axe_violations(page, axe_source) == []  # the provider's code page
    page.get_by_label(re.compile("code|msimbo", re.IGNORECASE)).first.fill(code.group(1))
    page.get_by_role("button", name=re.compile("Continue|Endelea")).click()
    expect(page).to_have_url(re.compile(r"/huduma/rita-cheti-cha-kuzaliwa$"))
    page.get_by_role("link", name=re.compile("Your account|Akaunti yako")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        re.compile("Your account|Akaunti yako")
    )
    expect(page.locator("main")).to_contain_text("Neema Mwakalinga")
    assert _axe_violations(page, axe_source) == []
    page.get_by_role("button", name=re.compile("^(Sign out|Toka)$")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("signed out|Umetoka"))
    page.goto(f"{world.portal}/akaunti")
    expect(page).to_have_url(re.compile(f"^{re.escape(world.issuer)}/"))  # asked to sign in again
