"""The feedback, problem and contact forms in a real Chromium, with and without JavaScript:
answered as a reader would, their error pages accessible and light, and what they keep."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from portal.app import create_app
from portal.config import Settings
from portal.feedback.models import Feedback
from portal.feedback.services import REMOVED
from portal.web.ratelimit import RateLimiter
from tests.browser.conftest import WEIGHTS, bytes_on_the_wire, serve
from tests.browser.test_pages import BUDGET, _axe_violations

SERVICE = "/huduma/rita-cheti-cha-kuzaliwa"
SCRIPTING = [{"java_script_enabled": True}, {"java_script_enabled": False}]


def _stored(engine: Engine, marker: str) -> Feedback:
    """The one row holding `marker` (a word unique to this test), whatever else is there."""
    with Session(engine) as session:
        rows = session.exec(select(Feedback)).all()
        [row] = [row for row in rows if marker in (row.comment or "")]
        return row


def _check(page: Page, axe_source: str, name: str, total: Callable[[], int]) -> None:
    page.wait_for_load_state("networkidle")
    WEIGHTS[name] = total()
    assert WEIGHTS[name] < BUDGET, f"{name}: {WEIGHTS[name]} bytes"
    assert _axe_violations(page, axe_source) == []


@pytest.mark.browser
@pytest.mark.parametrize("browser_context_args", SCRIPTING, indirect=True)
def test_a_reader_says_a_page_helped_and_adds_a_comment(page: Page, engine: Engine) -> None:
    marker = f"alama{secrets.token_hex(4)}"
    page.goto(f"{SERVICE}?lang=en")
    page.get_by_role("button", name="Yes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you for your answer")
    page.get_by_label("Tell us more (optional)").fill(f"Clear page {marker}, call 0712 345 678")
    page.get_by_role("button", name="Send comment").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you, we have received it")
    page.get_by_role("link", name="Back to the page").click()
    expect(page).to_have_url(re.compile(f"{SERVICE}$"))
    row = _stored(engine, marker)
    assert (row.kind, row.page, row.useful) == ("useful", SERVICE, True)
    assert row.comment == f"Clear page {marker}, call {REMOVED}"


@pytest.mark.browser
@pytest.mark.parametrize("browser_context_args", SCRIPTING, indirect=True)
def test_a_reader_reports_a_problem_after_fixing_an_error(
    page: Page, engine: Engine, axe_source: str
) -> None:
    marker = f"alama{secrets.token_hex(4)}"
    page.goto(SERVICE)
    page.get_by_role("link", name="Ripoti tatizo kwenye ukurasa huu").click()
    page.get_by_label("Maelezo (si lazima)").fill(f"Ada imebadilika {marker}")
    total = bytes_on_the_wire(page)
    page.get_by_role("button", name="Tuma ripoti").click()
    # Sent without a reason: the summary names the problem, links to it, and the text stays.
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Chagua kilichoharibika")
    expect(page).to_have_title(re.compile(r"^Hitilafu: "))
    expect(page.get_by_label("Maelezo (si lazima)")).to_have_value(f"Ada imebadilika {marker}")
    _check(page, axe_source, "problem, with an error (sw)", total)
    summary.get_by_role("link").click()
    expect(page.locator("#reason")).to_be_focused()
    page.get_by_label("Taarifa si sahihi au zimepitwa na wakati").check()
    page.get_by_role("button", name="Tuma ripoti").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Asante, tumeipokea")
    row = _stored(engine, marker)
    assert (row.kind, row.page, row.reason) == ("problem", SERVICE, "wrong")


@pytest.mark.browser
@pytest.mark.parametrize("browser_context_args", SCRIPTING, indirect=True)
def test_a_reader_writes_to_the_team(page: Page, engine: Engine, axe_source: str) -> None:
    marker = f"alama{secrets.token_hex(4)}"
    page.goto("/?lang=en")
    page.get_by_role("contentinfo").get_by_role("link", name="Contact").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Contact the Mlango team")
    total = bytes_on_the_wire(page)
    page.get_by_role("button", name="Send message").click()
    expect(page.get_by_role("alert")).to_contain_text("Select what your message is about")
    expect(page.get_by_role("alert")).to_contain_text("Enter your message")
    _check(page, axe_source, "contact, with errors (en)", total)
    page.get_by_label("A service is missing from Mlango").check()
    page.get_by_label("Your message").fill(f"Cooperative registration is missing {marker}")
    page.get_by_role("button", name="Send message").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you, we have received it")
    row = _stored(engine, marker)
    assert (row.kind, row.reason) == ("contact", "missing")


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["sw", "en"])
@pytest.mark.parametrize("path", ["/wasiliana", f"/tatizo?ukurasa={SERVICE}"])
def test_form_pages_are_accessible_and_light(
    page: Page, axe_source: str, path: str, lang: str
) -> None:
    total = bytes_on_the_wire(page)
    page.goto(f"{path}{'&' if '?' in path else '?'}lang={lang}")
    _check(page, axe_source, f"{path.split('?')[0]} ({lang})", total)


@pytest.mark.browser
def test_an_expired_form_gets_a_page_that_says_what_to_do(page: Page, axe_source: str) -> None:
    page.goto(f"{SERVICE}?lang=en")
    page.context.clear_cookies()  # as if the browser dropped its cookies meanwhile
    total = bytes_on_the_wire(page)
    page.get_by_role("button", name="No").click()
    # The language cookie went with the others, so the answer is in Swahili, the default.
    expect(page.get_by_role("heading", level=1)).to_have_text("Fomu hii imepitwa na muda")
    _check(page, axe_source, "403, expired form (sw)", total)


@pytest.fixture(scope="module")
def strict_server(settings: Settings, search_backend: object) -> Iterator[str]:
    """The portal with a form limit of one post per client, to reach the 429 page."""
    app = create_app(settings)
    app.state.rate_limiter = RateLimiter({"feedback": (1, 600.0), "sign_in": (1, 600.0)})
    with serve(app) as url:
        yield url


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["sw", "en"])
def test_too_many_forms_get_a_page_that_says_so(
    page: Page, axe_source: str, strict_server: str, lang: str
) -> None:
    page.goto(f"{strict_server}/?lang={lang}")
    page.locator("button[name=useful][value=yes]").click()
    page.goto(f"{strict_server}/?lang={lang}")
    total = bytes_on_the_wire(page)
    page.locator("button[name=useful][value=yes]").click()
    heading = {"sw": "Majaribio mengi mno kwa muda mfupi", "en": "Too many tries in a short time"}
    expect(page.get_by_role("heading", level=1)).to_have_text(heading[lang])
    _check(page, axe_source, f"429 ({lang})", total)
