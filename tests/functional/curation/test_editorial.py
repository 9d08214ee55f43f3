"""The curators' editorial tools through their pages: each change is saved, kept in the audit
log with before and after, and reaches search through the outbox when search must follow."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.engine import Connection
from sqlmodel import col, select

from portal.audit.models import AuditEntry
from portal.catalogue.models import Category, Institution, LifeEvent, Service, Synonym
from portal.catalogue.services import SEARCH_SETTINGS_CHANGED, SERVICE_CHANGED
from portal.db import unit_of_work
from portal.outbox.models import OutboxEntry
from tests.page_client import Page, PageClient
from tests.people import signed_in_as

EVENT = "kuzaliwa-mtoto"
SERVICE = "rita-cheti-cha-kuzaliwa"
TEXTS = {
    "name_sw": "Jina la Kiswahili",
    "name_en": "English name",
    "description_sw": "Maelezo ya Kiswahili ya kutosha.",
    "description_en": "An English description that is long enough.",
}
INSTITUTION = {
    **TEXTS,
    "slug": "taasisi-ya-majaribio",
    "acronym": "TYM",
    "website": "https://majaribio.go.tz/",
    "contact_email": "huduma@majaribio.go.tz",
}


def _curator(client: TestClient, db: Connection) -> None:
    signed_in_as(client, db, role="curator", name="Msimamizi Mkuu")


def _audit(db: Connection, action: str, key: str) -> AuditEntry:
    with unit_of_work(db) as session:
        return session.exec(
            select(AuditEntry).where(AuditEntry.action == action, AuditEntry.entity_key == key)
        ).one()


def _outbox(db: Connection, topic: str, key: str) -> list[OutboxEntry]:
    with unit_of_work(db) as session:
        return list(
            session.exec(
                select(OutboxEntry).where(OutboxEntry.topic == topic, OutboxEntry.key == key)
            ).all()
        )


def _submit(pages: PageClient, page: Page, answers: dict[str, Any], status: int = 303) -> Any:
    """Send the page's one form of the tools (the header's sign-out form aside)."""
    actions = [
        str(form.get("action"))
        for form in page.tree.iter("form")
        if (form.get("method") or "") == "post" and str(form.get("action")).startswith("/simamia/")
    ]
    assert len(actions) == 1, actions
    return pages.post(page, answers, action=actions[0], status=status)


def _errors(page: Page) -> list[str]:
    return page.texts(".//div[@class='error-summary']//li")


def test_an_institution_is_created_then_changed(
    pages: PageClient, client: TestClient, db: Connection
) -> None:
    _curator(client, db)
    listing = pages.get("/simamia/taasisi?lang=en")
    assert listing.find(".//a[@href='/simamia/taasisi/rita']") is not None
    form = pages.get("/simamia/taasisi/mpya?lang=en")
    response = _submit(pages, form, INSTITUTION)
    assert response.headers["location"] == "/simamia/taasisi"
    created = _audit(db, "institution.create", "taasisi-ya-majaribio")
    assert created.before is None
    assert created.after["acronym"] == "TYM"
    assert created.actor == "Msimamizi Mkuu"
    assert _outbox(db, SEARCH_SETTINGS_CHANGED, "acronyms")  # a new acronym for search

    edit = pages.get("/simamia/taasisi/taasisi-ya-majaribio?lang=en")
    assert edit.find(".//input[@name='acronym']").get("value") == "TYM"  # type: ignore[union-attr]
    _submit(pages, edit, {"name_en": "A renamed institution"})
    changed = _audit(db, "institution.update", "taasisi-ya-majaribio")
    assert changed.before["name"]["en"] == "English name"
    assert changed.after["name"]["en"] == "A renamed institution"
    assert pages.get("/taasisi/taasisi-ya-majaribio?lang=en").h1.startswith("A renamed institution")


def test_an_institution_renamed_asks_search_to_redo_its_services(
    pages: PageClient, client: TestClient, db: Connection
) -> None:
    _curator(client, db)
    edit = pages.get("/simamia/taasisi/rita?lang=en")
    _submit(pages, edit, {"name_sw": "Wakala wa Usajili (jina jipya)"})
    assert _outbox(db, SERVICE_CHANGED, SERVICE)


def test_an_institution_form_refuses_what_is_wrong(
    pages: PageClient, client: TestClient, db: Connection
) -> None:
    _curator(client, db)
    form = pages.get("/simamia/taasisi/mpya?lang=en")
    wrong = {
        **INSTITUTION,
        "slug": "rita",
        "name_sw": "<img src=x onerror=alert(1)>",
        "website": "javascript:alert(1)",
        "description_en": "x" * 5000,
    }
    page = _submit(pages, form, wrong, status=422)
    errors = _errors(page)
    assert "Remove the HTML: write plain text, without tags such as <b>" in errors
    assert "Enter a web address that starts with https://" in errors
    assert "Enter 4,000 characters or fewer" in errors
    assert "<img src=x" not in page.response.text
    assert page.find(".//input[@name='acronym']").get("value") == "TYM"  # type: ignore[union-attr]
    taken = _submit(pages, form, {**INSTITUTION, "slug": "rita"}, status=422)
    assert "An institution already has this address name: choose another" in _errors(taken)
    reserved = _submit(pages, form, {**INSTITUTION, "slug": "mpya"}, status=422)
    assert "This address name is kept for the tools: choose another" in _errors(reserved)
    with unit_of_work(db) as session:
        rita = session.exec(select(Institution).where(Institution.slug == "rita")).one()
        assert rita.acronym == "RITA"
    pages.get("/simamia/taasisi/hakuna-taasisi", status=404)
    pages.get("/simamia/taasisi/" + "a" * 5000, status=404)


def test_a_category_is_created_then_changed(
    pages: PageClient, client: TestClient, db: Connection
) -> None:
    _curator(client, db)
    form = pages.get("/simamia/makundi/mpya?lang=en")
    _submit(pages, form, {**TEXTS, "slug": "kundi-jipya"})
    created = _audit(db, "category.create", "kundi-jipya")
    assert created.after["name"] == {"sw": "Jina la Kiswahili", "en": "English name"}
    with unit_of_work(db) as session:
        positions = session.exec(select(Category.slug).order_by(col(Category.position))).all()
        assert positions[-1] == "kundi-jipya"  # last in the curated order
    edit = pages.get("/simamia/makundi/kundi-jipya?lang=en")
    _submit(pages, edit, {"description_en": "A better English description."})
    changed = _audit(db, "category.update", "kundi-jipya")
    assert changed.before["description"]["en"] == TEXTS["description_en"]
    assert changed.after["description"]["en"] == "A better English description."
    assert "kundi-jipya" in pages.get("/makundi?lang=en").response.text


def test_a_life_event_is_created_then_changed(
    pages: PageClient, client: TestClient, db: Connection
) -> None:
    _curator(client, db)
    listing = pages.get("/simamia/matukio?lang=en")
    assert listing.find(f".//a[@href='/simamia/matukio/{EVENT}/hatua']") is not None
    form = pages.get("/simamia/matukio/mpya?lang=en")
    missing = _submit(pages, form, {"slug": "tukio-jipya"}, status=422)
    assert "Enter the name in Swahili" in _errors(missing)
    _submit(pages, missing, {**TEXTS, "slug": "tukio-jipya"})
    assert _audit(db, "life_event.create", "tukio-jipya").before is None
    edit = pages.get("/simamia/matukio/tukio-jipya?lang=en")
    _submit(pages, edit, {"name_en": "A new life event"})
    assert _audit(db, "life_event.update", "tukio-jipya").after["name"]["en"] == "A new life event"
    unchanged = pages.get("/simamia/matukio/tukio-jipya?lang=en")
    _submit(pages, unchanged, {})
    with unit_of_work(db) as session:  # saving without a change adds no entry
        entries = session.exec(
            select(AuditEntry).where(AuditEntry.entity_key == "tukio-jipya")
        ).all()
        assert len(entries) == 2


def test_a_renamed_category_asks_search_to_redo_its_services(
    pages: PageClient, client: TestClient, db: Connection
) -> None:
    _curator(client, db)
    edit = pages.get("/simamia/makundi/utambulisho-na-usajili?lang=en")
    _submit(pages, edit, {"name_en": "Identity, registration and records"})
    assert _outbox(db, SERVICE_CHANGED, SERVICE)


def _step_slugs(page: Page) -> list[str]:
    return [
        str(link.get("href")).removeprefix("/huduma/")
        for link in page.tree.findall(".//ol[@class='list steps']/li/p/a")
    ]


def _add_step(pages: PageClient, slug: str) -> Page:
    page = pages.get(f"/simamia/matukio/{EVENT}/hatua?lang=en")
    pages.post(page, {"service": slug}, action=f"/simamia/matukio/{EVENT}/hatua")
    return pages.get(f"/simamia/matukio/{EVENT}/hatua?lang=en")


def test_a_life_events_steps_are_added_reordered_and_removed(
    pages: PageClient, client: TestClient, db: Connection
) -> None:
    _curator(client, db)
    before = _step_slugs(pages.get(f"/simamia/matukio/{EVENT}/hatua?lang=en"))
    assert SERVICE in before
    added = "tra-usajili-wa-tin-mtu-binafsi"
    page = _add_step(pages, added)
    assert _step_slugs(page) == [*before, added]
    assert _outbox(db, SERVICE_CHANGED, added)  # its life events changed
    entry = _audit(db, "life_event.step_add", EVENT)
    assert entry.before == {"steps": before}
    assert entry.after == {"steps": [*before, added]}

    base = f"/simamia/matukio/{EVENT}/hatua/{added}"
    pages.post(page, {}, action=f"{base}/juu")
    page = pages.get(f"/simamia/matukio/{EVENT}/hatua?lang=en")
    moved = [*before[:-1], added, before[-1]]
    assert _step_slugs(page) == moved
    assert _audit(db, "life_event.steps", EVENT).after == {"steps": moved}
    public = pages.get(f"/matukio/{EVENT}?lang=en")
    listed = [
        str(link.get("href")).removeprefix("/huduma/")
        for link in public.tree.findall(".//ul[@class='cards']//h2/a")
    ]
    assert listed == moved  # the public page follows the journey order
    assert pages.form(page, f"{base}/chini") is not None
    assert not [
        f
        for f in page.tree.iter("form")
        if f.get("action") == f"/simamia/matukio/{EVENT}/hatua/{moved[0]}/juu"
    ]

    pages.post(page, {}, action=f"{base}/ondoa")
    page = pages.get(f"/simamia/matukio/{EVENT}/hatua?lang=en")
    assert _step_slugs(page) == before
    assert _audit(db, "life_event.step_remove", EVENT).after == {"steps": before}
    with unit_of_work(db) as session:
        service = session.exec(select(Service).where(Service.slug == added)).one()
        assert EVENT not in [event.slug for event in service.life_events]


def test_a_step_that_is_unknown_or_already_there_is_refused(
    pages: PageClient, client: TestClient, db: Connection
) -> None:
    _curator(client, db)
    page = pages.get(f"/simamia/matukio/{EVENT}/hatua?lang=en")
    action = f"/simamia/matukio/{EVENT}/hatua"
    for wrong in ("hakuna-huduma", "<b>", SERVICE):
        refused = pages.post(page, {"service": wrong}, action=action, status=422)
        assert _errors(refused), wrong
    empty = pages.post(page, {}, action=action, status=422)
    assert "Select a service" in _errors(empty)
    elsewhere = f"/simamia/matukio/{EVENT}/hatua/tra-tin-ya-taasisi/ondoa"
    token = page.find(".//input[@name='csrf_token']").get("value")  # type: ignore[union-attr]
    response = client.post(elsewhere, data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 409
    response = client.post(
        f"/simamia/matukio/hakuna/hatua/{SERVICE}/juu", data={"csrf_token": token}
    )
    assert response.status_code == 404


def _synonym_id(db: Connection, first_term: str) -> int:
    with unit_of_work(db) as session:
        for row in session.exec(select(Synonym)).all():
            if row.terms[0] == first_term:
                assert row.id is not None
                return row.id
    raise AssertionError(first_term)


def test_synonyms_are_added_changed_and_deleted_through_the_outbox(
    pages: PageClient, client: TestClient, db: Connection
) -> None:
    _curator(client, db)
    listing = pages.get("/simamia/visawe?lang=en")
    assert "cheti, vyeti" in listing.text()
    form = pages.get("/simamia/visawe/mpya?lang=en")
    _submit(pages, form, {"terms": "Mjaribu, majaribio ya mlango", "note": "usafiri"})
    assert len(_outbox(db, SEARCH_SETTINGS_CHANGED, "synonyms")) == 1
    created = _audit(db, "synonym.create", "mjaribu, majaribio ya mlango")
    assert created.after == {
        "terms": ["mjaribu", "majaribio ya mlango"],
        "one_way": False,
        "note": "usafiri",
    }

    synonym_id = _synonym_id(db, "mjaribu")
    edit = pages.get(f"/simamia/visawe/{synonym_id}?lang=en")
    assert edit.find(".//input[@name='terms']").get("value") == "mjaribu, majaribio ya mlango"  # type: ignore[union-attr]
    _submit(pages, edit, {"terms": "mjaribu, jaribio, majaribio", "kind": "one_way"})
    changed = _audit(db, "synonym.update", "mjaribu, jaribio, majaribio")
    assert changed.before["terms"] == ["mjaribu", "majaribio ya mlango"]
    assert changed.after["one_way"] is True
    assert len(_outbox(db, SEARCH_SETTINGS_CHANGED, "synonyms")) == 2

    stale = _submit(pages, edit, {"terms": "mjaribu, jaribio"}, status=409)  # its id is gone
    assert stale.h1 == "The synonym list changed while you were looking at it"

    synonym_id = _synonym_id(db, "mjaribu")
    confirm = pages.get(f"/simamia/visawe/{synonym_id}/futa?lang=en")
    _submit(pages, confirm, {})
    assert _audit(db, "synonym.delete", "mjaribu, jaribio, majaribio").after is None
    assert len(_outbox(db, SEARCH_SETTINGS_CHANGED, "synonyms")) == 3
    assert "mjaribu" not in pages.get("/simamia/visawe?lang=en").text()


def test_a_synonym_form_refuses_what_is_wrong(
    pages: PageClient, client: TestClient, db: Connection
) -> None:
    _curator(client, db)
    form = pages.get("/simamia/visawe/mpya?lang=en")
    cases: dict[str, Any] = {
        "cheti": "Enter at least two words or phrases, separated by commas",
        "cheti, Cheti": "Each word or phrase may appear only once",
        "cheti, " + "v" * 61: "Each word or phrase must be 60 characters or fewer",
        "<i>cheti</i>, vyeti": "Remove the HTML: write plain text, without tags such as <b>",
    }
    for terms, message in cases.items():
        page = _submit(pages, form, {"terms": terms}, status=422)
        assert message in _errors(page), terms
    pages.get("/simamia/visawe/2147483647", status=404)
    pages.get("/simamia/visawe/2147483648", status=400)
    assert not _outbox(db, SEARCH_SETTINGS_CHANGED, "synonyms")


def test_featured_services_appear_on_the_home_page_in_order(
    pages: PageClient, client: TestClient, db: Connection
) -> None:
    home = pages.get("/")
    assert home.find(".//section[@aria-labelledby='featured-heading']") is None
    _curator(client, db)
    chosen = ["tra-tin-ya-taasisi", SERVICE, "rita-usajili-wa-kifo"]
    for slug in chosen:
        page = pages.get("/simamia/zilizoangaziwa?lang=en")
        pages.post(page, {"service": slug}, action="/simamia/zilizoangaziwa")
    page = pages.get("/simamia/zilizoangaziwa?lang=en")
    pages.post(page, {}, action=f"/simamia/zilizoangaziwa/{SERVICE}/juu")
    expected = [SERVICE, "tra-tin-ya-taasisi", "rita-usajili-wa-kifo"]
    assert _audit(db, "featured.move", "home").after == {"services": expected}
    home = pages.get("/")
    section = home.find(".//section[@aria-labelledby='featured-heading']")
    assert section is not None
    featured = [str(a.get("href")).removeprefix("/huduma/") for a in section.iter("a")]
    assert featured == expected

    page = pages.get("/simamia/zilizoangaziwa?lang=en")
    pages.post(page, {}, action="/simamia/zilizoangaziwa/tra-tin-ya-taasisi/ondoa")
    entry = _audit(db, "featured.remove", "home")
    assert entry.before == {"services": expected}
    assert entry.after == {"services": [SERVICE, "rita-usajili-wa-kifo"]}


def test_no_more_than_six_services_are_featured(
    pages: PageClient, client: TestClient, db: Connection
) -> None:
    _curator(client, db)
    with unit_of_work(db) as session:
        slugs = session.exec(select(Service.slug).order_by(col(Service.slug)).limit(7)).all()
    for slug in slugs[:6]:
        page = pages.get("/simamia/zilizoangaziwa?lang=en")
        pages.post(page, {"service": slug}, action="/simamia/zilizoangaziwa")
    page = pages.get("/simamia/zilizoangaziwa?lang=en")
    assert "6 services are featured: remove one to feature another." in page.text()
    token = page.find(".//input[@name='csrf_token']").get("value")  # type: ignore[union-attr]
    response = client.post(
        "/simamia/zilizoangaziwa", data={"csrf_token": token, "service": slugs[6]}
    )
    assert response.status_code == 422
    assert "Six services are featured already: remove one first" in response.text


def test_a_temporarily_closed_service_shows_its_notice(
    pages: PageClient, client: TestClient, db: Connection
) -> None:
    _curator(client, db)
    listing = pages.get("/simamia/huduma?taasisi=rita&lang=en")
    assert listing.find(f".//a[@href='/simamia/huduma/{SERVICE}/hali']") is not None
    form = pages.get(f"/simamia/huduma/{SERVICE}/hali?lang=en")
    missing = _submit(pages, form, {"status": "temporarily_closed"}, status=422)
    assert "Enter the notice in Swahili" in _errors(missing)
    notice = {
        "status": "temporarily_closed",
        "alert_sw": "Huduma imefungwa kwa matengenezo hadi Jumatatu.",
        "alert_en": "Closed for maintenance until Monday.",
    }
    response = _submit(pages, missing, notice)
    assert response.headers["location"] == f"/huduma/{SERVICE}"
    public = pages.get(f"/huduma/{SERVICE}?lang=en")
    assert "Closed for maintenance until Monday." in public.text()
    assert "Temporarily closed" in public.texts(".//h2")
    assert _outbox(db, SERVICE_CHANGED, SERVICE)
    entry = _audit(db, "service.status", SERVICE)
    assert entry.before == {"status": "active", "alert": None}
    assert entry.after["status"] == "temporarily_closed"
    assert entry.institution == "rita"

    reopen = pages.get(f"/simamia/huduma/{SERVICE}/hali?lang=en")
    _submit(pages, reopen, {"status": "active", "alert_sw": "", "alert_en": ""})
    assert "Closed for maintenance" not in pages.get(f"/huduma/{SERVICE}?lang=en").text()


def test_the_services_list_filters_overdue_reviews(
    pages: PageClient, client: TestClient, db: Connection
) -> None:
    _curator(client, db)
    with unit_of_work(db) as session:
        service = session.exec(select(Service).where(Service.slug == SERVICE)).one()
        service.review_due = service.last_reviewed.replace(year=2000)
        session.add(service)
    overdue = pages.get("/simamia/huduma?muda=umepita&lang=en")
    hrefs = [a.get("href") for a in overdue.tree.findall(".//table//a")]
    assert f"/huduma/{SERVICE}" in hrefs
    assert hrefs[0] == f"/huduma/{SERVICE}"  # the most overdue first
    pages.get("/simamia/huduma?muda=zamani&lang=en", status=400)
    pages.get("/simamia/huduma?taasisi=hakuna&lang=en", status=400)


def test_curation_pages_of_unknown_things_are_not_found(
    pages: PageClient, client: TestClient, db: Connection
) -> None:
    _curator(client, db)
    for path in (
        "/simamia/makundi/hakuna",
        "/simamia/matukio/hakuna",
        "/simamia/matukio/hakuna/hatua",
        "/simamia/huduma/hakuna/hali",
    ):
        pages.get(path, status=404)
    with unit_of_work(db) as session:
        assert session.exec(select(LifeEvent).where(LifeEvent.slug == "hakuna")).first() is None
