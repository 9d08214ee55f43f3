"""Every page of the sandbox provider in a real Chromium: no axe-core violation (WCAG 2.1 A and
AA, and best practice), and a sign-in that works by keyboard alone.

Chromium and axe-core come as for the portal's browser tests (`make test` installs both);
without them these tests skip, except under CI=true, where they fail.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from portal.sandbox.idp import ACR_HIGH, ACR_LOW
from tests.browser.conftest import axe_source, browser_type_launch_args
from tests.functional.sandbox.conftest import IMANI, MWANAISHA, NEEMA, Sandbox, StartSandbox

__all__ = ["axe_source", "browser_type_launch_args"]  # fixtures shared with the portal's tests

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


def _violations(page: Page, source: str) -> list[tuple[str, list[str]]]:
    page.evaluate(source)  # evaluate is not held to the page's CSP; a script tag would be
    result = page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags},"
        " resultTypes: ['violations']})",
        AXE_TAGS,
    )
    return [(v["id"], [str(n["target"]) for n in v["nodes"]]) for v in result["violations"]]


class Checker:
    def __init__(self, page: Page, source: str) -> None:
        self.page, self.source = page, source
        self.seen: list[str] = []

    def __call__(self, name: str) -> None:
        assert self.page.locator("h1").count() == 1, name
        assert _violations(self.page, self.source) == [], name
        self.seen.append(name)


@pytest.fixture(scope="session")
def base_url(sandbox: Sandbox) -> str:
    """Playwright's base address (its own fallback fixture is deprecated in this pytest)."""
    return sandbox.issuer


@pytest.fixture
def check(page: Page, axe_source: str) -> Checker:
    return Checker(page, axe_source)


def _continue(page: Page) -> None:
    page.click("button[value=continue]")


def _wrong(page: Page) -> str:
    code = page.locator(".banner-code").inner_text()
    return "111111" if "000000" in code else "000000"


def _code(page: Page) -> str:
    return page.locator(".banner-code").inner_text().split()[-1]


@pytest.mark.browser
def test_every_page_is_accessible(
    page: Page, check: Checker, sandbox: Sandbox, start_sandbox: StartSandbox
) -> None:
    """Each template once, in Swahili (the default, and the longer text), pages with their
    error messages showing; the busiest page in English too."""
    rp = sandbox.rp()
    page.goto(rp.authorize_url(rp.flow()))
    page.fill("#nin", "1234")
    _continue(page)
    check("NIN page with an error")
    page.fill("#nin", NEEMA)
    _continue(page)
    page.fill("#code", _wrong(page))
    _continue(page)
    check("code page with an error")
    page.fill("#code", _code(page))
    _continue(page)  # signed in: on to the client
    page.goto(rp.authorize_url(rp.flow(prompt="consent", scope="openid profile phone")))
    check("consent page")
    page.goto(rp.authorize_url(rp.flow(acr_values=ACR_LOW, prompt="login")))
    page.fill("#nin", IMANI)
    page.fill("#birthdate", "2021-09-09")
    _continue(page)
    check("date of birth with an error")
    page.goto(rp.authorize_url(rp.flow(acr_values=ACR_HIGH, prompt="login")))
    page.fill("#nin", MWANAISHA)
    _continue(page)
    check("code and PIN page")
    page.goto(rp.authorize_url(rp.flow(redirect_uri="http://evil.example/")))
    check("bad request page")
    page.goto(f"{sandbox.issuer}/dev/citizens")
    check("demo citizens page")
    page.goto(f"{sandbox.issuer}/logout")
    check("sign-out question")
    page.click("button[value=logout]")
    check("signed-out page")
    page.goto(rp.authorize_url(rp.flow(ui_locales="en")))
    page.fill("#nin", "1234")
    _continue(page)
    assert page.locator("html").get_attribute("lang") == "en"
    check("NIN page with an error, in English")
    with start_sandbox(max_code_attempts=1) as box:
        other = box.rp()
        page.goto(other.authorize_url(other.flow()))
        page.fill("#nin", NEEMA)
        _continue(page)
        page.fill("#code", _wrong(page))
        _continue(page)
        check("locked page")


@pytest.mark.browser
def test_a_sign_in_works_by_keyboard_alone(page: Page, sandbox: Sandbox) -> None:
    rp = sandbox.rp()
    flow = rp.flow()
    page.goto(rp.authorize_url(flow))
    page.keyboard.press("Tab")  # the skip link comes first
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.locator("#nin").focus()
    page.keyboard.type(NEEMA)
    page.keyboard.press("Enter")  # the first button is "continue", not "cancel"
    page.wait_for_url("**/code")
    page.locator("#code").focus()
    page.keyboard.type(_code(page))
    with page.expect_request(lambda request: request.url.startswith(flow.redirect_uri)) as sent:
        page.keyboard.press("Enter")
    assert f"state={flow.state}" in sent.value.url
