"""Reading and writing files of service records: the CSV and JSON formats, spreadsheets' ways
(byte-order mark, semicolons, CRLF, line breaks in cells), refused encodings, formula cells and
markup, limits, the report's rows and fields, and the exact round trip of every seed service."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import json
from typing import Any

import pytest

from portal.catalogue.seed import seed_load
from portal.config import PROJECT_ROOT
from portal.publishing import bulk
from portal.web.forms import FILE_TOO_LARGE
from portal.web.i18n import reset_locale, use_locale

TODAY = dt.date(2026, 12, 4)
BUNDLE = seed_load(directory=PROJECT_ROOT / "seed_data")
SEED = [service.model_dump(mode="json", exclude_none=True) for service in BUNDLE.services]
RITA = [record for record in SEED if record["institution"] == "rita"]


def _read(
    content: bytes | str,
    filename: str = "huduma.csv",
    *,
    max_rows: int = 1000,
    max_bytes: int = 10 * 1024 * 1024,
) -> bulk.ImportReport:
    data = content.encode("utf-8") if isinstance(content, str) else content
    return bulk.file_read(
        filename=filename,
        content=data,
        institution="rita",
        max_bytes=max_bytes,
        max_rows=max_rows,
        today=TODAY,
    )


def _dumps(report: bulk.ImportReport) -> list[dict[str, Any]]:
    assert report.ok, (report.errors, [(r.number, r.errors) for r in report.bad_rows])
    return [
        row.record.model_dump(mode="json", exclude_none=True) for row in report.rows if row.record
    ]


def _rows(records: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [bulk.record_row(record) for record in records]


def _csv(rows: list[dict[str, str]], *, delimiter: str = ",", bom: bool = False) -> str:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(bulk.COLUMN_NAMES)
    for row in rows:
        writer.writerow([row.get(name, "") for name in bulk.COLUMN_NAMES])
    return ("\ufeff" if bom else "") + buffer.getvalue()


def _one(**cells: str) -> dict[str, str]:
    """A good RITA row with some cells changed."""
    return {**bulk.record_row(RITA[0]), **cells}


def _errors(report: bulk.ImportReport) -> dict[tuple[int, str], str]:
    return {(row.number, e.field): e.msgid for row in report.bad_rows for e in row.errors}


def _message(msgid: str, **params: Any) -> str:
    token = use_locale("en")
    try:
        return bulk.FieldError("x", msgid, params).message
    finally:
        reset_locale(token)


# The round trip


def test_the_csv_export_of_every_seed_service_imports_back_exactly() -> None:
    exported = bulk.csv_export(SEED)
    assert exported.startswith(codecs.BOM_UTF8)
    assert b"\r\n" in exported
    assert _dumps(_read(exported)) == SEED


def test_the_json_export_of_every_seed_service_imports_back_exactly() -> None:
    exported = bulk.json_export(SEED)
    assert json.loads(exported) == {"services": SEED}
    assert _dumps(_read(exported, "huduma.json")) == SEED
    assert _dumps(_read(json.dumps(SEED), "huduma.json")) == SEED  # a bare list too


def test_the_template_has_every_column_and_an_example_row_that_imports() -> None:
    template = bulk.csv_template(institution="rita", category="utambulisho-na-usajili", today=TODAY)
    header, example = list(csv.reader(io.StringIO(template.decode("utf-8-sig"), newline="")))
    assert tuple(header) == bulk.COLUMN_NAMES
    assert example[0] == "rita-huduma-ya-mfano"
    [record] = _dumps(_read(template))
    assert record["slug"] == "rita-huduma-ya-mfano"
    assert record["review_due"] == "2027-12-04"


def test_every_column_is_documented_once() -> None:
    assert len(set(bulk.COLUMN_NAMES)) == len(bulk.COLUMNS)
    assert all(column.help for column in bulk.COLUMNS)
    assert set(bulk.record_row(RITA[0])) == set(bulk.COLUMN_NAMES)


# Spreadsheets' dialects


def test_a_byte_order_mark_semicolons_and_crlf_are_read() -> None:
    assert _dumps(_read(_csv(_rows(RITA), delimiter=";", bom=True))) == RITA


def test_excels_sep_line_names_the_separator() -> None:
    assert _dumps(_read("sep=;\r\n" + _csv(_rows(RITA[:2]), delimiter=";"))) == RITA[:2]


def test_a_quoted_cell_keeps_its_line_breaks() -> None:
    text = 'Aya ya kwanza.\r\n\r\nAya ya pili; yenye "nukuu", na koma.'
    report = _read(_csv([_one(description_sw=text)]))
    [record] = _dumps(report)
    assert record["description"]["sw"] == 'Aya ya kwanza.\n\nAya ya pili; yenye "nukuu", na koma.'


def test_blank_lines_are_skipped_and_rows_keep_their_spreadsheet_numbers() -> None:
    rows = _csv(_rows(RITA[:2])).split("\r\n")
    text = "\r\n".join([rows[0], rows[1], ",,,", rows[2], ""])
    report = _read(text)
    assert [row.number for row in report.rows] == [2, 4]
    assert report.ok


def test_case_of_fixed_words_does_not_matter() -> None:
    [record] = _dumps(_read(_csv([_one(status="Active", audience="CITIZEN", fees_gepg="YES")])))
    assert (record["status"], record["audience"], record["cost"]["gepg"]) == (
        "active",
        ["citizen"],
        True,
    )


# Encodings and types


@pytest.mark.parametrize(
    "content",
    [
        _csv([_one(name_en="Café registration")]).encode("cp1252"),
        _csv([_one()]).encode("utf-16"),
        _csv([_one()]).encode("utf-16-le"),
    ],
    ids=["windows-1252", "utf-16-bom", "utf-16-no-bom"],
)
def test_other_encodings_are_refused_with_how_to_save_as_utf8(content: bytes) -> None:
    report = _read(content)
    assert [error.msgid for error in report.errors] == [bulk.ENCODING]
    assert "save the file as CSV UTF-8" in _message(bulk.ENCODING)
    assert report.rows == []


@pytest.mark.parametrize(
    ("filename", "content", "msgid"),
    [
        ("huduma.txt", "slug\n", bulk.WRONG_TYPE),
        ("huduma", "slug\n", bulk.WRONG_TYPE),
        ("huduma.xlsx", "PK", bulk.WORKBOOK),
        ("huduma.csv", b"PK\x03\x04\x14\x00\x06\x00", bulk.WORKBOOK),
        ("huduma.csv", "", bulk.EMPTY),
        ("huduma.csv", "\ufeff  \r\n", bulk.EMPTY),
        ("huduma.csv", ",".join(bulk.COLUMN_NAMES) + "\r\n", bulk.NO_SERVICES),
        ("huduma.json", "[]", bulk.NO_SERVICES),
        ("huduma.json", '{"services": [], "more": 1}', bulk.JSON_SHAPE),
        ("huduma.json", '"huduma"', bulk.JSON_SHAPE),
        ("huduma.json", '[{"slug": "a"},', bulk.JSON_BROKEN),
    ],
)
def test_files_that_are_not_service_records_are_refused(
    filename: str, content: str | bytes, msgid: str
) -> None:
    report = _read(content, filename)
    assert [error.msgid for error in report.errors] == [msgid]
    assert not report.ok


def test_a_broken_quote_names_its_row() -> None:
    text = _csv(_rows(RITA[:1])) + 'rita-x,rita,"Jina" bovu,\r\n'
    report = _read(text)
    assert [(e.msgid, e.params) for e in report.errors] == [(bulk.CSV_BROKEN, {"row": 3})]


def test_columns_must_be_those_of_the_template() -> None:
    header = [name for name in bulk.COLUMN_NAMES if name != "alert_en"] + ["maoni", "slug"]
    report = _read(",".join(header) + "\r\nx\r\n")
    found = {error.msgid: error.params["columns"] for error in report.errors}
    assert found == {
        bulk.UNKNOWN_COLUMNS: "maoni",
        bulk.MISSING_COLUMNS: "alert_en",
        bulk.TWICE_COLUMNS: "slug",
    }


# Limits


def test_too_many_rows_are_refused_while_reading() -> None:
    report = _read(_csv(_rows(RITA[:3])), max_rows=2)
    assert [(e.msgid, e.params) for e in report.errors] == [(bulk.TOO_MANY, {"limit": 2})]
    assert report.rows == []
    assert _read(_csv(_rows(RITA[:2])), max_rows=2).ok


def test_too_many_json_records_are_refused() -> None:
    report = _read(json.dumps(RITA[:3]), "huduma.json", max_rows=2)
    assert [e.msgid for e in report.errors] == [bulk.TOO_MANY]


def test_a_file_larger_than_the_limit_is_refused_before_it_is_read() -> None:
    report = _read(b"\xff" * 2000, max_bytes=1024)  # not even valid UTF-8: never decoded
    assert [(e.msgid, e.params) for e in report.errors] == [(FILE_TOO_LARGE, {"limit": "1 KB"})]


# Formula cells and markup


@pytest.mark.parametrize(
    "cell", ['=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)"]
)
def test_formula_cells_are_refused_as_field_errors(cell: str) -> None:
    report = _read(_csv([*_rows(RITA[:1]), _one(slug="rita-mpya", name_en=cell)]))
    assert _errors(report) == {(3, "name_en"): bulk.FORMULA}
    assert _message(bulk.FORMULA, char=cell[0]).startswith(f"This starts with {cell[0]}")
    assert not report.ok


def test_a_cell_starting_with_a_tab_is_refused() -> None:
    report = _read(_csv([_one(summary_en="\tSummary")]))
    assert _errors(report) == {(2, "summary_en"): bulk.FORMULA_SPACE}


def test_plain_numbers_may_start_with_a_sign() -> None:
    [record] = _dumps(_read(_csv([_one(contact_phone="+255 22 211 1111")])))
    assert record["contact"]["phone"] == "+255 22 211 1111"


def test_the_export_neutralises_formula_cells_and_the_import_takes_the_quote_off() -> None:
    record = json.loads(json.dumps(RITA[0]))
    record["name"]["en"] = "=1+1 is not a formula here"
    record["summary"]["en"] = "'Quoted' summary"
    record["contact"] = {"phone": "+255 22 211 1111"}
    exported = bulk.csv_export([record])
    header, row = list(csv.reader(io.StringIO(exported.decode("utf-8-sig"), newline="")))
    cells = dict(zip(header, row, strict=True))
    assert cells["name_en"] == "'=1+1 is not a formula here"
    assert cells["summary_en"] == "''Quoted' summary"
    assert cells["contact_phone"] == "'+255 22 211 1111"
    assert _dumps(_read(exported)) == [record]


@pytest.mark.parametrize("text", ["<script>alert(1)</script>", "Bei > 5000", "<b>Usajili</b>"])
def test_markup_in_a_cell_is_refused(text: str) -> None:
    report = _read(_csv([_one(summary_en=text)]))
    assert _errors(report) == {(2, "summary_en"): bulk.HTML}
    assert "plain text, not HTML" in _message(bulk.HTML)


def test_markup_in_a_json_record_is_refused_naming_its_part() -> None:
    record = json.loads(json.dumps(RITA[0]))
    record["steps"]["en"][1] = "Click <a href='x'>here</a>"
    report = _read(json.dumps([record]), "huduma.json")
    assert _errors(report) == {(1, "steps.en.2"): bulk.HTML}


# The report: each bad row and field, in plain words


def test_the_report_names_the_row_its_slug_and_each_field() -> None:
    rows = _rows(RITA[:3])
    rows[1] = {**rows[1], "name_en": "", "processing_time": "siku 7", "online_url": "erita"}
    report = _read(_csv(rows))
    [bad] = report.bad_rows
    assert (bad.number, bad.slug) == (3, RITA[1]["slug"])
    assert {e.field: e.msgid for e in bad.errors} == {
        "name_en": bulk.MISSING,
        "processing_time": bulk.DURATION,
        "online_url": bulk.URL,
    }
    assert bad.record is None
    assert not report.ok


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        ({"alert_sw": "Imefungwa"}, {"alert_en": bulk.PAIR}),
        ({"steps_en": "One step"}, {"steps_en": bulk.SAME_COUNT}),
        ({"documents_en": ""}, {"documents_en": bulk.SAME_COUNT}),
        ({"fees_tzs": "3500 | elfu nne"}, {"fees_tzs": bulk.AMOUNTS}),
        ({"fees_tzs": "3500"}, {"fee_conditions_sw": bulk.SAME_COUNT}),
        ({"fees_gepg": "labda"}, {"fees_gepg": bulk.YES_OR_NO}),
        ({"popularity": "nyingi"}, {"popularity": bulk.WHOLE_NUMBER}),
        ({"slug": "Cheti Cha Kuzaliwa"}, {"slug": bulk.SLUG}),
        ({"audience": "citizen wananchi"}, {"audience": bulk.CHOICE}),
        ({"categories": ""}, {"categories": bulk.TOO_FEW}),
        ({"ussd": "150"}, {"ussd": bulk.USSD}),
        ({"launch_mode": "link"}, {"api_code": bulk.API_ONLY_GOVESB}),
        ({"api_code": ""}, {"api_code": bulk.API_NEEDED}),
        ({"shares": "given_name"}, {"shares": bulk.SHARES_NIN}),
        ({"status": "temporarily_closed"}, {"alert_sw": bulk.ALERT_NEEDED}),
        ({"review_due": "2020-01-01"}, {"review_due": bulk.REVIEW_DATES}),
        ({"last_reviewed": "15/09/2026"}, {"last_reviewed": bulk.DATE}),
        ({"online_url": "", "office_sw": "", "office_en": ""}, {"online_url": bulk.CHANNEL}),
        ({"name_en": "x" * 301}, {"name_en": bulk.TOO_LONG}),
    ],
)
def test_each_problem_is_reported_on_its_column_in_plain_words(
    cells: dict[str, str], expected: dict[str, str]
) -> None:
    report = _read(_csv([_one(**cells)]))
    assert {field: msgid for (_n, field), msgid in _errors(report).items()} == expected


def test_a_choice_names_the_value_and_the_choices() -> None:
    report = _read(_csv([_one(audience="citizen wananchi")]))
    [error] = report.bad_rows[0].errors
    assert _message(error.msgid, **error.params) == (
        "wananchi is not one of: 'citizen', 'business', 'foreigner' or 'public_servant'."
    )


def test_a_row_with_more_cells_than_the_header_is_refused() -> None:
    text = _csv([_one()]).rstrip("\r\n") + ",extra\r\n"
    assert _errors(_read(text)) == {(2, ""): bulk.ROW_TOO_LONG}


def test_a_slug_may_appear_once_in_a_file() -> None:
    report = _read(_csv(_rows([RITA[0], RITA[1], RITA[0]])))
    assert _errors(report) == {(4, "slug"): bulk.SLUG_AGAIN_ROW}
    assert report.bad_rows[0].errors[0].params == {"row": 2}


def test_json_problems_name_the_part_with_items_counted_from_one() -> None:
    record = json.loads(json.dumps(RITA[0]))
    record["cost"]["items"][1]["amount_tzs"] = "elfu nne"
    record["colour"] = "blue"
    report = _read(json.dumps({"services": [RITA[1], record, "huduma"]}), "huduma.json")
    assert _errors(report) == {
        (2, "cost.items.2.amount_tzs"): bulk.WHOLE_NUMBER,
        (2, "colour"): bulk.NOT_PART,
        (3, ""): bulk.NOT_AN_OBJECT,
    }


def test_empty_dates_default_to_today_and_a_year_on() -> None:
    [record] = _dumps(_read(_csv([_one(last_reviewed="", review_due="", popularity="")])))
    assert (record["last_reviewed"], record["review_due"], record["popularity"]) == (
        "2026-12-04",
        "2027-12-04",
        0,
    )


def test_an_empty_institution_is_the_one_imported_for_and_lists_take_either_separator() -> None:
    [record] = _dumps(
        _read(_csv([_one(institution="", identifiers="NIN|CONTROL_NUMBER", life_events="")]))
    )
    assert record["institution"] == "rita"
    assert record["identifiers"] == ["NIN", "CONTROL_NUMBER"]
    assert record["life_events"] == []


def test_a_bar_inside_a_list_item_survives_the_round_trip() -> None:
    record = json.loads(json.dumps(RITA[0]))
    record["steps"]["sw"][0] = "Chagua A | B"
    record["steps"]["en"][0] = "Choose A | B"
    assert _dumps(_read(bulk.csv_export([record]))) == [record]


def test_every_message_of_a_report_is_one_of_ours() -> None:
    rows = [_one(**{name: "?" for name in bulk.COLUMN_NAMES if name != "slug"})]
    report = _read(_csv(rows))
    ours = {
        value for name, value in vars(bulk).items() if name.isupper() and isinstance(value, str)
    }
    assert report.bad_rows[0].errors
    assert {error.msgid for error in report.bad_rows[0].errors} <= ours
