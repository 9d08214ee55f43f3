"""Citizen pages of the catalogue, in both languages, held to the page contract."""

from __future__ import annotations

import json

import pytest
from sqlalchemy.engine import Connection
from sqlmodel import Session, select

from portal.catalogue.models import Category, Service
from portal.db import unit_of_work
from tests.page_client import PageClient

SERVICE = "rita-cheti-cha-kuzaliwa"


@pytest.mark.parametrize("lang", ["sw", "en"])
@pytest.mark.parametrize(
    "path",
    ["/taasisi", "/makundi", "/matukio", f"/huduma/{SERVICE}", "/taasisi/rita"],
)
def test_pages_render_in_both_languages(pages: PageClient, path: str, lang: str) -> None:
    page = pages.get(f"{path}?lang={lang}")
    assert page.tree.get("lang") == lang
    assert page.response.headers["content-language"] == lang
    assert "Cookie" in page.response.headers["vary"]


def test_browse_pages_list_their_services(pages: PageClient) -> None:
    for path in ("/makundi/utambulisho-na-usajili", "/matukio/kuzaliwa-mtoto"):
        page = pages.get(path)
        assert page.find(".//ul[@class='cards']/li") is not None, path


def test_service_page_shows_every_part_of_the_record(pages: PageClient) -> None:
    page = pages.get(f"/huduma/{SERVICE}?lang=en")
    body = page.text()
    assert page.h1 == "Birth registration and birth certificate"
    for expected in (
        "TSh 3,500",  # cost
        "GePG control number",
        "What you need",
        "Birth notification from the health facility",
        "National Identification Number (NIN)",
        "Steps",
        "Upload the hospital birth notification.",
        "Births and Deaths Registration Act",
        "Last reviewed on",
        "Registration, Insolvency and Trusteeship Agency",
    ):
        assert expected in body, expected
    start = page.find(".//a[@class='button']")
    assert start is not None
    assert start.get("href") == "https://erita.rita.go.tz/"


def test_service_page_carries_government_service_json_ld(pages: PageClient) -> None:
    page = pages.get(f"/huduma/{SERVICE}?lang=sw")
    scripts = page.tree.findall(".//script[@type='application/ld+json']")
    assert len(scripts) == 1
    data = json.loads(scripts[0].text or "")
    assert data["@type"] == "GovernmentService"
    assert data["identifier"] == SERVICE
    assert data["name"] == "Usajili wa kuzaliwa na cheti cha kuzaliwa"
    assert data["provider"]["alternateName"] == "RITA"
    assert data["url"] == f"http://testserver/huduma/{SERVICE}"
    assert {offer["price"] for offer in data["offers"]} == {3500, 4000}
    assert data["availableChannel"]["serviceUrl"] == "https://erita.rita.go.tz/"


def test_language_choice_is_remembered(pages: PageClient) -> None:
    chosen = pages.get("/taasisi?lang=en")
    assert "lugha=en" in chosen.response.headers["set-cookie"]
    assert pages.get("/makundi").tree.get("lang") == "en"
    assert pages.get("/makundi?lang=sw").tree.get("lang") == "sw"


def test_swahili_is_the_default(pages: PageClient) -> None:
    page = pages.get("/taasisi", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert page.tree.get("lang") == "sw"
    switch = page.find(".//a[@class='lang-switch']")
    assert switch is not None
    assert switch.get("href") == "/taasisi?lang=en"


def test_language_switch_keeps_the_other_query_parameters(pages: PageClient) -> None:
    page = pages.get("/taasisi/tra?ukurasa=1&lang=sw")
    switch = page.find(".//a[@class='lang-switch']")
    assert switch is not None
    assert switch.get("href") == "/taasisi/tra?ukurasa=1&lang=en"


@pytest.mark.parametrize(
    ("lang", "heading"), [("sw", "Ukurasa haukupatikana"), ("en", "Page not found")]
)
@pytest.mark.parametrize(
    "path", ["/huduma/haipo", "/taasisi/haipo", "/makundi/haipo", "/matukio/haipo", "/hakuna"]
)
def test_unknown_slugs_give_a_404_page_in_the_readers_language(
    pages: PageClient, path: str, lang: str, heading: str
) -> None:
    assert pages.get(f"{path}?lang={lang}", status=404).h1 == heading


@pytest.mark.parametrize(
    "query",
    ["ukurasa=abc", "ukurasa=0", "ukurasa=-1", "ukurasa=1e3", "ukurasa=99999999999999999999"],
)
def test_malformed_page_numbers_give_a_400_page(pages: PageClient, query: str) -> None:
    page = pages.get(f"/taasisi/tra?{query}&lang=en", status=400)
    assert page.h1 == "We could not understand that address"


def test_unknown_language_gives_a_400_page(pages: PageClient) -> None:
    page = pages.get("/taasisi?lang=fr", status=400)
    assert page.tree.get("lang") == "sw"


def test_a_page_past_the_last_is_not_found(pages: PageClient) -> None:
    pages.get("/taasisi/rita?ukurasa=2", status=404)


def test_long_lists_are_paginated(pages: PageClient, db: Connection) -> None:
    with Session(db) as session:
        biggest = max(
            session.exec(select(Category)).all(), key=lambda category: len(category.services)
        )
        total = len(biggest.services)
    assert total > 20, "the seed should hold a category with more than one page"
    first = pages.get(f"/makundi/{biggest.slug}")
    assert len(first.tree.findall(".//ul[@class='cards']/li")) == 20
    assert first.find(".//a[@rel='next']") is not None
    last_number = -(-total // 20)
    last = pages.get(f"/makundi/{biggest.slug}?ukurasa={last_number}")
    assert len(last.tree.findall(".//ul[@class='cards']/li")) == total - 20 * (last_number - 1)
    assert last.find(".//a[@rel='next']") is None


def test_catalogue_text_is_escaped(pages: PageClient, db: Connection) -> None:
    with unit_of_work(db) as session:
        service = session.exec(select(Service).where(Service.slug == SERVICE)).one()
        service.summary = {"sw": "<script>alert(1)</script>", "en": "x"}
        session.add(service)
    page = pages.get(f"/huduma/{SERVICE}")
    assert "<script>alert(1)</script>" not in page.response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.response.text
    data = page.tree.findall(".//script[@type='application/ld+json']")[0].text or ""
    assert "</script>" not in data
    assert json.loads(data)["description"] == "<script>alert(1)</script>"
