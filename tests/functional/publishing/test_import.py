"""Bulk import and export through the pages: who may use them, a good file made drafts (and
nothing published), a bad file changing nothing with a report naming its rows and fields,
refused files (too large, wrong type), and the export of an institution imported back as drafts
equal to the published records."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy.engine import Connection
from sqlmodel import Session, col, func, select

from portal.audit.models import AuditEntry
from portal.catalogue import selectors as catalogue_selectors
from portal.catalogue.models import Institution, Service
from portal.catalogue.schemas import ServiceIn
from portal.config import PublishingSettings
from portal.db import unit_of_work
from portal.publishing import bulk
from portal.publishing import services as publishing_services
from portal.publishing.models import EDITING, OPEN_STATES, Draft
from tests.page_client import Page, PageClient, check_page_contract
from tests.people import signed_in_as

IMPORT = "/chapisha/rita/ingiza"
CSV_TYPE = "text/csv"


def _published(db: Connection, institution: str = "rita") -> dict[str, dict[str, Any]]:
    """The institution's published records, as `ServiceIn` dumps, by slug."""
    with Session(db) as session:
        found = session.exec(select(Institution).where(Institution.slug == institution)).one()
        services = bulk.export_services(session=session, institution=found)
        return {record["slug"]: record for record in bulk.export_records(services)}


def _drafts(db: Connection) -> list[Draft]:
    with Session(db) as session:
        return list(session.exec(select(Draft).where(col(Draft.state).in_(OPEN_STATES))).all())


def _count(db: Connection, model: Any) -> int:
    with Session(db) as session:
        return session.exec(select(func.count()).select_from(model)).one()


def _csv(records: list[dict[str, Any]]) -> bytes:
    return bulk.csv_export(records)


def _upload(
    client: TestClient,
    content: bytes,
    filename: str = "huduma.csv",
    *,
    url: str = IMPORT,
    content_type: str = CSV_TYPE,
) -> Response:
    """Send a file from the import page's form, as a browser would."""
    page = PageClient(client).get(url)
    form = page.find(".//form[@enctype='multipart/form-data']")
    assert form is not None
    token = form.find(".//input[@name='csrf_token']")
    assert token is not None
    return client.post(
        str(form.get("action")),
        data={"csrf_token": str(token.get("value"))},
        files={"file": (filename, content, content_type)},
        follow_redirects=False,
    )


def _page(response: Response, status: int) -> Page:
    assert response.status_code == status, (response.status_code, response.text[:800])
    return Page(response=response, tree=check_page_contract(response))


def _changed(record: dict[str, Any], **parts: Any) -> dict[str, Any]:
    return {**json.loads(json.dumps(record)), **parts}


def _new_service(slug: str = "rita-cheti-cha-ndoa-mpya") -> dict[str, Any]:
    template = bulk.example_record(
        institution="rita", category="utambulisho-na-usajili", today=bulk.dt.date(2026, 12, 4)
    )
    return _changed(template, slug=slug)


# The pages and who may open them


def test_the_import_page_explains_the_format_and_links_the_template_and_columns(
    client: TestClient, db: Connection
) -> None:
    signed_in_as(client, db, role="publisher", institution="rita")
    page = PageClient(client).get(IMPORT + "?lang=en")
    assert page.h1 == "Import services of RITA"
    links = {element.get("href") for element in page.tree.iter("a")}
    assert {
        "/chapisha/rita/kiolezo.csv",
        "/chapisha/safu",
        "/chapisha/rita/hamisha.csv",
        "/chapisha/rita/hamisha.json",
    } <= links
    file_input = page.find(".//input[@type='file']")
    assert file_input is not None
    assert file_input.get("name") == "file"
    assert "2 MB and 500 services" in page.text()


def test_the_column_list_documents_every_column(client: TestClient, db: Connection) -> None:
    signed_in_as(client, db, role="publisher", institution="rita")
    page = PageClient(client).get("/chapisha/safu?lang=en")
    assert page.h1 == "The columns of an import file"
    documented = page.texts(".//dl/dt")
    assert documented == list(bulk.COLUMN_NAMES)
    assert "One of: citizen, business, foreigner, public_servant" in page.text()


def test_the_template_downloads_as_csv_and_imports_as_a_new_draft(
    client: TestClient, db: Connection
) -> None:
    signed_in_as(client, db, role="publisher", institution="rita")
    response = client.get("/chapisha/rita/kiolezo.csv")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == (
        'attachment; filename="mlango-kiolezo-rita.csv"'
    )
    header, example = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert tuple(header) == bulk.COLUMN_NAMES
    assert example[:2] == ["rita-huduma-ya-mfano", "rita"]
    assert _upload(client, response.content).status_code == 303
    assert [draft.slug for draft in _drafts(db)] == ["rita-huduma-ya-mfano"]


PAGES = [
    IMPORT,
    "/chapisha/safu",
    "/chapisha/rita/kiolezo.csv",
    "/chapisha/rita/hamisha.csv",
    "/chapisha/rita/hamisha.json",
]


@pytest.mark.parametrize("url", PAGES)
def test_a_visitor_who_has_not_signed_in_is_sent_to_sign_in(client: TestClient, url: str) -> None:
    response = client.get(url, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/ingia?")


@pytest.mark.parametrize("url", PAGES)
@pytest.mark.parametrize(
    ("role", "institution", "status"),
    [
        (None, "", 403),
        ("publisher", "tra", 403),
        ("publisher", "rita", 200),
        ("curator", "", 200),
        ("administrator", "", 200),
    ],
    ids=["citizen", "publisher-of-another", "publisher-of-rita", "curator", "administrator"],
)
def test_the_pages_need_the_permission_and_the_institution(
    client: TestClient, db: Connection, url: str, role: str | None, institution: str, status: int
) -> None:
    signed_in_as(client, db, role=role, institution=institution)
    if url == "/chapisha/safu" and role == "publisher":
        status = 200  # the column list belongs to no institution
    assert client.get(url, follow_redirects=False).status_code == status


def test_a_publisher_of_another_institution_cannot_import_there(
    client: TestClient, db: Connection
) -> None:
    signed_in_as(client, db, role="publisher", institution="tra")
    page = PageClient(client).get("/chapisha/tra/ingiza")  # their own page, for a token
    token = page.find(".//input[@name='csrf_token']")
    assert token is not None
    response = client.post(
        IMPORT,
        data={"csrf_token": str(token.get("value"))},
        files={"file": ("huduma.csv", _csv(list(_published(db).values())), CSV_TYPE)},
    )
    assert response.status_code == 403
    assert _drafts(db) == []


@pytest.mark.parametrize(("role", "institution"), [(None, ""), ("publisher", "tra")])
def test_citizens_and_other_publishers_cannot_export_or_import(
    client: TestClient, db: Connection, role: str | None, institution: str
) -> None:
    signed_in_as(client, db, role=role, institution=institution)
    client.get("/")
    assert client.get("/chapisha/yote/hamisha.csv").status_code == 403
    response = client.post(IMPORT, files={"file": ("a.csv", b"x", CSV_TYPE)})
    assert response.status_code == 403  # no token, and no permission either


@pytest.mark.parametrize(
    ("role", "institution", "status"),
    [
        ("anonymous", "", 403),
        (None, "", 403),
        ("publisher", "tra", 403),
        ("publisher", "rita", 303),
        ("curator", "", 303),
        ("administrator", "", 303),
    ],
    ids=[
        "anonymous",
        "citizen",
        "publisher-of-another",
        "publisher-of-rita",
        "curator",
        "administrator",
    ],
)
def test_the_upload_against_every_role(
    client: TestClient, db: Connection, role: str | None, institution: str, status: int
) -> None:
    """The one state-changing route: a valid file with a valid token, from each kind of person."""
    if role != "anonymous":
        signed_in_as(client, db, role=role, institution=institution)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/").text)
    assert token is not None
    response = client.post(
        IMPORT,
        data={"csrf_token": token.group(1)},
        files={"file": ("huduma.csv", _csv([_new_service()]), CSV_TYPE)},
        follow_redirects=False,
    )
    assert response.status_code == status
    assert len(_drafts(db)) == (1 if status == 303 else 0)


def test_an_unknown_institution_is_not_found_for_a_curator(
    client: TestClient, db: Connection
) -> None:
    signed_in_as(client, db, role="curator")
    assert client.get("/chapisha/hakuna/ingiza").status_code == 404


# Importing


def test_a_valid_file_makes_drafts_and_publishes_nothing(
    client: TestClient, db: Connection
) -> None:
    signed_in_as(client, db, role="publisher", institution="rita", name="Afisa wa RITA")
    published = _published(db)
    first = next(iter(published.values()))
    summary = {"sw": "Muhtasari mpya kutoka faili.", "en": "A new summary from a file."}
    changed = _changed(first, summary=summary)
    response = _upload(client, _csv([changed, _new_service()]))
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("/chapisha/rita/ingiza/")

    drafts = {draft.slug: draft for draft in _drafts(db)}
    assert set(drafts) == {first["slug"], "rita-cheti-cha-ndoa-mpya"}
    assert all(draft.state == EDITING for draft in drafts.values())
    assert drafts[first["slug"]].record["summary"] == summary
    assert drafts[first["slug"]].service_id is not None
    assert drafts["rita-cheti-cha-ndoa-mpya"].service_id is None
    assert _published(db) == published  # the catalogue is as it was
    with Session(db) as session:
        assert (
            session.exec(select(Service).where(Service.slug == "rita-cheti-cha-ndoa-mpya")).first()
            is None
        )
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == "import.apply")).one()
        assert entry.actor == "Afisa wa RITA"
        assert entry.institution == "rita"
        assert entry.after["file"] == "huduma.csv"

    result = PageClient(client).get(location + "?lang=en")
    assert result.h1 == "Your file is imported as drafts"
    assert "2 drafts were made or updated from huduma.csv." in result.text()
    assert "A new service" in result.text()
    assert "Changes to a published service" in result.text()
    links = {element.get("href") for element in result.tree.iter("a")}
    assert {f"/chapisha/rasimu/{draft.id}" for draft in drafts.values()} <= links


def test_importing_again_updates_the_same_open_drafts(client: TestClient, db: Connection) -> None:
    signed_in_as(client, db, role="publisher", institution="rita")
    record = _new_service()
    assert _upload(client, _csv([record])).status_code == 303
    output = {"sw": "Cheti kipya", "en": "A new certificate"}
    assert _upload(client, _csv([_changed(record, output=output)])).status_code == 303
    [draft] = _drafts(db)
    assert draft.record["output"] == output
    assert draft.version == 3  # made, filled in, changed


def test_a_file_with_one_bad_row_changes_nothing_and_the_report_names_it(
    client: TestClient, db: Connection
) -> None:
    signed_in_as(client, db, role="publisher", institution="rita")
    records = list(_published(db).values())[:3]
    rows = [bulk.record_row(record) for record in records]
    rows[1]["name_en"] = ""
    rows[1]["summary_en"] = '=HYPERLINK("http://evil.example")'
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(bulk.COLUMN_NAMES)
    for row in rows:
        writer.writerow([row[name] for name in bulk.COLUMN_NAMES])
    audit_before = _count(db, AuditEntry)

    page = _page(_upload(client, buffer.getvalue().encode(), url=IMPORT + "?lang=en"), 422)
    assert page.response.text.count("Nothing was imported") == 1
    summary = page.find(".//div[@class='error-summary']")
    assert summary is not None
    links = {a.get("href"): " ".join("".join(a.itertext()).split()) for a in summary.iter("a")}
    assert links == {"#row-3": f"Row 3, {records[1]['slug']}: check name_en, summary_en"}
    heading = page.find(".//h3[@id='row-3']")
    assert heading is not None
    assert records[1]["slug"] in "".join(heading.itertext())
    problems = dict(zip(page.texts(".//dl/dt"), page.texts(".//dl/dd"), strict=True))
    assert problems["name_en"] == "This needs a value."
    assert problems["summary_en"].startswith("This starts with =")
    assert "3 services read from huduma.csv. 1 has a problem." in page.text()
    assert page.tree.find("./head/title") is not None
    assert _drafts(db) == []
    assert _count(db, AuditEntry) == audit_before


def test_rows_of_another_institution_are_refused_for_a_publisher(
    client: TestClient, db: Connection
) -> None:
    signed_in_as(client, db, role="publisher", institution="rita")
    tra = next(iter(_published(db, "tra").values()))
    page = _page(_upload(client, _csv([tra]), url=IMPORT + "?lang=en"), 422)
    assert "Only services of RITA can be imported here." in page.text()
    assert _drafts(db) == []


def test_a_curator_may_import_any_institutions_services(client: TestClient, db: Connection) -> None:
    signed_in_as(client, db, role="curator")
    tra = next(iter(_published(db, "tra").values()))
    assert _upload(client, _csv([tra])).status_code == 303
    assert [(draft.slug, draft.service_id is not None) for draft in _drafts(db)] == [
        (tra["slug"], True)
    ]


def test_unknown_categories_and_slugs_of_others_are_reported(
    client: TestClient, db: Connection
) -> None:
    signed_in_as(client, db, role="publisher", institution="rita")
    tra_slug = next(iter(_published(db, "tra")))
    records = [
        _changed(_new_service("rita-kundi-lisilokuwepo"), categories=["hakuna-kundi"]),
        _new_service(tra_slug),
    ]
    page = _page(_upload(client, _csv(records), url=IMPORT + "?lang=en"), 422)
    text = page.text()
    assert "There is no category hakuna-kundi." in text
    assert "This slug is taken by a service of TRA." in text
    assert _drafts(db) == []


def test_a_draft_waiting_for_review_is_not_changed_by_an_import(
    client: TestClient, db: Connection
) -> None:
    signed_in_as(client, db, role="publisher", institution="rita")
    published = _published(db)
    slug = next(iter(published))
    actor = publishing_services.Actor(user_id=None, name="Afisa")
    now = bulk.dt.datetime(2026, 12, 4, 9, 0, tzinfo=bulk.dt.UTC)
    with unit_of_work(db) as session:
        service = session.exec(select(Service).where(Service.slug == slug)).one()
        draft = publishing_services.draft_for_service(
            session=session, service=service, actor=actor, now=now
        )
        publishing_services.draft_submit(
            session=session, draft=draft, version=draft.version, note="", actor=actor, now=now
        )
    page = _page(_upload(client, _csv([published[slug]]), url=IMPORT + "?lang=en"), 422)
    assert "This service has a draft waiting for review." in page.text()


def test_a_failure_while_writing_keeps_none_of_the_import(
    client: TestClient, db: Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    signed_in_as(client, db, role="publisher", institution="rita")
    records = [_new_service("rita-huduma-ya-kwanza"), _new_service("rita-huduma-ya-pili")]
    calls: list[str] = []
    draft_update = publishing_services.draft_update

    def update_then_refuse(**arguments: Any) -> Draft:
        calls.append(arguments["draft"].slug)
        if len(calls) == 2:  # as if someone had changed the second draft meanwhile
            raise publishing_services.DraftStale("changed")
        return draft_update(**arguments)

    monkeypatch.setattr(publishing_services, "draft_update", update_then_refuse)
    audit_before = _count(db, AuditEntry)
    page = _page(_upload(client, _csv(records), url=IMPORT + "?lang=en"), 409)
    assert "Nothing was imported: the catalogue changed" in page.text()
    assert calls == ["rita-huduma-ya-kwanza", "rita-huduma-ya-pili"]
    assert _drafts(db) == []
    assert _count(db, AuditEntry) == audit_before


# Refused files


def test_a_file_without_a_choice_is_asked_for(client: TestClient, db: Connection) -> None:
    signed_in_as(client, db, role="publisher", institution="rita")
    page = PageClient(client).get(IMPORT + "?lang=en")
    token = page.find(".//input[@name='csrf_token']")
    assert token is not None
    response = client.post(
        IMPORT + "?lang=en",
        data={"csrf_token": str(token.get("value"))},
        files={"file": ("", b"", "application/octet-stream")},
    )
    refused = _page(response, 422)
    assert "Choose a file to upload" in refused.text()
    assert refused.find(".//a[@href='#file']") is not None


@pytest.mark.parametrize(
    ("filename", "content", "message"),
    [
        ("huduma.xlsx", b"PK\x03\x04 a workbook", "save the file as CSV UTF-8 (.csv)"),
        ("huduma.pdf", b"%PDF-1.7", "Choose a CSV file (.csv) or a JSON file (.json)."),
        ("huduma.csv", "slug,jina\r\nx,Café\r\n".encode("cp1252"), "save the file as CSV UTF-8"),
    ],
    ids=["workbook", "pdf", "windows-1252"],
)
def test_files_of_the_wrong_type_or_encoding_are_refused(
    client: TestClient, db: Connection, filename: str, content: bytes, message: str
) -> None:
    signed_in_as(client, db, role="publisher", institution="rita")
    page = _page(
        _upload(client, content, filename, url=IMPORT + "?lang=en", content_type="x/y"), 422
    )
    assert message in page.text()
    assert _drafts(db) == []


@contextmanager
def _limits(app: FastAPI, **limits: int) -> Iterator[None]:
    """The app with other import limits, for a while."""
    settings = app.state.settings
    app.state.settings = settings.model_copy(update={"publishing": PublishingSettings(**limits)})
    try:
        yield
    finally:
        app.state.settings = settings


def test_a_file_over_the_size_limit_is_refused_with_413(
    app: FastAPI, client: TestClient, db: Connection
) -> None:
    signed_in_as(client, db, role="publisher", institution="rita")
    with _limits(app, import_max_bytes=4096):
        page = _page(_upload(client, b"x" * 5000, url=IMPORT + "?lang=en"), 413)
        assert "The file is larger than 4 KB. Send a smaller file." in page.text()
        # Far beyond it, the body is refused before it is read at all.
        huge = _upload(client, b"x" * (200 * 1024), url=IMPORT + "?lang=en")
    assert huge.status_code == 413
    assert _drafts(db) == []


def test_a_file_over_the_row_limit_is_refused(
    app: FastAPI, client: TestClient, db: Connection
) -> None:
    signed_in_as(client, db, role="publisher", institution="rita")
    records = [_new_service(f"rita-huduma-{number}") for number in range(3)]
    with _limits(app, import_max_rows=2):
        page = _page(
            _upload(client, json.dumps(records).encode(), "huduma.json", url=IMPORT + "?lang=en"),
            422,
        )
    assert "The file has more than 2 services. Import at most 2 at a time." in page.text()
    assert _drafts(db) == []


# Exports, and the round trip


@pytest.mark.parametrize("kind", ["csv", "json"])
def test_the_export_of_rita_imported_back_gives_drafts_equal_to_the_published_records(
    client: TestClient, db: Connection, kind: str
) -> None:
    signed_in_as(client, db, role="publisher", institution="rita")
    response = client.get(f"/chapisha/rita/hamisha.{kind}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(
        "text/csv" if kind == "csv" else "application/json"
    )
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="mlango-huduma-rita-')
    assert disposition.endswith(f'.{kind}"')
    published = _published(db)
    assert len(published) >= 3

    imported = _upload(client, response.content, f"rita.{kind}")
    assert imported.status_code == 303
    drafts = {draft.slug: draft for draft in _drafts(db)}
    assert set(drafts) == set(published)
    for slug, draft in drafts.items():
        record = ServiceIn.model_validate(draft.record).model_dump(mode="json", exclude_none=True)
        assert record == published[slug]
        assert draft.version == 1  # nothing to change: the draft is the published record
    assert _published(db) == published
    result = PageClient(client).get(imported.headers["location"] + "?lang=en")
    assert result.text().count("The same as the published service") == len(published)


def test_a_curator_exports_the_whole_catalogue(client: TestClient, db: Connection) -> None:
    signed_in_as(client, db, role="curator")
    response = client.get("/chapisha/yote/hamisha.json")
    assert response.status_code == 200
    services = json.loads(response.content)["services"]
    with Session(db) as session:
        everything = catalogue_selectors.service_list_full(session=session)
        assert [record["slug"] for record in services] == [s.slug for s in everything]
    as_csv = client.get("/chapisha/yote/hamisha.csv")
    assert as_csv.status_code == 200
    assert len(list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))) == (
        len(services) + 1
    )


def test_the_whole_catalogues_export_imported_by_a_curator_round_trips(
    client: TestClient, db: Connection
) -> None:
    signed_in_as(client, db, role="curator")
    exported = client.get("/chapisha/yote/hamisha.csv")
    with Session(db) as session:
        published = {
            record["slug"]: record
            for record in bulk.export_records(
                catalogue_selectors.service_list_full(session=session)
            )
        }
    assert _upload(client, exported.content, "mlango.csv").status_code == 303
    drafts = _drafts(db)
    assert len(drafts) == len(published)
    for draft in drafts:
        record = ServiceIn.model_validate(draft.record).model_dump(mode="json", exclude_none=True)
        assert record == published[draft.slug]


def test_a_publisher_cannot_export_the_whole_catalogue(client: TestClient, db: Connection) -> None:
    signed_in_as(client, db, role="publisher", institution="rita")
    assert client.get("/chapisha/yote/hamisha.csv").status_code == 403
    assert client.get("/chapisha/yote/hamisha.json").status_code == 403


def test_an_import_result_is_shown_only_for_its_own_institution(
    client: TestClient, db: Connection
) -> None:
    signed_in_as(client, db, role="curator")
    response = _upload(client, _csv([_new_service()]))
    location = response.headers["location"]
    reference = location.rsplit("/", 1)[-1]
    assert client.get(location).status_code == 200
    assert client.get(f"/chapisha/tra/ingiza/{reference}").status_code == 404
    assert client.get("/chapisha/rita/ingiza/hakuna").status_code == 404
