"""Every page type in a real Chromium: no axe-core violations (WCAG 2.1 A/AA and best practice),
and under 30 KB transferred, counting every request the page makes, compressed, with headers."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from portal.catalogue.models import Category, Service
from tests.browser.conftest import FAILING_PATH, WEIGHTS, bytes_on_the_wire

BUDGET = 30 * 1024
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


def _largest_service(engine: Engine) -> str:
    with Session(engine) as session:
        services = session.exec(select(Service)).all()
        return max(services, key=lambda s: len(json.dumps(s.model_dump(mode="json")))).slug


def _largest_category(engine: Engine) -> str:
    with Session(engine) as session:
        return max(session.exec(select(Category)).all(), key=lambda c: len(c.services)).slug


@pytest.fixture(scope="module")
def page_types(engine: Engine) -> dict[str, tuple[str, int]]:
    """One address per page type, the heaviest of its kind where the catalogue varies."""
    return {
        "home": ("/", 200),
        "life event list": ("/matukio", 200),
        "life event": ("/matukio/kuanzisha-biashara", 200),
        "category list": ("/makundi", 200),
        "category": (f"/makundi/{_largest_category(engine)}", 200),
        "institution list": ("/taasisi", 200),
        "institution": ("/taasisi/tra", 200),
        "service": (f"/huduma/{_largest_service(engine)}", 200),
        "help": ("/msaada", 200),
        "accessibility statement": ("/ufikivu", 200),
        "privacy notice": ("/faragha", 200),
        "404": ("/huduma/haipo", 404),
        "400": ("/taasisi/tra?ukurasa=sio-namba", 400),
        "500": (FAILING_PATH, 500),
        "search (all services)": ("/tafuta?q=", 200),
        "search results": ("/tafuta?q=leseni+ya+udereva&taasisi=tra", 200),
        "search, nothing found": ("/tafuta?q=pasporrt", 200),
        "sign-in unavailable": ("/ingia", 503),
        "signed out": ("/toka/mwisho", 200),
    }


PAGE_TYPES = [
    "home", "life event list", "life event", "category list", "category", "institution list",
    "institution", "service", "help", "accessibility statement", "privacy notice", "404", "400",
    "500", "search (all services)", "search results", "search, nothing found", "search down",
    "sign-in unavailable", "signed out",
]  # fmt: skip


def _axe_violations(page: Page, axe_source: str) -> list[tuple[str, list[str]]]:
    page.evaluate(axe_source)  # evaluate is not subject to the page's CSP; a script tag would be
    result = page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags},"
        " resultTypes: ['violations']})",
        AXE_TAGS,
    )
    return [(v["id"], [str(n["target"]) for n in v["nodes"]]) for v in result["violations"]]


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["sw", "en"])
@pytest.mark.parametrize("kind", PAGE_TYPES)
def test_page_is_accessible_and_light(
    page: Page,
    axe_source: str,
    page_types: dict[str, tuple[str, int]],
    live_server_without_search: str,
    kind: str,
    lang: str,
) -> None:
    path, status = page_types.get(kind) or (f"{live_server_without_search}/tafuta?q=leseni", 503)
    url = f"{path}{'&' if '?' in path else '?'}lang={lang}"
    transferred = bytes_on_the_wire(page)
    response = page.goto(url, wait_until="load")
    page.wait_for_load_state("networkidle")

    assert response is not None
    assert response.status == status
    assert page.locator("html").get_attribute("lang") == lang
    total = transferred()
    WEIGHTS[f"{kind} ({lang})"] = total
    assert total < BUDGET, f"{kind}: {total} bytes transferred, budget {BUDGET}"
    assert _axe_violations(page, axe_source) == []


@pytest.mark.browser
def test_skip_link_is_first_and_moves_focus_to_main(page: Page) -> None:
    page.goto("/huduma/rita-cheti-cha-kuzaliwa")
    page.keyboard.press("Tab")
    skip = page.locator(".skip-link")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()


@pytest.mark.browser
@pytest.mark.parametrize("browser_context_args", [{"java_script_enabled": False}], indirect=True)
def test_a_citizen_finds_a_service_without_javascript(page: Page) -> None:
    page.goto("/")
    page.get_by_role("link", name="Kuzaliwa kwa mtoto").click()
    page.get_by_role("link", name="Usajili wa kuzaliwa na cheti cha kuzaliwa").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Usajili wa kuzaliwa na cheti cha kuzaliwa"
    )
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Birth registration and birth certificate"
    )
    expect(page.locator("html")).to_have_attribute("lang", "en")
