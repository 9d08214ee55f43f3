"""The search page: results, facets, filters, paging, zero results, bad input and outages."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, col, select

from portal.app import create_app
from portal.cli import main
from portal.config import SearchSettings, Settings
from portal.search.models import SearchLog
from tests.page_client import PageClient


def result_links(page) -> list[str]:  # type: ignore[no-untyped-def]
    return [a.get("href") for a in page.tree.findall(".//ol[@class='cards results']/li/h2/a")]


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("pasipoti", "uhamiaji-pasipoti-mpya"),
        ("passport", "uhamiaji-pasipoti-mpya"),
        ("hati ya kusafiria", "uhamiaji-pasipoti-mpya"),
        ("lesseni ya udereva", "tra-leseni-ya-udereva"),
        ("vyeti vya kuzaliwa", "rita-cheti-cha-kuzaliwa"),
    ],
)
def test_citizens_find_services_however_they_type(pages: PageClient, text: str, slug: str) -> None:
    page = pages.get("/tafuta", params={"q": text})
    assert any(slug in (href or "") for href in result_links(page)[:3]), result_links(page)


def test_results_show_highlighted_titles_count_and_facets(pages: PageClient) -> None:
    page = pages.get("/tafuta?q=leseni&lang=en")
    assert page.h1 == "Search results for “leseni”"
    assert re.search(r"\d+ services found", page.text())
    assert page.tree.findall(".//ol[@class='cards results']//mark")
    legends = page.texts(".//fieldset/legend")
    assert legends == ["Institution", "Category", "Life event", "For", "How to use it"]
    tra = page.find(".//input[@id='f-taasisi-tra']")
    assert tra is not None
    assert tra.get("checked") is None


def test_filters_narrow_the_results_and_can_be_removed_one_by_one(pages: PageClient) -> None:
    page = pages.get("/tafuta?q=leseni&taasisi=tra&njia=online&lang=en")
    assert all("tra-" in (href or "") for href in result_links(page))
    assert page.find(".//input[@id='f-taasisi-tra']").get("checked") is not None  # type: ignore[union-attr]
    removers = {a.text: a.get("href") for a in page.tree.findall(".//ul[@class='tags']/li/a")}
    assert removers["Remove filter: TRA"] == "/tafuta?q=leseni&njia=online"
    assert removers["Remove filter: Online"] == "/tafuta?q=leseni&taasisi=tra"


def test_paging_links_keep_the_search(pages: PageClient) -> None:
    page = pages.get("/tafuta?q=&panga=maarufu")
    next_link = page.find(".//a[@rel='next']")
    assert next_link is not None
    assert next_link.get("href") == "/tafuta?panga=maarufu&ukurasa=2"
    second = pages.get(next_link.get("href") or "")
    assert set(result_links(page)).isdisjoint(result_links(second))


def test_sorting_by_name(pages: PageClient) -> None:
    page = pages.get("/tafuta?panga=jina&lang=en")
    titles = page.texts(".//ol[@class='cards results']/li/h2/a")
    assert titles == sorted(titles, key=str.lower)


def test_zero_results_suggest_a_spelling_and_browsing(pages: PageClient) -> None:
    page = pages.get("/tafuta?q=pasporrt&lang=en")
    assert "No service matched your search" in page.text()
    suggestion = page.find(".//main//p/a")
    assert suggestion is not None
    assert suggestion.text == "passport"
    hrefs = {a.get("href") for a in page.tree.iter("a")}
    assert {"/matukio", "/makundi", "/taasisi"} <= hrefs


def test_the_english_twin_path(pages: PageClient) -> None:
    page = pages.get("/search?q=passport&lang=en")
    assert page.find(".//form[@action='/search']") is not None


@pytest.mark.parametrize(
    "query",
    [
        "ukurasa=0",
        "ukurasa=1000000000",
        "ukurasa=abc",
        "panga=bei",
        "taasisi=TRA%27%20OR%201%3D1",
        "kundi=" + "a" * 81,
        "q=" + "x" * 10_000,
        "&".join(["njia=online"] * 21),
    ],
)
def test_bad_input_gets_a_400_page_in_the_readers_language(pages: PageClient, query: str) -> None:
    page = pages.get(f"/tafuta?{query}", status=400)
    assert page.h1 == "Hatukuweza kuelewa anwani hiyo"


@pytest.mark.parametrize(
    "text",
    ['"', "AND OR NOT", "*", "🙂", "%ff%fe", "leseni)", "NEAR(a", "\\", "' OR 1=1 --", "%00"],
)
def test_odd_queries_get_a_normal_page(pages: PageClient, text: str) -> None:
    pages.get(f"/tafuta?q={text}")


def test_unknown_filter_values_give_an_empty_result_not_an_error(pages: PageClient) -> None:
    page = pages.get("/tafuta?q=leseni&taasisi=haipo&lang=en")
    assert "0 services found" in page.text()
    assert page.find(".//input[@id='f-taasisi-haipo']").get("checked") is not None  # type: ignore[union-attr]


def test_a_page_past_the_end_is_a_normal_page(pages: PageClient) -> None:
    page = pages.get("/tafuta?q=leseni&ukurasa=900&lang=en")
    assert "There are no results on this page." in page.text()


def test_queries_are_recorded_without_personal_data_and_clicks_counted(
    pages: PageClient, db: Connection
) -> None:
    page = pages.get("/tafuta?q=Hati+ya+KUSAFIRIA!!")
    first = result_links(page)[0] or ""
    assert first.startswith("/tafuta/bofya/")
    with Session(db) as session:
        entry = session.exec(select(SearchLog).order_by(col(SearchLog.id).desc())).first()
        assert entry is not None
        assert entry.query == "hati ya kusafiria"
        assert entry.results > 0
        assert not entry.clicked
        assert set(SearchLog.model_fields) == {"id", "query", "results", "clicked", "day"}
    response = pages.client.get(first, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/huduma/")
    with Session(db) as session:
        assert session.get(SearchLog, entry.id).clicked  # type: ignore[union-attr]


def test_the_click_counter_only_redirects_to_real_services(client: TestClient) -> None:
    assert client.get("/tafuta/bofya/1/haipo", follow_redirects=False).status_code == 404
    assert (
        client.get("/tafuta/bofya/1/%2F%2Fevil.example", follow_redirects=False).status_code == 404
    )


@pytest.fixture
def app_without_search(settings: Settings, engine: Engine, tmp_path) -> FastAPI:  # type: ignore[no-untyped-def]
    broken = settings.model_copy(
        update={"search": SearchSettings(path=tmp_path / "no-such-folder" / "s.db")}
    )
    return create_app(broken)


@pytest.mark.parametrize(
    ("lang", "heading"),
    [("sw", "Utafutaji haupatikani kwa sasa"), ("en", "Search is not available right now")],
)
def test_search_down_gives_a_503_page_and_the_rest_works(
    app_without_search: FastAPI, lang: str, heading: str
) -> None:
    with TestClient(app_without_search) as client:
        pages = PageClient(client)
        assert pages.get(f"/tafuta?q=leseni&lang={lang}", status=503).h1 == heading
        pages.get("/huduma/rita-cheti-cha-kuzaliwa")
        pages.get("/")
        api = client.get("/api/v1/search?q=leseni")
        assert api.status_code == 503
        assert api.json() == {"detail": "search is unavailable"}


def test_every_facet_value_the_page_offers_can_be_chosen(pages: PageClient) -> None:
    page = pages.get("/tafuta?q=&lang=en")
    boxes = page.tree.findall(".//fieldset//input[@type='checkbox']")
    assert len(boxes) > 40
    for box in boxes:
        chosen = pages.get("/tafuta", params={box.get("name"): box.get("value"), "lang": "en"})
        count = int(chosen.texts(".//p[@class='count']")[0].split()[0])
        assert count > 0, box.attrib


def test_operators_can_list_what_people_did_not_find(
    pages: PageClient, settings: Settings, db: Connection, capsys: pytest.CaptureFixture[str]
) -> None:
    for _ in range(2):
        pages.get("/tafuta?q=Nyukiangani+ZZQX")
    pages.get("/tafuta?q=pasipoti")
    assert main(["search", "zero-results", "--days", "1"], settings=settings, bind=db) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "     2  nyukiangani zzqx" in lines
    assert not any("pasipoti" in line for line in lines)
