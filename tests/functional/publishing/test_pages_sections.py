"""Each section of the draft editor: it saves record parts shaped as `ServiceIn` expects, and
re-renders bad answers with their messages and the values kept; hostile input is refused or
escaped; a stale version or a draft in review is never written over."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Connection

from portal.catalogue.schemas import ServiceIn
from portal.publishing.models import SUBMITTED
from tests.functional.publishing.test_pages import draft_of, edit, save, sign_in_publisher
from tests.page_client import Page, PageClient

Answers = dict[str, Any]

SAVES: list[tuple[str, Answers, dict[str, Any]]] = [
    (
        "majina",
        {
            "name_sw": "Cheti cha kuzaliwa",
            "name_en": "Birth certificate",
            "aka_sw": "eRITA\n\n cheti ",
            "aka_en": "",
        },
        {
            "name": {"sw": "Cheti cha kuzaliwa", "en": "Birth certificate"},
            "alternative_names": {"sw": ["eRITA", "cheti"], "en": []},
        },
    ),
    (
        "muhtasari",
        {"output_sw": "Cheti", "output_en": "A certificate"},
        {"output": {"sw": "Cheti", "en": "A certificate"}},
    ),
    (
        "hatua",
        {"steps_sw": "Jaza fomu\r\nLipa ada", "steps_en": "Fill in the form\r\nPay the fee"},
        {"steps": {"sw": ["Jaza fomu", "Lipa ada"], "en": ["Fill in the form", "Pay the fee"]}},
    ),
    (
        "wanaostahili",
        {
            "audience": ["business", "citizen"],
            "documents": "Kitambulisho | ID card",
            "identifiers": ["TIN"],
        },
        {
            "audience": ["business", "citizen"],
            "required_documents": [{"sw": "Kitambulisho", "en": "ID card"}],
            "identifiers": ["TIN"],
        },
    ),
    (
        "gharama",
        {
            "fee1_amount": "TSh 5,000/=",
            "fee2_amount": "",
            "fee2_sw": "",
            "fee2_en": "",
            "fee3_amount": "0",
            "fee3_sw": "Kwa watoto",
            "fee3_en": "For children",
            "gepg": "no",
            "note_sw": "Lipa benki",
            "note_en": "Pay at a bank",
        },
        {
            "cost": {
                "items": [
                    {
                        "amount_tzs": 5000,
                        "condition": {
                            "sw": "Ndani ya siku 90 tangu kuzaliwa",
                            "en": "Within 90 days of the birth",
                        },
                    },
                    {"amount_tzs": 0, "condition": {"sw": "Kwa watoto", "en": "For children"}},
                ],
                "gepg": False,
                "note": {"sw": "Lipa benki", "en": "Pay at a bank"},
            }
        },
    ),
    (
        "muda",
        {
            "time_amount": "48",
            "time_unit": "hours",
            "note_sw": "Siku za kazi",
            "note_en": "Working days",
        },
        {
            "processing_time": "PT48H",
            "processing_time_note": {"sw": "Siku za kazi", "en": "Working days"},
        },
    ),
    (
        "njia",
        {"online_url": "", "ussd": "*152*00#", "sms": "15200", "office_sw": "", "office_en": ""},
        {"channels": {"ussd": "*152*00#", "sms": "15200"}},
    ),
    (
        "kuanza",
        {"mode": "link", "api_code": "", "assurance": "low", "shares": ["given_name"]},
        {"launch": {"mode": "link", "assurance": "low", "shares": ["nin", "given_name"]}},
    ),
    (
        "sheria-mawasiliano",
        {
            "laws": "Sheria ya Vizazi | https://www.rita.go.tz/sheria\nKanuni za Usajili",
            "phone": "+255 22 211 0000",
            "email": "info@rita.go.tz",
            "contact_url": "",
            "hours_sw": "",
            "hours_en": "",
        },
        {
            "legal_basis": [
                {"title": "Sheria ya Vizazi", "url": "https://www.rita.go.tz/sheria"},
                {"title": "Kanuni za Usajili"},
            ],
            "contact": {"phone": "+255 22 211 0000", "email": "info@rita.go.tz"},
        },
    ),
    (
        "makundi",
        {"categories": ["utambulisho-na-usajili", "afya"], "life_events": []},
        {"categories": ["afya", "utambulisho-na-usajili"], "life_events": []},
    ),
    (
        "hali",
        {
            "status": "temporarily_closed",
            "alert_sw": "Imefungwa hadi Januari.",
            "alert_en": "Closed until January.",
        },
        {
            "status": "temporarily_closed",
            "alert": {"sw": "Imefungwa hadi Januari.", "en": "Closed until January."},
        },
    ),
]

# section, bad answers, {field: the start of its message}
REFUSALS: list[tuple[str, Answers, dict[str, str]]] = [
    (
        "majina",
        {"name_sw": "", "name_en": "x" * 301},
        {"name_sw": "Enter the name in Swahili", "name_en": "Enter 300 characters or fewer"},
    ),
    # A section's own rules are checked once its answers are each well formed.
    ("majina", {"aka_en": "ok\n" + "y" * 301}, {"aka_en": "Line 2 is too long"}),
    (
        "muhtasari",
        {"description_en": " ", "summary_sw": "s" * 400},
        {"description_en": "Enter the description in English", "summary_sw": "Enter 300"},
    ),
    (
        "hatua",
        {"steps_sw": "Moja\nMbili", "steps_en": "One"},
        {"steps_en": "Give as many steps in English as in Swahili: 2 in Swahili, 1 in English"},
    ),
    (
        "hatua",
        {"steps_sw": "\n".join(["hatua"] * 31), "steps_en": "One"},
        {"steps_sw": "Give no more than 30 lines"},
    ),
    (
        "wanaostahili",
        {"audience": [], "documents": "Kitambulisho bila tafsiri", "identifiers": ["SSN"]},
        {
            "audience": "Select who the service is for",
            "identifiers": "Select from the list",
        },
    ),
    (
        "wanaostahili",
        {"documents": "Sawa | Fine\nKitambulisho bila tafsiri"},
        {"documents": "Line 2: write the document in Swahili"},
    ),
    (
        "gharama",
        {"fee1_amount": "elfu tatu", "fee2_amount": "", "fee2_sw": "Baadaye", "fee2_en": ""},
        {
            "fee1_amount": "Enter the amount of fee 1 in shillings",
            "fee2_amount": "Enter the amount of fee 2",
            "fee2_en": "Say in English when fee 2 applies",
        },
    ),
    (
        "gharama",
        {"fee1_amount": "99999999999"},
        {"fee1_amount": "Enter an amount of 1,000,000,000 or less"},
    ),
    (
        "gharama",
        {"gepg": "", "fee1_sw": "s" * 301},
        {"fee1_sw": "Enter 300", "gepg": "Select whether"},
    ),
    ("gharama", {"note_sw": "Peke yake"}, {"note_en": "Enter it in English too"}),
    (
        "muda",
        {"time_amount": "0", "time_unit": "years"},
        {"time_unit": "Select one of the options"},
    ),
    ("muda", {"time_amount": "²", "time_unit": "days"}, {"time_amount": "Enter a whole number"}),
    (
        "njia",
        {"online_url": "javascript:alert(1)", "ussd": "152", "sms": "1"},
        {
            "online_url": "Enter a full web address",
            "ussd": "Enter a USSD code",
            "sms": "Enter an SMS number",
        },
    ),
    (
        "njia",
        {"online_url": "", "ussd": "", "sms": "", "app": "", "office_sw": "", "office_en": ""},
        {"online_url": "Give at least one way to use the service"},
    ),
    (
        "njia",
        {"office_sw": "Ofisi za wilaya", "office_en": ""},
        {"office_en": "Enter it in English too"},
    ),
    ("kuanza", {"mode": "govesb", "api_code": ""}, {"api_code": "Enter the GovESB API code"}),
    (
        "kuanza",
        {"mode": "govesb", "api_code": "rita birth"},
        {"api_code": "Enter the API code in capital"},
    ),
    (
        "kuanza",
        {"mode": "link", "api_code": "RITA-BIRTH-REG"},
        {"api_code": "Leave the API code empty"},
    ),
    (
        "kuanza",
        {"mode": "fax", "shares": ["nin", "mother"]},
        {"mode": "Select one of the options", "shares": "Select from the list"},
    ),
    (
        "sheria-mawasiliano",
        {"laws": "Sheria | ftp://x | y", "email": "si barua pepe"},
        {"laws": "Line 1: write the title"},
    ),
    (
        "sheria-mawasiliano",
        {"email": "si barua pepe", "phone": "piga simu", "contact_url": "www.rita"},
        {
            "phone": "Enter a phone number",
            "email": "Enter an email address",
            "contact_url": "Enter a full web address",
        },
    ),
    (
        "sheria-mawasiliano",
        {"laws": "Sheria | sio-anwani"},
        {"laws": "Line 1: write the web address in full"},
    ),
    (
        "makundi",
        {"categories": ["hakuna-kundi-hili"], "life_events": ["<script>"]},
        {"categories": "Select categories from the list", "life_events": "Select life events"},
    ),
    ("makundi", {"categories": []}, {"categories": "Select at least one category"}),
    (
        "hali",
        {"status": "inactive", "alert_sw": "", "alert_en": ""},
        {"alert_sw": "Explain in Swahili", "alert_en": "Explain in English"},
    ),
    ("hali", {"status": "deleted"}, {"status": "Select one of the options"}),
]


@pytest.fixture
def draft_id(pages: PageClient, client: TestClient, db: Connection) -> int:
    sign_in_publisher(client, db)
    return edit(pages)


@pytest.mark.parametrize(("section", "answers", "parts"), SAVES, ids=[s[0] for s in SAVES])
def test_a_section_saves_its_parts_of_the_record(
    pages: PageClient,
    db: Connection,
    draft_id: int,
    section: str,
    answers: Answers,
    parts: dict[str, Any],
) -> None:
    before = draft_of(db, draft_id)
    save(pages, draft_id, section, answers)
    after = draft_of(db, draft_id)
    assert after.version == before.version + 1
    for name, value in parts.items():
        assert after.record[name] == value, name
    untouched = set(before.record) - set(parts)
    assert {name: after.record.get(name) for name in untouched} == {
        name: before.record[name] for name in untouched
    }
    ServiceIn.model_validate(after.record)  # the whole record is still valid
    again = pages.get(f"/chapisha/rasimu/{draft_id}/{section}?lang=en")  # shows what was saved
    for name, value in answers.items():
        if isinstance(value, str) and value.strip() and "\n" not in value and "fee" not in name:
            field = again.find(f".//input[@name='{name}']")
            if field is not None and field.get("type") not in ("radio", "checkbox"):
                assert field.get("value") == value.strip(), name


@pytest.mark.parametrize(
    ("section", "answers", "messages"),
    REFUSALS,
    ids=[f"{r[0]}-{n}" for n, r in enumerate(REFUSALS)],
)
def test_a_section_shows_its_errors_with_the_answers_kept(
    pages: PageClient,
    db: Connection,
    draft_id: int,
    section: str,
    answers: Answers,
    messages: dict[str, str],
) -> None:
    before = draft_of(db, draft_id)
    page = save(pages, draft_id, section, answers, status=422)
    assert isinstance(page, Page)
    assert page.response.text.count('class="error-summary"') == 1
    assert page.find(".//title") is not None
    assert "".join(page.find(".//title").itertext()).startswith("Error:")  # type: ignore[union-attr]
    summary = page.texts(".//ul[@class='error-summary-list']/li/a")
    for field, message in messages.items():
        shown = page.find(f".//*[@id='{field}-error']")
        assert shown is not None, (field, summary)
        assert "".join(shown.itertext()).removeprefix("Error: ").startswith(message), summary
        assert page.find(f".//a[@href='#{field}']") is not None, field
    for name, value in answers.items():  # every answer is shown again as typed
        if isinstance(value, str) and value and "\n" not in value:
            element = page.find(f".//input[@name='{name}'][@type='text']")
            if element is not None:
                assert element.get("value") == value, name
        if isinstance(value, str) and "\n" in value:
            area = page.find(f".//textarea[@name='{name}']")
            assert area is not None, name
            assert (area.text or "").rstrip("\n") == value, name
    after = draft_of(db, draft_id)
    assert (after.version, after.record) == (before.version, before.record)  # nothing saved


def test_html_in_a_field_is_kept_as_text_and_shown_escaped(
    pages: PageClient, db: Connection, draft_id: int
) -> None:
    hostile = '<script>alert("x")</script><b>Cheti</b>'
    save(pages, draft_id, "majina", {"name_sw": hostile, "name_en": hostile})
    assert draft_of(db, draft_id).record["name"]["sw"] == hostile
    overview = pages.get(f"/chapisha/rasimu/{draft_id}?lang=en")  # the contract: no bare script
    assert overview.h1 == f"Draft: {hostile}"
    assert "<b>Cheti</b>" not in overview.response.text
    preview = pages.get(f"/chapisha/rasimu/{draft_id}/hakikisho?lang=en")
    assert preview.h1 == hostile


def test_a_stale_section_shows_the_draft_as_it_now_is(
    pages: PageClient, db: Connection, draft_id: int
) -> None:
    url = f"/chapisha/rasimu/{draft_id}/majina"
    shown = pages.get(f"{url}?lang=en")  # version 1
    save(pages, draft_id, "majina", {"name_en": "Changed by a colleague"})  # version 2
    stale = pages.post(shown, {"name_en": "My change"}, action=url, status=409)
    assert isinstance(stale, Page)
    assert stale.h1 == "Names"
    assert "Someone else changed this draft" in stale.text()
    field = stale.find(".//input[@name='name_en']")
    assert field is not None
    assert field.get("value") == "Changed by a colleague"
    assert stale.find(".//input[@name='version']").get("value") == "2"  # type: ignore[union-attr]
    assert draft_of(db, draft_id).record["name"]["en"] == "Changed by a colleague"
    for broken in ("", "abc", "-1", "9" * 40):
        refused = pages.post(shown, {"version": broken}, action=url, status=409)
        assert isinstance(refused, Page)
        assert "Someone else changed" in refused.text()
    saved = pages.post(stale, {"name_en": "My change"}, action=url)  # from the fresh page
    assert draft_of(db, draft_id).record["name"]["en"] == "My change"
    assert saved.status_code == 303  # type: ignore[union-attr]


def test_a_draft_in_review_cannot_be_saved(
    pages: PageClient, db: Connection, draft_id: int
) -> None:
    url = f"/chapisha/rasimu/{draft_id}/hatua"
    shown = pages.get(f"{url}?lang=en")
    overview = pages.get(f"/chapisha/rasimu/{draft_id}?lang=en")
    pages.post(overview, {"note": "Imekamilika"}, action=f"/chapisha/rasimu/{draft_id}/wasilisha")
    refused = pages.post(shown, {"steps_sw": "Moja", "steps_en": "One"}, action=url, status=409)
    assert isinstance(refused, Page)
    assert refused.h1 == "This draft cannot be changed now"
    assert "with the curators for review" in refused.text()
    draft = draft_of(db, draft_id)
    assert draft.state == SUBMITTED
    assert len(draft.record["steps"]["sw"]) == 5


def test_fee_rows_grow_with_the_fees(pages: PageClient, draft_id: int) -> None:
    page = pages.get(f"/chapisha/rasimu/{draft_id}/gharama?lang=en")
    assert len(page.tree.findall(".//input[@inputmode='numeric']")) == 3  # two fees, one empty
    answers = {f"fee{n}_{part}": str(n) for n in (3, 4) for part in ("amount", "sw", "en")}
    save(pages, draft_id, "gharama", answers)
    page = pages.get(f"/chapisha/rasimu/{draft_id}/gharama?lang=en")
    assert len(page.tree.findall(".//input[@inputmode='numeric']")) == 5


@pytest.mark.parametrize("section", ["hakuna", "HATUA", "majina.html", "x" * 500])
def test_an_unknown_section_is_not_found(pages: PageClient, draft_id: int, section: str) -> None:
    pages.get(f"/chapisha/rasimu/{draft_id}/{section}", status=404)
