"""The demo publisher and the demo curator, each signing in through the sandbox provider in a
real Chromium, take a service from draft to published; search finds the change within seconds
(the outbox worker runs beside the portal, as in production); the tool pages pass axe."""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy.engine import Engine
from sqlmodel import select

from portal.catalogue import selectors as catalogue_selectors
from portal.catalogue.models import Service
from portal.catalogue.schemas import ServiceIn
from portal.config import Settings
from portal.db import unit_of_work
from portal.outbox.dispatcher import Stop, dispatch_drain, dispatcher_run
from portal.publishing import services as publishing_services
from portal.sandbox.world import DEMO_ROLES, demo_roles_grant
from portal.search import services as search_services
from tests.browser.test_pages import _axe_violations
from tests.sign_in_world import World, world_served

# The demo publisher (of RITA and BRELA) and the demo curator that `make run` gives roles to.
PUBLISHER = next(nin for nin, role, institution in DEMO_ROLES if institution == "rita")
CURATOR = next(nin for nin, role, _institution in DEMO_ROLES if role == "curator")
WORD = "mtihanikivinjari"  # a word no service has, until the publisher writes it
# A service no other test reads: this module publishes a change to it, for real, and puts the
# seed record back when it ends.
SLUG = "rita-uhakiki-wa-vyeti"


@pytest.fixture(scope="module")
def world(settings: Settings, engine: Engine, search_backend: object) -> Iterator[World]:
    now = dt.datetime.now(dt.UTC)
    key = settings.identity.nin_key.get_secret_value()
    with unit_of_work(engine) as session:
        demo_roles_grant(session=session, nin_key=key, now=now)
        service = session.exec(select(Service).where(Service.slug == SLUG)).one()
        seeded = ServiceIn.model_validate(catalogue_selectors.service_record(service))
    with world_served(settings, engine) as running:
        handlers = search_services.outbox_handlers(backend=running.portal_app.state.search)
        stop = Stop()
        worker = threading.Thread(
            target=dispatcher_run,
            kwargs={"bind": engine, "handlers": handlers, "stop": stop, "idle_seconds": 0.2},
            daemon=True,
        )
        worker.start()
        yield running
        stop.set()
        worker.join(timeout=10)
        with unit_of_work(engine) as session:  # the seed record back, and in the index too
            publishing_services.record_publish(session=session, record=seeded, now=now)
        dispatch_drain(bind=engine, handlers=handlers)


def _sign_in(page: Page, world: World, nin: str, path: str) -> None:
    page.goto(f"{world.portal}{path}")
    expect(page).to_have_url(re.compile(f"^{re.escape(world.issuer)}/"))
    page.get_by_label(re.compile("NIN")).fill(nin)
    page.get_by_role("button", name=re.compile("Continue|Endelea")).click()
    code = re.search(r"\b(\d{6})\b", page.locator(".banner-code").inner_text())
    assert code, "the sandbox shows the one-time code on its banner"
    # The provider speaks Swahili here: nothing has told it the reader chose English yet.
    page.get_by_label(re.compile("code|namba ya siri", re.IGNORECASE)).first.fill(code.group(1))
    page.get_by_role("button", name=re.compile("Continue|Endelea")).click()
    landing = path.split("?", 1)[0]  # back to the page asked for (its path)
    expect(page).to_have_url(re.compile(f"^{re.escape(world.portal)}{re.escape(landing)}"))
    page.goto(f"{world.portal}{path}")  # again with its query: the language is kept from now


@pytest.mark.browser
def test_a_service_goes_from_draft_to_search(
    browser: Browser, world: World, axe_source: str
) -> None:
    publisher = browser.new_context().new_page()
    _sign_in(publisher, world, PUBLISHER, "/chapisha?lang=en")
    assert _axe_violations(publisher, axe_source) == []
    publisher.get_by_role("link", name="RITA").click()
    assert _axe_violations(publisher, axe_source) == []
    publisher.locator(f"form[action='/chapisha/huduma/{SLUG}/hariri'] button").click()
    expect(publisher).to_have_url(re.compile(r"/chapisha/rasimu/\d+$"))
    draft_url = publisher.url
    publisher.locator("a[href$='/muhtasari']").click()
    summary = publisher.get_by_label("Summary in English")
    summary.fill(f"Check that a birth or death certificate is genuine ({WORD}).")
    assert _axe_violations(publisher, axe_source) == []
    publisher.get_by_role("button", name="Save and go back to the draft").click()
    expect(publisher).to_have_url(draft_url)
    publisher.get_by_label("What changed").fill("A clearer summary.")
    publisher.get_by_role("button", name="Submit for review").click()
    expect(publisher.locator("main")).to_contain_text("reviewing")
    # Not published yet: the public page keeps the old summary.
    publisher.goto(f"{world.portal}/huduma/{SLUG}?lang=en")
    expect(publisher.locator("main")).not_to_contain_text(WORD)

    curator = browser.new_context().new_page()
    _sign_in(curator, world, CURATOR, "/simamia/mapitio?lang=en")
    assert _axe_violations(curator, axe_source) == []
    curator.locator("a[href^='/simamia/mapitio/']").first.click()
    expect(curator.locator("main")).to_contain_text(WORD)  # the change, field by field
    assert _axe_violations(curator, axe_source) == []
    curator.get_by_role("button", name="Approve and publish").click()

    curator.goto(f"{world.portal}/huduma/{SLUG}?lang=en")
    expect(curator.locator("main")).to_contain_text(WORD)
    # A hit links through the click log (/tafuta/bofya/<log>/<slug>).
    hit = curator.locator(f"main a[href$='/{SLUG}']")
    deadline = time.monotonic() + 10  # the worker applies the outbox row to the index
    while time.monotonic() < deadline:
        curator.goto(f"{world.portal}/tafuta?q={WORD}&lang=en")
        if hit.count():
            break
        time.sleep(0.3)
    expect(hit.first).to_be_visible()
