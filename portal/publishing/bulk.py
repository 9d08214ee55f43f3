"""Bulk import and export of service records: CSV and JSON files, checked whole, drafts made
together.

A file holds whole service records, `ServiceIn`-shaped: JSON as a list of records (or
`{"services": [...]}`), CSV as one row per service with the columns of `COLUMNS` (both
languages side by side; lists separated by " | "). Reading a file never writes: `file_read`
turns the bytes into checked records and a report naming each bad row and field, `import_check`
adds what the database knows (institution, categories, life events, slugs taken), and only a
report without a single problem is given to `import_apply`, which makes every draft in the
caller's one unit of work. Nothing is ever published here: a curator still reviews each draft.

Files from spreadsheets are met where they are: a UTF-8 byte-order mark, Excel's dialect (comma
or semicolon, CRLF, quoted cells with line breaks, a `sep=` line). Other encodings are refused
with the way to fix them. Cells a spreadsheet would run as formulas are neutralised on export
(a leading single quote) and refused on import unless they are plain numbers; the quote an export
added is taken off again, so an export imports back to exactly the same records.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import secrets
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import ValidationError
from sqlmodel import Session, col, select

from portal.audit import selectors as audit_selectors
from portal.audit import services as audit_services
from portal.catalogue import selectors as catalogue_selectors
from portal.catalogue.models import Category, Institution, LifeEvent, Service
from portal.catalogue.schemas import (
    Assurance,
    Audience,
    Identifier,
    LaunchMode,
    ServiceIn,
    SharedAttribute,
    Status,
)
from portal.publishing import services as publishing_services
from portal.publishing.models import OPEN_STATES, SUBMITTED, Draft
from portal.web.forms import FILE_TOO_LARGE, N_, FieldError, size_text

Format = Literal["csv", "json"]
LANGUAGES = ("sw", "en")
SEPARATOR = " | "  # between the items of a list in one cell
# A cell starting with one of these is run as a formula by spreadsheets (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?[0-9][0-9 .,]*$")
_ITEM_SPLIT = re.compile(r"(?<!\\)\|")
_SLUG_SPLIT = re.compile(r"[\s,;|]+")
_AMOUNT = re.compile(r"^[0-9]{1,3}(?:[ ,][0-9]{3})+$|^[0-9]+$")
YES = frozenset({"yes", "y", "true", "1", "ndiyo", "ndio"})
NO = frozenset({"no", "n", "false", "0", "hapana"})
WORKBOOK_SIGNATURES = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")  # .xlsx/.ods (zip), old .xls
PARTS = tuple(name for name in ServiceIn.model_fields if name not in ("slug", "institution"))

# Whole-file problems.
WRONG_TYPE = N_("Choose a CSV file (.csv) or a JSON file (.json).")
WORKBOOK = N_(
    "This is a spreadsheet workbook, not a CSV file. In the spreadsheet choose Save As, save the"
    " file as CSV UTF-8 (.csv), then upload that file."
)
ENCODING = N_(
    "The file is not in UTF-8, so its letters cannot be read reliably. In the spreadsheet choose"
    " Save As, save the file as CSV UTF-8, then upload it again."
)
EMPTY = N_("The file is empty.")
NO_SERVICES = N_("The file has no services in it.")
TOO_MANY = N_("The file has more than %(limit)s services. Import at most %(limit)s at a time.")
CSV_BROKEN = N_("Row %(row)s cannot be read as CSV: check its quotation marks.")
UNKNOWN_COLUMNS = N_(
    "These columns are not in the template: %(columns)s. Use the template's column names."
)
MISSING_COLUMNS = N_(
    "These columns are missing: %(columns)s. Start from the template: it has every column."
)
TWICE_COLUMNS = N_("These columns appear twice: %(columns)s.")
JSON_BROKEN = N_("The file is not valid JSON (line %(line)s, column %(column)s).")
JSON_SHAPE = N_(
    'The file must hold a list of services, or an object whose only key is "services" holding'
    " that list."
)
# Problems of a row, or of one of its fields.
ROW_TOO_LONG = N_("This row has %(count)s cells, more than the %(columns)s columns of the header.")
NOT_AN_OBJECT = N_("Each service must be an object holding the parts of a service record.")
FORMULA = N_(
    "This starts with %(char)s, which a spreadsheet would run as a formula. Remove it, or put a"
    " single quote (') before it if it is meant as text."
)
FORMULA_SPACE = N_(
    "This starts with a tab or a line break, which a spreadsheet may run as a formula. Remove it."
)
HTML = N_("Remove the < and > characters: a service record is plain text, not HTML.")
PAIR = N_("Give this in Swahili and in English, or leave both empty.")
SAME_COUNT = N_("Give as many items here (%(count)s) as in %(column)s (%(other)s).")
AMOUNTS = N_("Give each fee as a whole number of shillings, like 3500.")
YES_OR_NO = N_("Enter yes or no.")
WHOLE_NUMBER = N_("Enter a whole number.")
SLUG_AGAIN_ROW = N_("Row %(row)s has the same slug: each service may appear once in a file.")
SLUG_AGAIN_RECORD = N_("Service %(row)s has the same slug: each service may appear once in a file.")
NOT_HERE = N_("Only services of %(institution)s can be imported here.")
NO_INSTITUTION = N_("There is no institution %(slug)s.")
NO_CATEGORY = N_("There is no category %(slugs)s. The categories are listed under Categories.")
NO_LIFE_EVENT = N_(
    "There is no life event %(slugs)s. The life events are listed under Life events."
)
OTHER_SERVICE = N_("This slug is taken by a service of %(institution)s.")
OTHER_DRAFT = N_("This slug is taken by a draft of a new service of %(institution)s.")
IN_REVIEW = N_(
    "This service has a draft waiting for review. Import it again once the curators have"
    " decided on it."
)
CHANGED_MEANWHILE = N_(
    "Nothing was imported: the catalogue changed while the file was being imported. Upload it"
    " again."
)
# What the checks of a service record say, in plain words.
MISSING = N_("This needs a value.")
TOO_LONG = N_("Enter %(limit)s characters or fewer.")
TOO_SHORT = N_("Enter at least %(limit)s characters.")
TOO_FEW = N_("Give at least %(limit)s.")
TOO_MANY_ITEMS = N_("Give no more than %(limit)s.")
SLUG = N_("Use lowercase letters, digits and hyphens only, like rita-cheti-cha-kuzaliwa.")
USSD = N_("Enter a USSD code like *150*00#.")
SMS = N_("Enter an SMS number of 3 to 6 digits.")
API_CODE = N_("Enter an API code of capital letters, digits, - and _, like RITA-BIRTH-REG.")
PHONE = N_("Enter a phone number of digits and spaces, like +255 22 211 1111.")
EMAIL = N_("Enter an e-mail address like info@rita.go.tz.")
CHOICE = N_("%(value)s is not one of: %(choices)s.")
URL = N_("Enter a full web address, starting with https://.")
DATE = N_("Enter the date as YYYY-MM-DD, like 2026-09-15.")
TRUE_OR_FALSE = N_("Give true or false.")
TOO_SMALL = N_("Enter %(limit)s or more.")
TOO_BIG = N_("Enter %(limit)s or less.")
NOT_PART = N_("This is not part of a service record.")
WRONG_KIND = N_("This holds the wrong kind of value: see the column list.")
INVALID = N_("Check this value.")
STEPS_COUNT = N_("Give as many steps in English as in Swahili.")
STEPS_NONE = N_("Give at least one step.")
CHANNEL = N_(
    "Give at least one way to use the service: a web address, a USSD code, an SMS number, an app"
    " or an office."
)
API_NEEDED = N_("Give the GovESB API code: a service started through GovESB needs one.")
API_ONLY_GOVESB = N_("Leave the API code empty unless the launch mode is govesb.")
SHARES_NIN = N_("The shared details must include nin: the hand-off is made by it.")
SHARES_TWICE = N_("Name each shared detail once.")
REVIEW_DATES = N_("The review date must be after the last review.")
ALERT_NEEDED = N_(
    "A service that is not active needs an alert saying why, in Swahili and in English."
)
DURATION = N_(
    "Enter the time as an ISO 8601 duration, like P7D (7 days), PT48H (48 hours) or P2W (2 weeks)."
)


# The columns of a CSV file


@dataclass(frozen=True)
class Column:
    """One column of the CSV format, as the column list documents it."""

    name: str
    help: str  # an English msgid: what the column holds
    required: bool = False
    language: str | None = None  # "sw" or "en" for one half of a bilingual text


def _pair(base: str, help_text: str, *, required: bool = False) -> list[Column]:
    return [Column(f"{base}_{lang}", help_text, required, lang) for lang in LANGUAGES]


def _choices(values: Iterable[Any]) -> str:
    return ", ".join(str(value.value) for value in values)


COLUMNS: tuple[Column, ...] = (
    Column(
        "slug",
        N_(
            "The service's short name in its web address, e.g. rita-cheti-cha-kuzaliwa: lowercase"
            " letters, digits and hyphens. The slug of a published service changes that service;"
            " a new slug makes a new service."
        ),
        required=True,
    ),
    Column(
        "institution",
        N_("The institution's slug, e.g. rita. Empty: the institution you import for."),
    ),
    *_pair("name", N_("The service's name."), required=True),
    *_pair(
        "alternative_names",
        N_("Other names people search for it by, separated by |."),
    ),
    *_pair("summary", N_("One sentence saying what the service does."), required=True),
    *_pair(
        "description",
        N_("The full description; it may hold several paragraphs."),
        required=True,
    ),
    *_pair(
        "steps",
        N_("The steps, in order, separated by |; the same number in both languages."),
        required=True,
    ),
    Column(
        "categories",
        N_("Category slugs, separated by spaces or |; at least one (see Categories)."),
        required=True,
    ),
    Column("life_events", N_("Life event slugs, separated by spaces or | (see Life events).")),
    Column(
        "audience",
        N_(
            "Who it is for, separated by spaces or |: citizen, business, foreigner, public_servant."
        ),
        required=True,
    ),
    *_pair("eligibility", N_("Who may use the service."), required=True),
    *_pair(
        "documents",
        N_("The documents needed, separated by |; the same number in both languages."),
    ),
    Column(
        "identifiers",
        N_(
            "Numbers the person is asked for, separated by spaces or |: NIN, TIN, NECTA_INDEX,"
            " VEHICLE_REG, DRIVING_LICENCE, BIRTH_CERT, CONTROL_NUMBER, PASSPORT, BUSINESS_REG,"
            " MEMBER_NO, PHONE."
        ),
    ),
    *_pair("output", N_("What the person gets in the end."), required=True),
    Column(
        "fees_tzs",
        N_("Each fee in Tanzanian shillings, separated by | (0 for free)."),
    ),
    *_pair(
        "fee_conditions",
        N_("When each fee applies: one for each fee, separated by |."),
    ),
    Column(
        "fees_gepg",
        N_("yes when the fees are paid with a GePG control number, otherwise no."),
        required=True,
    ),
    *_pair("fee_note", N_("A note about the fees, or empty.")),
    Column(
        "processing_time",
        N_(
            "How long it takes, as an ISO 8601 duration: P7D is 7 days, PT48H 48 hours, P2W 2"
            " weeks."
        ),
        required=True,
    ),
    *_pair("processing_time_note", N_("A note about the time it takes, or empty.")),
    Column(
        "online_url",
        N_("The web address where the service is used. At least one way of using it is needed."),
    ),
    Column("ussd", N_("The USSD code, like *150*00#.")),
    Column("sms", N_("The SMS number: 3 to 6 digits.")),
    Column("app", N_("The name of the mobile app.")),
    *_pair("office", N_("The offices that serve it.")),
    Column(
        "launch_mode",
        N_(
            "link (the person follows the web address) or govesb (started from Mlango through"
            " GovESB). Empty: link."
        ),
    ),
    Column("api_code", N_("The GovESB API code, like RITA-BIRTH-REG: only with govesb.")),
    Column(
        "assurance",
        N_("The sign-in level it needs: low, substantial or high. Empty: low."),
    ),
    Column(
        "shares",
        N_(
            "The verified details a GovESB hand-off gives the institution, separated by spaces or"
            " |: nin (always), given_name, family_name, birthdate, phone_number. Empty: all."
        ),
    ),
    Column("legal_titles", N_("The laws it rests on, separated by |.")),
    Column(
        "legal_urls",
        N_(
            "A web address for each law, separated by | (an item left empty for a law without"
            " one), or empty."
        ),
    ),
    Column("contact_phone", N_("The phone number for questions, like +255 22 211 1111.")),
    Column("contact_email", N_("The e-mail address for questions.")),
    Column("contact_url", N_("The web page for questions.")),
    *_pair("contact_hours", N_("When they answer, or empty.")),
    Column(
        "status",
        N_("active, inactive or temporarily_closed. Empty: active."),
    ),
    *_pair(
        "alert",
        N_("A notice shown on the service, e.g. why it is closed: needed unless it is active."),
    ),
    Column(
        "last_reviewed",
        N_("When the record was last checked, as YYYY-MM-DD. Empty: today."),
    ),
    Column(
        "review_due",
        N_(
            "When it must be checked again, as YYYY-MM-DD, after last_reviewed. Empty: a year after"
            " the last review."
        ),
    ),
    Column("popularity", N_("Illustrative uses a month, for ordering: a whole number. Empty: 0.")),
)
COLUMN_NAMES = tuple(column.name for column in COLUMNS)
_COLUMN_ORDER = {name: index for index, name in enumerate(COLUMN_NAMES)}
_TEXTS = ("name", "summary", "description", "eligibility", "output")
# Columns of fixed words, read whatever their case (a spreadsheet may capitalise them).
_LOWER_CASE = frozenset({"audience", "fees_gepg", "launch_mode", "assurance", "shares", "status"})
_UPPER_CASE = frozenset({"identifiers"})

# Where a part of the record lives in the CSV (list positions left out of the path).
_PATH_COLUMNS: dict[str, str] = {
    "slug": "slug",
    "institution": "institution",
    **{f"{base}.{lang}": f"{base}_{lang}" for base in _TEXTS for lang in LANGUAGES},
    **{base: f"{base}_sw" for base in _TEXTS},
    **{
        f"{base}.{lang}": f"{base}_{lang}"
        for base in ("alternative_names", "steps")
        for lang in LANGUAGES
    },
    "alternative_names": "alternative_names_sw",
    "steps": "steps_sw",
    "categories": "categories",
    "life_events": "life_events",
    "audience": "audience",
    "identifiers": "identifiers",
    "required_documents.sw": "documents_sw",
    "required_documents.en": "documents_en",
    "required_documents": "documents_sw",
    "cost.items.amount_tzs": "fees_tzs",
    "cost.items.condition.sw": "fee_conditions_sw",
    "cost.items.condition.en": "fee_conditions_en",
    "cost.items": "fees_tzs",
    "cost.gepg": "fees_gepg",
    "cost.note.sw": "fee_note_sw",
    "cost.note.en": "fee_note_en",
    "cost.note": "fee_note_sw",
    "cost": "fees_tzs",
    "processing_time": "processing_time",
    "processing_time_note.sw": "processing_time_note_sw",
    "processing_time_note.en": "processing_time_note_en",
    "processing_time_note": "processing_time_note_sw",
    "channels.online_url": "online_url",
    "channels.ussd": "ussd",
    "channels.sms": "sms",
    "channels.app": "app",
    "channels.office.sw": "office_sw",
    "channels.office.en": "office_en",
    "channels.office": "office_sw",
    "channels": "online_url",
    "launch.mode": "launch_mode",
    "launch.api_code": "api_code",
    "launch.assurance": "assurance",
    "launch.shares": "shares",
    "launch": "launch_mode",
    "legal_basis.title": "legal_titles",
    "legal_basis.url": "legal_urls",
    "legal_basis": "legal_titles",
    "contact.phone": "contact_phone",
    "contact.email": "contact_email",
    "contact.url": "contact_url",
    "contact.hours.sw": "contact_hours_sw",
    "contact.hours.en": "contact_hours_en",
    "contact.hours": "contact_hours_sw",
    "contact": "contact_phone",
    "status": "status",
    "alert.sw": "alert_sw",
    "alert.en": "alert_en",
    "alert": "alert_sw",
    "last_reviewed": "last_reviewed",
    "review_due": "review_due",
    "popularity": "popularity",
}
# What a record's own checks say -> (CSV column, record part, plain message).
_RULES: tuple[tuple[str, str, str, str], ...] = (
    ("same number of steps", "steps_en", "steps", STEPS_COUNT),
    ("at least one step", "steps_sw", "steps", STEPS_NONE),
    ("at least one channel", "online_url", "channels", CHANNEL),
    ("needs an api_code", "api_code", "launch.api_code", API_NEEDED),
    ("api_code is only for", "api_code", "launch.api_code", API_ONLY_GOVESB),
    ("must include nin", "shares", "launch.shares", SHARES_NIN),
    ("attribute twice", "shares", "launch.shares", SHARES_TWICE),
    ("review_due must be after", "review_due", "review_due", REVIEW_DATES),
    ("needs an alert", "alert_sw", "alert", ALERT_NEEDED),
    ("ISO 8601 duration", "processing_time", "processing_time", DURATION),
)
_PATTERNS = {
    "slug": SLUG,
    "institution": SLUG,
    "categories": SLUG,
    "life_events": SLUG,
    "ussd": USSD,
    "sms": SMS,
    "api_code": API_CODE,
    "phone": PHONE,
    "email": EMAIL,
}


# The report


@dataclass
class Row:
    """One service of the file: its number (a CSV row as a spreadsheet counts it, the header
    being row 1; a JSON record counted from 1), its slug, and its record or its problems."""

    number: int
    slug: str
    record: ServiceIn | None = None
    errors: list[FieldError] = field(default_factory=list)

    def problem(self, where: str, msgid: str, /, **params: int | str) -> None:
        """Note a problem of the field `where` ("" for the row), one per field: the first found."""
        if not any(error.field == where for error in self.errors):
            self.errors.append(FieldError(where, msgid, params))
            self.record = None


@dataclass(frozen=True)
class Plan:
    """What importing a good row will do: make or change a draft."""

    row: Row
    record: ServiceIn
    institution: Institution
    service: Service | None  # the published service it changes, if any
    draft: Draft | None  # its open draft, updated instead of a new one


@dataclass
class ImportReport:
    """A file read and checked: whole-file problems, then each service with its problems."""

    filename: str
    format: Format | None
    errors: list[FieldError] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    plans: list[Plan] = field(default_factory=list)

    @property
    def bad_rows(self) -> list[Row]:
        return [row for row in self.rows if row.errors]

    @property
    def ok(self) -> bool:
        """Whether the whole file may be imported: not a single problem."""
        return not self.errors and bool(self.rows) and not self.bad_rows

    def refuse(self, msgid: str, **params: int | str) -> ImportReport:
        self.errors.append(FieldError("file", msgid, params))
        return self


@dataclass(frozen=True)
class Imported:
    """A draft an import made or changed, and what it is to the catalogue."""

    draft: Draft
    kind: Literal["new", "change", "same"]  # a new service, a change, or the published record


# Reading a file


def file_format(filename: str) -> Format | None:
    """The format a file's name says it is in, or None."""
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    return "csv" if suffix == "csv" else "json" if suffix == "json" else None


def file_read(
    *,
    filename: str,
    content: bytes,
    institution: str,
    max_bytes: int,
    max_rows: int,
    today: dt.date,
) -> ImportReport:
    """Read and check a file of service records (everything but what only the database knows).
    `institution` is the slug a record without one belongs to."""
    kind = file_format(filename)
    report = ImportReport(filename=filename, format=kind)
    if len(content) > max_bytes:  # before anything is decoded or parsed
        return report.refuse(FILE_TOO_LARGE, limit=size_text(max_bytes))
    if content.startswith(WORKBOOK_SIGNATURES) or filename.lower().endswith(
        (".xlsx", ".xls", ".ods")
    ):
        return report.refuse(WORKBOOK)
    if kind is None:
        return report.refuse(WRONG_TYPE)
    text = _decoded(content)
    if text is None:
        return report.refuse(ENCODING)
    if not text.strip():
        return report.refuse(EMPTY)
    if kind == "csv":
        _csv_read(report, text, institution, max_rows, today)
    else:
        _json_read(report, text, institution, max_rows)
    if not report.errors:
        _slugs_once(report)
        if not report.rows:
            report.refuse(NO_SERVICES)
    return report


def _decoded(content: bytes) -> str | None:
    """UTF-8 text without its byte-order mark, or None for any other encoding."""
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16, Excel's "Unicode text"
        return None
    try:
        text = content.removeprefix(b"\xef\xbb\xbf").decode("utf-8")
    except UnicodeDecodeError:
        return None
    return None if "\x00" in text else text


def _slugs_once(report: ImportReport) -> None:
    first: dict[str, int] = {}
    again = SLUG_AGAIN_ROW if report.format == "csv" else SLUG_AGAIN_RECORD
    for row in report.rows:
        if not row.slug:
            continue
        if row.slug in first:
            row.problem("slug", again, row=first[row.slug])
        else:
            first[row.slug] = row.number


# CSV


def _csv_read(
    report: ImportReport, text: str, institution: str, max_rows: int, today: dt.date
) -> None:
    lines = text.split("\n", 1)
    # The header says which separator the spreadsheet used: the one it holds most of.
    delimiter = max((",", ";", "\t"), key=lines[0].count)
    declared = lines[0].strip()
    if declared.lower().startswith("sep=") and len(declared) == 5:  # Excel's own hint
        delimiter, text = declared[4], lines[1] if len(lines) > 1 else ""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    records = _csv_records(report, reader)
    header = next(records, None)
    if header is None:
        return
    columns = [cell.strip().lower() for cell in header[1]]
    if not _header_good(report, columns):
        return
    for number, cells in records:
        if not any(cell.strip() for cell in cells):
            continue  # a blank line between rows
        if len(report.rows) == max_rows:
            report.rows = []
            report.refuse(TOO_MANY, limit=max_rows)
            return
        row = Row(number=number, slug="")
        extra = cells[len(columns) :]
        if any(cell.strip() for cell in extra):
            row.problem("", ROW_TOO_LONG, count=len(cells), columns=len(columns))
        values = dict(zip(columns, cells, strict=False))
        row.slug = _unquoted(values.get("slug", "")).strip()
        _validate(row, _row_record(row, values, institution, today), csv_columns=True)
        row.errors.sort(key=lambda error: _COLUMN_ORDER.get(error.field, -1))
        report.rows.append(row)


def _csv_records(
    report: ImportReport, reader: Iterator[list[str]]
) -> Iterator[tuple[int, list[str]]]:
    """Each record of the file with its row number, until the end or a broken one."""
    number = 0
    while True:
        number += 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error:
            report.rows = []
            report.refuse(CSV_BROKEN, row=number)
            return
        yield number, cells


def _header_good(report: ImportReport, columns: list[str]) -> bool:
    unknown = [name for name in columns if name and name not in COLUMN_NAMES]
    missing = [name for name in COLUMN_NAMES if name not in columns]
    twice = sorted({name for name in columns if name and columns.count(name) > 1})
    if unknown:
        report.refuse(UNKNOWN_COLUMNS, columns=", ".join(unknown))
    if missing:
        report.refuse(MISSING_COLUMNS, columns=", ".join(missing))
    if twice:
        report.refuse(TWICE_COLUMNS, columns=", ".join(twice))
    return not report.errors


def _unquoted(cell: str) -> str:
    """A cell without the single quote an export put before a formula-like start."""
    if cell[:1] == "'" and cell[1:2] in (*FORMULA_STARTS, "'"):
        return cell[1:]
    return cell


class _Cells:
    """The cells of one CSV row, read column by column into the parts of a record; each
    problem found is noted on the row under its column."""

    def __init__(self, row: Row, values: Mapping[str, str]) -> None:
        self.row = row
        self.values: dict[str, str] = {}
        for name in COLUMN_NAMES:
            raw = values.get(name, "")
            if raw[:1] in FORMULA_STARTS and not _PLAIN_NUMBER.match(raw.strip()):
                if raw[0] in "\t\r":
                    row.problem(name, FORMULA_SPACE)
                else:
                    row.problem(name, FORMULA, char=raw[0])
            value = _unquoted(raw).replace("\r\n", "\n").replace("\r", "\n").strip()
            if "<" in value or ">" in value:
                row.problem(name, HTML)
            if name in _LOWER_CASE:
                value = value.lower()
            elif name in _UPPER_CASE:
                value = value.upper()
            self.values[name] = value

    def text(self, name: str) -> str | None:
        return self.values[name] or None

    def items(self, name: str, *, keep_empty: bool = False) -> list[str]:
        """A list cell: items separated by |, a literal | written \\|."""
        value = self.values[name]
        if not value:
            return []
        items = [item.replace("\\|", "|").strip() for item in _ITEM_SPLIT.split(value)]
        return items if keep_empty else [item for item in items if item]

    def slugs(self, name: str) -> list[str]:
        return [item for item in _SLUG_SPLIT.split(self.values[name]) if item]

    def pair(self, base: str, *, required: bool = False) -> dict[str, str] | None:
        """A bilingual text: both halves, or neither (None) unless it is required."""
        halves = {lang: self.values[f"{base}_{lang}"] for lang in LANGUAGES}
        given = {lang: text for lang, text in halves.items() if text}
        if not required and not given:
            return None
        if not required and len(given) == 1:
            blank = next(lang for lang in LANGUAGES if lang not in given)
            self.row.problem(f"{base}_{blank}", PAIR)
        return given  # a required half left blank is reported as missing

    def parallel(self, first: str, second: str) -> list[tuple[str, str]]:
        """Two list cells that go item by item, e.g. a document in Swahili and in English."""
        one, two = self.items(first), self.items(second)
        if len(one) != len(two):
            self.row.problem(second, SAME_COUNT, count=len(two), column=first, other=len(one))
        return list(zip(one, two, strict=False))


def _row_record(
    row: Row, values: Mapping[str, str], institution: str, today: dt.date
) -> dict[str, Any]:
    """The record a CSV row describes, not yet checked as a whole (its cells' own problems are
    noted on the row as they are read)."""
    cells = _Cells(row, values)
    record: dict[str, Any] = {"slug": cells.values["slug"]}
    record["institution"] = cells.values["institution"] or institution
    for base in _TEXTS:
        record[base] = cells.pair(base, required=True)
    record["alternative_names"] = {
        lang: cells.items(f"alternative_names_{lang}") for lang in LANGUAGES
    }
    record["steps"] = {lang: cells.items(f"steps_{lang}") for lang in LANGUAGES}
    if len(record["steps"]["sw"]) != len(record["steps"]["en"]):
        row.problem(
            "steps_en",
            SAME_COUNT,
            count=len(record["steps"]["en"]),
            column="steps_sw",
            other=len(record["steps"]["sw"]),
        )
    for name in ("categories", "life_events", "audience", "identifiers"):
        record[name] = cells.slugs(name)
    record["required_documents"] = [
        {"sw": sw, "en": en} for sw, en in cells.parallel("documents_sw", "documents_en")
    ]
    record["cost"] = _cost(row, cells)
    record["processing_time"] = cells.text("processing_time")
    record["processing_time_note"] = cells.pair("processing_time_note")
    record["channels"] = {
        "online_url": cells.text("online_url"),
        "ussd": cells.text("ussd"),
        "sms": cells.text("sms"),
        "app": cells.text("app"),
        "office": cells.pair("office"),
    }
    record["launch"] = {
        "mode": cells.text("launch_mode"),
        "api_code": cells.text("api_code"),
        "assurance": cells.text("assurance"),
        "shares": cells.slugs("shares") or None,
    }
    record["legal_basis"] = _legal_basis(row, cells)
    record["contact"] = {
        "phone": cells.text("contact_phone"),
        "email": cells.text("contact_email"),
        "url": cells.text("contact_url"),
        "hours": cells.pair("contact_hours"),
    }
    record["status"] = cells.text("status")
    record["alert"] = cells.pair("alert")
    record["last_reviewed"] = cells.text("last_reviewed") or today.isoformat()
    review_due = cells.text("review_due")
    if review_due is None:
        try:
            last = dt.date.fromisoformat(record["last_reviewed"])
        except ValueError:
            pass  # the date itself is reported
        else:
            review_due = (last + publishing_services.REVIEW_EVERY).isoformat()
    record["review_due"] = review_due
    popularity = cells.text("popularity")
    if popularity is not None:
        if popularity.isdigit():
            record["popularity"] = int(popularity)
        else:
            row.problem("popularity", WHOLE_NUMBER)
    return dict(_pruned(record))


def _cost(row: Row, cells: _Cells) -> dict[str, Any]:
    given_amounts = cells.items("fees_tzs")
    amounts = [
        int(item.replace(",", "").replace(" ", "")) for item in given_amounts if _AMOUNT.match(item)
    ]
    if len(amounts) != len(given_amounts):
        row.problem("fees_tzs", AMOUNTS)
    conditions = cells.parallel("fee_conditions_sw", "fee_conditions_en")
    if len(amounts) == len(given_amounts) and len(amounts) != len(conditions):
        row.problem(
            "fee_conditions_sw",
            SAME_COUNT,
            count=len(conditions),
            column="fees_tzs",
            other=len(amounts),
        )
    gepg: bool | None = None
    given = (cells.text("fees_gepg") or "").lower()
    if given in YES:
        gepg = True
    elif given in NO:
        gepg = False
    else:
        row.problem("fees_gepg", YES_OR_NO)
    return {
        "items": [
            {"amount_tzs": amount, "condition": {"sw": sw, "en": en}}
            for amount, (sw, en) in zip(amounts, conditions, strict=False)
        ],
        "gepg": gepg,
        "note": cells.pair("fee_note"),
    }


def _legal_basis(row: Row, cells: _Cells) -> list[dict[str, Any]]:
    titles = cells.items("legal_titles")
    urls = cells.items("legal_urls", keep_empty=True)
    if urls and len(urls) != len(titles):
        row.problem(
            "legal_urls", SAME_COUNT, count=len(urls), column="legal_titles", other=len(titles)
        )
    return [
        {"title": title, "url": url or None}
        for title, url in zip(titles, urls or [""] * len(titles), strict=False)
    ]


def _pruned(value: Any) -> Any:
    """The record without its empty parts (None), so that defaults apply and blanks are missing."""
    if isinstance(value, dict):
        return {key: _pruned(inner) for key, inner in value.items() if inner is not None}
    if isinstance(value, list):
        return [_pruned(inner) for inner in value]
    return value


# JSON


def _json_read(report: ImportReport, text: str, institution: str, max_rows: int) -> None:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        report.refuse(JSON_BROKEN, line=error.lineno, column=error.colno)
        return
    if isinstance(data, dict) and set(data) == {"services"}:
        data = data["services"]
    if not isinstance(data, list):
        report.refuse(JSON_SHAPE)
        return
    if len(data) > max_rows:
        report.refuse(TOO_MANY, limit=max_rows)
        return
    for index, item in enumerate(data, 1):
        row = Row(number=index, slug="")
        report.rows.append(row)
        if not isinstance(item, dict):
            row.problem("", NOT_AN_OBJECT)
            continue
        slug = item.get("slug")
        row.slug = slug.strip() if isinstance(slug, str) else ""
        for path, text_value in _strings(item, ()):
            if "<" in text_value or ">" in text_value:
                row.problem(_json_field(path), HTML)
        if not row.errors:
            _validate(row, {"institution": institution, **item}, csv_columns=False)


def _strings(
    value: Any, path: tuple[str | int, ...]
) -> Iterator[tuple[tuple[str | int, ...], str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, inner in value.items():
            yield from _strings(inner, (*path, str(key)))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from _strings(inner, (*path, index))


def _json_field(loc: Sequence[str | int]) -> str:
    """A record part as the report names it: dotted, list items counted from 1."""
    return ".".join(str(part + 1) if isinstance(part, int) else part for part in loc)


# Checking a record whole


def _validate(row: Row, record: dict[str, Any], *, csv_columns: bool) -> None:
    try:
        checked = ServiceIn.model_validate(record)
    except ValidationError as invalid:
        for error in invalid.errors(include_url=False):
            where, msgid, params = _plain(error, csv_columns=csv_columns)
            row.problem(where, msgid, **params)
        return
    row.record = None if row.errors else checked


def _csv_column(loc: Sequence[str | int]) -> str:
    parts = [part for part in loc if isinstance(part, str)]
    while parts:
        found = _PATH_COLUMNS.get(".".join(parts))
        if found:
            return found
        parts.pop()
    return ""


def _plain(error: Any, *, csv_columns: bool) -> tuple[str, str, dict[str, int | str]]:
    """Where a problem of the record is (a column, or a part) and what it means, plainly."""
    loc = tuple(error["loc"])
    kind = error["type"]
    context = error.get("ctx") or {}
    where = _csv_column(loc) if csv_columns else _json_field(loc)
    if kind in ("value_error", "assertion_error"):
        said = str(context.get("error", error.get("msg", "")))
        for words, column, part, msgid in _RULES:
            if words in said:
                return (column if csv_columns else part), msgid, {}
        return where, INVALID, {}
    last = next((part for part in reversed(loc) if isinstance(part, str)), "")
    if kind == "missing":
        return where, MISSING, {}
    if kind == "string_too_long":
        return where, TOO_LONG, {"limit": context.get("max_length", 0)}
    if kind == "string_too_short":
        return where, TOO_SHORT, {"limit": context.get("min_length", 0)}
    if kind == "too_short":
        return where, TOO_FEW, {"limit": context.get("min_length", 1)}
    if kind == "too_long":
        return where, TOO_MANY_ITEMS, {"limit": context.get("max_length", 0)}
    if kind == "string_pattern_mismatch":
        return where, _PATTERNS.get(last, INVALID), {}
    if kind == "enum":
        value = str(error.get("input", ""))[:60]
        return where, CHOICE, {"value": value, "choices": str(context.get("expected", ""))}
    if kind.startswith("url_"):
        return where, URL, {}
    if kind.startswith(("date_", "datetime_")):
        return where, DATE, {}
    if kind.startswith("int_"):
        return where, WHOLE_NUMBER, {}
    if kind.startswith("bool_"):
        return where, TRUE_OR_FALSE, {}
    if kind == "greater_than_equal":
        return where, TOO_SMALL, {"limit": context.get("ge", 0)}
    if kind == "less_than_equal":
        return where, TOO_BIG, {"limit": context.get("le", 0)}
    if kind == "extra_forbidden":
        return where, NOT_PART, {}
    if kind.endswith("_type"):
        return where, WRONG_KIND, {}
    return where, INVALID, {}


# What only the database knows


def import_check(
    *, session: Session, report: ImportReport, institution: Institution, every_institution: bool
) -> ImportReport:
    """Check each good record against the catalogue, and plan its draft. A publisher imports
    only `institution`'s services; a curator (`every_institution`) any institution's."""
    good = [row for row in report.rows if row.record is not None]
    records = [row.record for row in good if row.record is not None]
    if report.errors or not records:
        return report
    institutions = {
        found.slug: found
        for found in session.exec(
            select(Institution).where(
                col(Institution.slug).in_({record.institution for record in records})
            )
        ).all()
    }
    categories = set(
        session.exec(
            select(Category.slug).where(
                col(Category.slug).in_({slug for r in records for slug in r.categories})
            )
        ).all()
    )
    life_events = set(
        session.exec(
            select(LifeEvent.slug).where(
                col(LifeEvent.slug).in_({slug for r in records for slug in r.life_events})
            )
        ).all()
    )
    slugs = [record.slug for record in records]
    published = {
        service.slug: service
        for service in session.exec(select(Service).where(col(Service.slug).in_(slugs))).all()
    }
    drafts = {
        draft.slug: draft
        for draft in session.exec(
            select(Draft).where(col(Draft.slug).in_(slugs), col(Draft.state).in_(OPEN_STATES))
        ).all()
    }
    names = {found.id: found.acronym for found in institutions.values()}
    for row in good:
        record = row.record
        assert record is not None
        owner = institutions.get(record.institution)
        if not every_institution and record.institution != institution.slug:
            row.problem("institution", NOT_HERE, institution=institution.acronym)
        elif owner is None:
            row.problem("institution", NO_INSTITUTION, slug=record.institution)
        unknown = [slug for slug in record.categories if slug not in categories]
        if unknown:
            row.problem("categories", NO_CATEGORY, slugs=", ".join(unknown))
        unknown = [slug for slug in record.life_events if slug not in life_events]
        if unknown:
            row.problem("life_events", NO_LIFE_EVENT, slugs=", ".join(unknown))
        service = published.get(record.slug)
        draft = drafts.get(record.slug)
        if owner is not None and service is not None and service.institution_id != owner.id:
            row.problem(
                "slug", OTHER_SERVICE, institution=_acronym(session, names, service.institution_id)
            )
        elif owner is not None and draft is not None and draft.institution_id != owner.id:
            row.problem(
                "slug", OTHER_DRAFT, institution=_acronym(session, names, draft.institution_id)
            )
        elif draft is not None and draft.state == SUBMITTED:
            row.problem("slug", IN_REVIEW)
        if row.errors or owner is None:
            continue
        report.plans.append(
            Plan(row=row, record=record, institution=owner, service=service, draft=draft)
        )
    if report.bad_rows:
        report.plans = []
    return report


def _acronym(session: Session, names: dict[int | None, str], institution_id: int) -> str:
    if institution_id not in names:
        found = session.get(Institution, institution_id)
        names[institution_id] = found.acronym if found else "?"
    return names[institution_id]


# Writing the drafts


def import_apply(
    *,
    session: Session,
    report: ImportReport,
    actor: publishing_services.Actor,
    institution: Institution,
    now: dt.datetime,
) -> tuple[str, list[Imported]]:
    """Make (or update) a draft for every planned record, in the caller's unit of work, and
    record the import on the audit log; returns the import's reference and its drafts.
    Raises DraftRefused or DraftStale when the catalogue changed since `import_check`: the
    caller must then roll the whole unit of work back."""
    assert report.ok
    made: list[Imported] = []
    for plan in report.plans:
        dump = plan.record.model_dump(mode="json", exclude_none=True)
        draft = plan.draft
        if draft is None and plan.service is not None:
            draft = publishing_services.draft_for_service(
                session=session, service=plan.service, actor=actor, now=now
            )
        elif draft is None:
            draft = publishing_services.draft_new(
                session=session,
                institution=plan.institution,
                slug=plan.record.slug,
                actor=actor,
                now=now,
            )
        changes = {
            part: dump.get(part) for part in PARTS if draft.record.get(part) != dump.get(part)
        }
        if changes:
            publishing_services.draft_update(
                session=session,
                draft=draft,
                changes=changes,
                version=draft.version,
                actor=actor,
                now=now,
            )
        made.append(Imported(draft=draft, kind=_kind(plan, dump)))
    reference = secrets.token_urlsafe(12)
    audit_services.audit_record(
        session=session,
        actor_id=actor.user_id,
        actor=actor.name,
        action="import.apply",
        entity="import",
        entity_key=reference,
        institution=institution.slug,
        after={
            "file": report.filename[:200],
            "format": report.format,
            "drafts": [
                {"id": item.draft.id, "slug": item.draft.slug, "kind": item.kind} for item in made
            ],
        },
        now=now,
    )
    session.flush()
    return reference, made


def _kind(plan: Plan, dump: dict[str, Any]) -> Literal["new", "change", "same"]:
    if plan.service is None:
        return "new"
    published = ServiceIn.model_validate(catalogue_selectors.service_record(plan.service))
    return "same" if published.model_dump(mode="json", exclude_none=True) == dump else "change"


@dataclass(frozen=True)
class ImportResult:
    """An import as the audit log recorded it, with its drafts as they are now."""

    at: dt.datetime
    actor: str
    filename: str
    drafts: list[tuple[Draft, str]]  # each draft with its kind: new, change or same


def import_result(
    *, session: Session, reference: str, institution: Institution
) -> ImportResult | None:
    """What the import `reference` into `institution` made, or None if there is no such one."""
    entries = audit_selectors.audit_entries(
        session=session, entity="import", entity_key=reference, institution=institution.slug
    )
    if not entries or not isinstance(entries[0].after, dict):
        return None
    entry = entries[0]
    listed = [item for item in entry.after.get("drafts", []) if isinstance(item, dict)]
    found = {
        draft.id: draft
        for draft in session.exec(
            select(Draft).where(col(Draft.id).in_([item.get("id") for item in listed]))
        ).all()
    }
    drafts = [
        (found[item["id"]], str(item.get("kind", ""))) for item in listed if item.get("id") in found
    ]
    return ImportResult(
        at=entry.at, actor=entry.actor, filename=str(entry.after.get("file", "")), drafts=drafts
    )


# Exporting


def export_services(*, session: Session, institution: Institution | None) -> list[Service]:
    """The published services of `institution` (of every institution: None), by slug."""
    slugs = None
    if institution is not None:
        slugs = list(
            session.exec(select(Service.slug).where(Service.institution_id == institution.id))
        )
    return catalogue_selectors.service_list_full(session=session, slugs=slugs)


def export_records(services: Iterable[Service]) -> list[dict[str, Any]]:
    """Published services as records of the import shape, each checked as `ServiceIn`."""
    return [
        ServiceIn.model_validate(catalogue_selectors.service_record(service)).model_dump(
            mode="json", exclude_none=True
        )
        for service in services
    ]


def json_export(records: Sequence[Mapping[str, Any]]) -> bytes:
    return (json.dumps({"services": list(records)}, ensure_ascii=False, indent=2) + "\n").encode()


def csv_export(records: Iterable[Mapping[str, Any]]) -> bytes:
    """A CSV file of records for spreadsheets: UTF-8 with a byte-order mark (so Excel reads it
    as UTF-8), CRLF, commas, every column of `COLUMNS`, formula-like cells neutralised."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMN_NAMES)
    for record in records:
        row = record_row(record)
        writer.writerow([_neutralised(row[name]) for name in COLUMN_NAMES])
    return b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8")


def _neutralised(cell: str) -> str:
    """A cell a spreadsheet will show as text, never run: a quote before a formula-like start."""
    return "'" + cell if cell[:1] in (*FORMULA_STARTS, "'") else cell


def _joined(items: Iterable[str]) -> str:
    return SEPARATOR.join(item.replace("|", "\\|") for item in items)


def record_row(record: Mapping[str, Any]) -> dict[str, str]:
    """A record (a `ServiceIn` dump) as the cells of one CSV row, by column name."""
    row: dict[str, str] = {"slug": record["slug"], "institution": record["institution"]}

    def pair(base: str, value: Mapping[str, str] | None) -> None:
        for lang in LANGUAGES:
            row[f"{base}_{lang}"] = (value or {}).get(lang, "")

    for base in _TEXTS:
        pair(base, record.get(base))
    for base in ("alternative_names", "steps"):
        lists = record.get(base) or {}
        for lang in LANGUAGES:
            row[f"{base}_{lang}"] = _joined(lists.get(lang, []))
    for name in ("categories", "life_events", "audience", "identifiers"):
        row[name] = " ".join(record.get(name, []))
    documents = record.get("required_documents", [])
    for lang in LANGUAGES:
        row[f"documents_{lang}"] = _joined(document[lang] for document in documents)
    cost = record["cost"]
    items = cost.get("items", [])
    row["fees_tzs"] = _joined(str(item["amount_tzs"]) for item in items)
    for lang in LANGUAGES:
        row[f"fee_conditions_{lang}"] = _joined(item["condition"][lang] for item in items)
    row["fees_gepg"] = "yes" if cost["gepg"] else "no"
    pair("fee_note", cost.get("note"))
    row["processing_time"] = record["processing_time"]
    pair("processing_time_note", record.get("processing_time_note"))
    channels = record.get("channels", {})
    for name in ("online_url", "ussd", "sms", "app"):
        row[name] = channels.get(name, "")
    pair("office", channels.get("office"))
    launch = record.get("launch", {})
    row["launch_mode"] = launch.get("mode", "")
    row["api_code"] = launch.get("api_code", "")
    row["assurance"] = launch.get("assurance", "")
    row["shares"] = " ".join(launch.get("shares", []))
    legal = record.get("legal_basis", [])
    row["legal_titles"] = _joined(item["title"] for item in legal)
    urls = [item.get("url", "") for item in legal]
    row["legal_urls"] = _joined(urls) if any(urls) else ""
    contact = record.get("contact", {})
    for name in ("phone", "email", "url"):
        row[f"contact_{name}"] = contact.get(name, "")
    pair("contact_hours", contact.get("hours"))
    row["status"] = record.get("status", "")
    pair("alert", record.get("alert"))
    row["last_reviewed"] = str(record.get("last_reviewed", ""))
    row["review_due"] = str(record.get("review_due", ""))
    row["popularity"] = str(record.get("popularity", 0))
    return row


def example_record(*, institution: str, category: str, today: dt.date) -> dict[str, Any]:
    """The example service of the template: a complete record, for `institution`."""
    return ServiceIn.model_validate(
        {
            "slug": f"{institution}-huduma-ya-mfano"[:80],
            "institution": institution,
            "name": {"sw": "Huduma ya mfano", "en": "An example service"},
            "alternative_names": {"sw": ["mfano", "jaribio"], "en": ["example", "sample"]},
            "summary": {
                "sw": "Sentensi moja inayoeleza huduma hii inafanya nini.",
                "en": "One sentence saying what this service does.",
            },
            "description": {
                "sw": "Maelezo kamili ya huduma: nani anaihitaji, inapatikana wapi na inachukua"
                " muda gani.",
                "en": "The full description of the service: who needs it, where it is found and"
                " how long it takes.",
            },
            "steps": {
                "sw": ["Fungua tovuti ya huduma.", "Jaza fomu na ulipe ada."],
                "en": ["Open the service's website.", "Fill in the form and pay the fee."],
            },
            "categories": [category],
            "audience": [Audience.citizen.value],
            "eligibility": {"sw": "Raia yeyote wa Tanzania.", "en": "Any Tanzanian citizen."},
            "required_documents": [
                {"sw": "Kitambulisho cha taifa", "en": "National ID"},
            ],
            "identifiers": [Identifier.NIN.value, Identifier.CONTROL_NUMBER.value],
            "output": {"sw": "Cheti cha kielektroniki", "en": "An electronic certificate"},
            "cost": {
                "items": [
                    {"amount_tzs": 0, "condition": {"sw": "Kuomba", "en": "To apply"}},
                    {"amount_tzs": 5000, "condition": {"sw": "Cheti", "en": "The certificate"}},
                ],
                "gepg": True,
            },
            "processing_time": "P7D",
            "channels": {
                "online_url": f"https://www.{institution}.go.tz/",
                "office": {"sw": "Ofisi za mikoa", "en": "Regional offices"},
            },
            "launch": {
                "mode": LaunchMode.link.value,
                "assurance": Assurance.low.value,
                "shares": [SharedAttribute.nin.value],
            },
            "status": Status.active.value,
            "last_reviewed": today.isoformat(),
            "review_due": (today + publishing_services.REVIEW_EVERY).isoformat(),
        }
    ).model_dump(mode="json", exclude_none=True)


def csv_template(*, institution: str, category: str, today: dt.date) -> bytes:
    """The template: the header and one example row to replace."""
    return csv_export([example_record(institution=institution, category=category, today=today)])


def column_choices() -> dict[str, str]:
    """The values some columns take, for the column list."""
    return {
        "audience": _choices(Audience),
        "identifiers": _choices(Identifier),
        "launch_mode": _choices(LaunchMode),
        "assurance": _choices(Assurance),
        "shares": _choices(SharedAttribute),
        "status": _choices(Status),
    }
