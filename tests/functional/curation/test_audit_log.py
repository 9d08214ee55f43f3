"""The audit log page: newest first, filtered, paged, each entry's before and after; read only."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from sqlalchemy.engine import Connection

from portal.audit import services as audit_services
from portal.curation.selectors import AUDIT_PAGE_SIZE
from portal.db import unit_of_work
from tests.page_client import Page, PageClient
from tests.people import signed_in_as

LATER = dt.datetime(2030, 1, 1, 8, 0, tzinfo=dt.UTC)  # after anything else in the log


def _record(db: Connection, count: int = 1, **fields: object) -> None:
    values: dict[str, object] = {
        "actor": "Msimamizi wa Kumbukumbu",
        "action": "service.status",
        "entity": "service",
        "entity_key": "rita-cheti-cha-kuzaliwa",
        "institution": "rita",
        "before": {"status": "active"},
        "after": {"status": "temporarily_closed"},
        **fields,
    }
    with unit_of_work(db) as session:
        for number in range(count):
            audit_services.audit_record(
                session=session,
                actor_id=None,
                now=LATER + dt.timedelta(minutes=number),
                **values,  # type: ignore[arg-type]
            )


def _headings(page: Page) -> list[str]:
    return page.texts(".//ol[@class='rows audit']/li/h2")


def _reader(client: TestClient, db: Connection) -> None:
    signed_in_as(client, db, role="curator")


def test_entries_show_who_when_what_and_the_change(
    pages: PageClient, client: TestClient, db: Connection
) -> None:
    _record(db)
    _reader(client, db)
    page = pages.get("/simamia/kumbukumbu?lang=en")
    first = page.find(".//ol[@class='rows audit']/li")
    assert first is not None
    text = " ".join("".join(first.itertext()).split())
    assert "service.status: service rita-cheti-cha-kuzaliwa" in text
    assert "Msimamizi wa Kumbukumbu" in text
    assert "08:00:00 UTC" in text
    assert "RITA" in text
    rows = [[" ".join(cell.itertext()) for cell in row] for row in first.iter("tr")]
    assert ["status", "active", "temporarily_closed"] in rows


def test_the_log_is_filtered(pages: PageClient, client: TestClient, db: Connection) -> None:
    _record(db)
    _record(
        db,
        action="institution.update",
        entity="institution",
        entity_key="tra",
        institution="tra",
        before={"acronym": "TR"},
        after={"acronym": "TRA"},
    )
    _reader(client, db)
    by_entity = _headings(pages.get("/simamia/kumbukumbu?aina=institution&lang=en"))
    assert by_entity
    assert all(": institution " in heading for heading in by_entity)
    by_action = _headings(pages.get("/simamia/kumbukumbu?kitendo=service.status&lang=en"))
    assert by_action
    assert all(heading.startswith("service.status:") for heading in by_action)
    by_institution = _headings(pages.get("/simamia/kumbukumbu?taasisi=tra&lang=en"))
    assert by_institution[0] == "institution.update: institution tra"
    assert not any("rita-cheti" in heading for heading in by_institution)
    by_key = pages.get("/simamia/kumbukumbu?ufunguo=rita-cheti-cha-kuzaliwa&aina=service&lang=en")
    assert _headings(by_key) == ["service.status: service rita-cheti-cha-kuzaliwa"]
    assert by_key.find(".//input[@name='ufunguo']").get("value") == "rita-cheti-cha-kuzaliwa"  # type: ignore[union-attr]
    nothing = pages.get("/simamia/kumbukumbu?ufunguo=hakuna-kitu&lang=en")
    assert "No entry matches." in nothing.text()


def test_the_log_is_paged_newest_first(
    pages: PageClient, client: TestClient, db: Connection
) -> None:
    _record(db, AUDIT_PAGE_SIZE + 2, entity_key="ukurasa-wa-majaribio")
    _reader(client, db)
    first = pages.get("/simamia/kumbukumbu?ufunguo=ukurasa-wa-majaribio&lang=en")
    assert len(_headings(first)) == AUDIT_PAGE_SIZE
    times = first.texts(".//ol[@class='rows audit']/li/p[@class='card-meta']")
    assert "08:26:00" in times[0]  # the newest first
    older = first.find(".//a[@rel='next']")
    assert older is not None
    assert older.get("href") == "/simamia/kumbukumbu?ufunguo=ukurasa-wa-majaribio&ukurasa=2"
    second = pages.get(str(older.get("href")) + "&lang=en")
    assert len(_headings(second)) == 2
    assert second.find(".//a[@rel='next']") is None
    assert second.find(".//a[@rel='prev']") is not None
    pages.get("/simamia/kumbukumbu?ufunguo=ukurasa-wa-majaribio&ukurasa=3", status=404)


def test_bad_filters_are_answered_with_a_message(
    pages: PageClient, client: TestClient, db: Connection
) -> None:
    _reader(client, db)
    cases = {
        "aina=%3Cscript%3E": "Enter a kind of record like service or institution",
        "kitendo=drop+table": "Enter an action like service.publish or draft.return",
        "taasisi=hakuna-taasisi": "Select an institution from the list",
        "ukurasa=99999999999999999999999": "Enter a page number",
        "ukurasa=0": "Enter a page number",
        "ufunguo=" + "k" * 200: "Enter 120 characters or fewer",
    }
    for query, message in cases.items():
        page = pages.get(f"/simamia/kumbukumbu?{query}&lang=en", status=400)
        assert message in page.texts(".//div[@class='error-summary']//li"), query
        assert "<script>" not in page.response.text


def test_nothing_changes_or_deletes_the_log(
    pages: PageClient, client: TestClient, db: Connection
) -> None:
    _reader(client, db)
    page = pages.get("/simamia/kumbukumbu?lang=en")
    assert [
        form.get("method")
        for form in page.tree.iter("form")
        if "kumbukumbu" in form.get("action", "")
    ] == ["get"]
    token = page.find(".//input[@name='csrf_token']").get("value")  # type: ignore[union-attr]
    for method in ("POST", "PUT", "DELETE"):
        response = client.request(method, "/simamia/kumbukumbu", data={"csrf_token": token})
        assert response.status_code == 405, method
