"""The publishing forms as the server checks them, and the record parts each section edits.

A draft is edited one section at a time. A section's form model checks lengths, required answers
and choices; the section then turns the answers into the record parts it owns, shaped exactly as
`ServiceIn` expects, and checks those parts with `ServiceIn` itself: a section that saves is
valid on its own, whatever the rest of the draft still lacks.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, cast

from pydantic import BaseModel, Field, ValidationError, create_model

from portal.catalogue.schemas import (
    SLUG_PATTERN,
    Assurance,
    Audience,
    Identifier,
    LaunchMode,
    ServiceIn,
    SharedAttribute,
    Status,
    parse_duration,
)
from portal.web.forms import N_, Messages, Value

LINE_MAX = 300  # a record's Line
PROSE_MAX = 4000  # a record's Prose
LIST_MAX = 30  # lines in a list of names, steps, documents or laws
LINES_MAX = LIST_MAX * (LINE_MAX + 2)
FEE_ROWS = 20  # fee rows a form can hold (a page shows those in use and one more)
NOTE_MAX = 500  # a change note (the draft keeps 500 characters)
ANSWER_MAX = 2000  # an answer to a curator (a review note keeps 2,000)

Short = Annotated[str, Field(max_length=LINE_MAX)]
Long = Annotated[str, Field(max_length=PROSE_MAX)]
LinesText = Annotated[str, Field(max_length=LINES_MAX)]
Url = Annotated[str, Field(max_length=500)]

INVALID = N_("Check what you entered")
URL_WRONG = N_("Enter a full web address, starting with https://")
LINE_TOO_LONG = N_("Line %(line)s is too long: keep each line to 300 characters or fewer")
TOO_MANY_LINES = N_("Give no more than %(limit)s lines")

# The record's parts, as a page names them (problems, comparisons).
PART_LABELS: dict[str, str] = {
    "slug": N_("Address"),
    "institution": N_("Institution"),
    "name": N_("Name"),
    "alternative_names": N_("Other names"),
    "summary": N_("Summary"),
    "description": N_("Description"),
    "output": N_("What the person receives"),
    "steps": N_("Steps"),
    "audience": N_("Who it is for"),
    "eligibility": N_("Who can use it"),
    "required_documents": N_("Documents needed"),
    "identifiers": N_("Numbers asked for"),
    "cost": N_("Cost"),
    "processing_time": N_("Processing time"),
    "processing_time_note": N_("Note on the processing time"),
    "channels": N_("Ways to use the service"),
    "launch": N_("How the service starts"),
    "legal_basis": N_("Legal basis"),
    "contact": N_("Contact"),
    "categories": N_("Categories"),
    "life_events": N_("Life events"),
    "status": N_("Status"),
    "alert": N_("Notice to the public"),
    "last_reviewed": N_("Last reviewed"),
    "review_due": N_("Review due"),
    "popularity": N_("Popularity"),
}


class DraftForm(BaseModel):
    """Every form that changes a draft carries the draft version it was shown (hidden)."""

    version: Annotated[str, Field(max_length=20)] | None = None


def version_of(value: Value) -> int | None:
    """The draft version a form was shown with, or None when it is missing or not a number."""
    return _whole(value, 18) if isinstance(value, str) else None


def _whole(text: str, digits: int) -> int | None:
    """A whole number written in at most `digits` ASCII digits, or None."""
    if text.isascii() and text.isdigit() and len(text) <= digits:
        return int(text)
    return None


class NewServiceIn(BaseModel):
    slug: Annotated[
        str,
        Field(min_length=2, max_length=80, pattern=SLUG_PATTERN),
        Messages(
            missing=N_("Enter the address of the new service"),
            too_short=N_("Enter an address of at least 2 characters"),
            too_long=N_("Enter an address of 80 characters or fewer"),
            invalid=N_(
                "Use only small letters, digits and single hyphens, like rita-cheti-cha-ndoa"
            ),
        ),
    ]


class SubmitIn(DraftForm):
    note: Annotated[
        str,
        Field(max_length=NOTE_MAX),
        Messages(
            missing=N_("Say what changed, for the curators and the record"),
            too_long=N_("Keep the change note to %(limit)s characters or fewer"),
        ),
    ]


class AnswerIn(DraftForm):
    answer: Annotated[
        str,
        Field(max_length=ANSWER_MAX),
        Messages(
            missing=N_("Write your answer to the curator"),
            too_long=N_("Keep your answer to %(limit)s characters or fewer"),
        ),
    ]


class DiscardIn(DraftForm):
    confirm: Annotated[
        Literal["yes"], Messages(missing=N_("Tick the box to confirm you want to discard it"))
    ]


@dataclass(frozen=True)
class Terms:
    """The catalogue's categories and life events a draft may name."""

    categories: frozenset[str] = frozenset()
    life_events: frozenset[str] = frozenset()


Problem = tuple[str, str, dict[str, int | str]]  # form field, msgid, its parameters


class SectionInvalid(ValueError):
    """A section's answers cannot make valid record parts: one message per field."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("section invalid")
        self.problems = problems


@dataclass(frozen=True)
class Section:
    """One page of the draft editor: its form, the record parts it owns, and how answers and
    record parts turn into each other."""

    slug: str
    title: str  # msgid
    form: type[DraftForm]
    parts: tuple[str, ...]
    values: Callable[[Mapping[str, Any]], dict[str, Value]]  # record -> answers
    changes: Callable[[Any, Terms], dict[str, Any]]  # answers -> record parts (None removes)
    # Where a `ServiceIn` problem of a part is shown: record path prefix -> (field, msgid).
    fields: Mapping[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def template(self) -> str:
        return f"publishing/_section_{self.slug.replace('-', '_')}.html"


# Reading a record defensively: a draft may hold anything an import or an older page left.


def _get(record: Mapping[str, Any], *path: str) -> Any:
    value: Any = record
    for name in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(name)
    return value


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return ""
    return str(value) if isinstance(value, str | int) else ""


def _joined(value: Any) -> str:
    return "\n".join(_text(item) for item in value) if isinstance(value, list) else ""


def _list(value: Any) -> list[str]:
    return [_text(item) for item in value] if isinstance(value, list) else []


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _pair(sw: str | None, en: str | None, sw_field: str, en_field: str) -> dict[str, str] | None:
    """A bilingual text that may be left out, but not given in one language only."""
    if sw and en:
        return {"sw": sw, "en": en}
    if sw:
        raise SectionInvalid([(en_field, N_("Enter it in English too"), {})])
    if en:
        raise SectionInvalid([(sw_field, N_("Enter it in Swahili too"), {})])
    return None


def _check_count(lines: list[str], form_field: str, problems: list[Problem]) -> None:
    if len(lines) > LIST_MAX:
        problems.append((form_field, TOO_MANY_LINES, {"limit": LIST_MAX}))


def _raise(problems: list[Problem]) -> None:
    if problems:
        raise SectionInvalid(problems)


def section_changes(
    section: Section, data: BaseModel, record: Mapping[str, Any], terms: Terms
) -> dict[str, Any]:
    """The record parts a section's valid answers make, checked with `ServiceIn`; raises
    SectionInvalid with the problems, each on the field that fixes it."""
    changes = section.changes(data, terms)
    merged = {**record}
    for name, value in changes.items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = value
    try:
        ServiceIn.model_validate(merged)
    except ValidationError as error:
        problems: dict[str, Problem] = {}
        for problem in error.errors(include_url=False):
            loc = problem["loc"]
            if not loc or loc[0] not in section.parts:
                continue
            found = _problem_field(section, loc)
            problems.setdefault(found[0], found)
        _raise(list(problems.values()))
    return changes


def _problem_field(section: Section, loc: tuple[int | str, ...]) -> Problem:
    path = ".".join(str(part) for part in loc if not isinstance(part, int))
    index = next((part for part in loc if isinstance(part, int)), None)
    prefixes = sorted(section.fields, key=len, reverse=True)
    prefix = next((p for p in prefixes if path == p or path.startswith(p + ".")), None)
    params: dict[str, int | str] = {"line": index + 1} if index is not None else {}
    if prefix is None:
        first = next((name for name in section.form.model_fields if name != "version"), "")
        return (first, INVALID, {})
    form_field, msgid = section.fields[prefix]
    return (form_field, msgid, params if "%(line)s" in msgid else {})


# majina: names


class NamesIn(DraftForm):
    name_sw: Annotated[Short, Messages(missing=N_("Enter the name in Swahili"))]
    name_en: Annotated[Short, Messages(missing=N_("Enter the name in English"))]
    aka_sw: LinesText | None = None
    aka_en: LinesText | None = None


def _names_values(record: Mapping[str, Any]) -> dict[str, Value]:
    return {
        "name_sw": _text(_get(record, "name", "sw")),
        "name_en": _text(_get(record, "name", "en")),
        "aka_sw": _joined(_get(record, "alternative_names", "sw")),
        "aka_en": _joined(_get(record, "alternative_names", "en")),
    }


def _names_changes(data: NamesIn, _terms: Terms) -> dict[str, Any]:
    problems: list[Problem] = []
    aka_sw, aka_en = _lines(data.aka_sw), _lines(data.aka_en)
    _check_count(aka_sw, "aka_sw", problems)
    _check_count(aka_en, "aka_en", problems)
    _raise(problems)
    return {
        "name": {"sw": data.name_sw, "en": data.name_en},
        "alternative_names": {"sw": aka_sw, "en": aka_en},
    }


# muhtasari: summary, description and what the person receives


class SummaryIn(DraftForm):
    summary_sw: Annotated[Short, Messages(missing=N_("Enter the summary in Swahili"))]
    summary_en: Annotated[Short, Messages(missing=N_("Enter the summary in English"))]
    description_sw: Annotated[Long, Messages(missing=N_("Enter the description in Swahili"))]
    description_en: Annotated[Long, Messages(missing=N_("Enter the description in English"))]
    output_sw: Annotated[Short, Messages(missing=N_("Say in Swahili what the person receives"))]
    output_en: Annotated[Short, Messages(missing=N_("Say in English what the person receives"))]


def _summary_values(record: Mapping[str, Any]) -> dict[str, Value]:
    return {
        f"{part}_{language}": _text(_get(record, part, language))
        for part in ("summary", "description", "output")
        for language in ("sw", "en")
    }


def _summary_changes(data: SummaryIn, _terms: Terms) -> dict[str, Any]:
    return {
        "summary": {"sw": data.summary_sw, "en": data.summary_en},
        "description": {"sw": data.description_sw, "en": data.description_en},
        "output": {"sw": data.output_sw, "en": data.output_en},
    }


# hatua: steps


class StepsIn(DraftForm):
    steps_sw: Annotated[LinesText, Messages(missing=N_("Enter the steps in Swahili"))]
    steps_en: Annotated[LinesText, Messages(missing=N_("Enter the steps in English"))]


def _steps_values(record: Mapping[str, Any]) -> dict[str, Value]:
    return {
        "steps_sw": _joined(_get(record, "steps", "sw")),
        "steps_en": _joined(_get(record, "steps", "en")),
    }


def _steps_changes(data: StepsIn, _terms: Terms) -> dict[str, Any]:
    problems: list[Problem] = []
    sw, en = _lines(data.steps_sw), _lines(data.steps_en)
    _check_count(sw, "steps_sw", problems)
    _check_count(en, "steps_en", problems)
    if not problems and len(sw) != len(en):
        problems.append(
            (
                "steps_en",
                N_(
                    "Give as many steps in English as in Swahili: "
                    "%(sw)s in Swahili, %(en)s in English"
                ),
                {"sw": len(sw), "en": len(en)},
            )
        )
    _raise(problems)
    return {"steps": {"sw": sw, "en": en}}


# wanaostahili: who it is for, who can use it, what they need


class AudienceIn(DraftForm):
    audience: Annotated[
        list[Audience],
        Messages(missing=N_("Select who the service is for"), choice=N_("Select from the list")),
    ]
    eligibility_sw: Annotated[Short, Messages(missing=N_("Say in Swahili who can use it"))]
    eligibility_en: Annotated[Short, Messages(missing=N_("Say in English who can use it"))]
    documents: LinesText | None = None
    identifiers: Annotated[list[Identifier], Messages(choice=N_("Select from the list"))] = []


def _audience_values(record: Mapping[str, Any]) -> dict[str, Value]:
    documents = _get(record, "required_documents")
    lines = [
        f"{_text(_get(document, 'sw'))} | {_text(_get(document, 'en'))}"
        for document in (documents if isinstance(documents, list) else [])
        if isinstance(document, Mapping)
    ]
    return {
        "audience": _list(_get(record, "audience")),
        "eligibility_sw": _text(_get(record, "eligibility", "sw")),
        "eligibility_en": _text(_get(record, "eligibility", "en")),
        "documents": "\n".join(lines),
        "identifiers": _list(_get(record, "identifiers")),
    }


def _audience_changes(data: AudienceIn, _terms: Terms) -> dict[str, Any]:
    problems: list[Problem] = []
    documents: list[dict[str, str]] = []
    lines = _lines(data.documents)
    _check_count(lines, "documents", problems)
    for number, line in enumerate(lines, 1):
        parts = [part.strip() for part in line.split("|")]
        if len(parts) != 2 or not all(parts):
            problems.append(
                (
                    "documents",
                    N_("Line %(line)s: write the document in Swahili, then “|”, then in English"),
                    {"line": number},
                )
            )
            break
        documents.append({"sw": parts[0], "en": parts[1]})
    _raise(problems)
    return {
        "audience": list(dict.fromkeys(a.value for a in data.audience)),
        "eligibility": {"sw": data.eligibility_sw, "en": data.eligibility_en},
        "required_documents": documents,
        "identifiers": list(dict.fromkeys(i.value for i in data.identifiers)),
    }


# gharama: fees


class _CostBase(DraftForm):
    gepg: Annotated[
        Literal["yes", "no"],
        Messages(missing=N_("Select whether it is paid with a GePG control number")),
    ]
    note_sw: Short | None = None
    note_en: Short | None = None


_fee_fields: dict[str, Any] = {
    f"fee{number}_{part}": (
        (Annotated[str, Field(max_length=20)] if part == "amount" else Short) | None,
        None,
    )
    for number in range(1, FEE_ROWS + 1)
    for part in ("amount", "sw", "en")
}
CostIn = cast(type[_CostBase], create_model("CostIn", __base__=_CostBase, **_fee_fields))

_AMOUNT_NOISE = re.compile(r"^(?:tsh\.?|tzs)|/=$|[\s,]", re.IGNORECASE)
AMOUNT_MAX = 1_000_000_000


def _amount(text: str) -> int | None:
    digits = _AMOUNT_NOISE.sub("", text)
    return _whole(digits, 12)


def _cost_values(record: Mapping[str, Any]) -> dict[str, Value]:
    items = _get(record, "cost", "items")
    values: dict[str, Value] = {}
    for number, item in enumerate(items if isinstance(items, list) else [], 1):
        if number > FEE_ROWS or not isinstance(item, Mapping):
            break
        values[f"fee{number}_amount"] = _text(item.get("amount_tzs"))
        values[f"fee{number}_sw"] = _text(_get(item, "condition", "sw"))
        values[f"fee{number}_en"] = _text(_get(item, "condition", "en"))
    gepg = _get(record, "cost", "gepg")
    values["gepg"] = "yes" if gepg is True else "no" if gepg is False else ""
    values["note_sw"] = _text(_get(record, "cost", "note", "sw"))
    values["note_en"] = _text(_get(record, "cost", "note", "en"))
    return values


def fee_rows(values: Mapping[str, Value]) -> int:
    """How many fee rows a page shows: those filled in and one more (at least two)."""
    used = [
        number
        for number in range(1, FEE_ROWS + 1)
        if any(values.get(f"fee{number}_{part}") for part in ("amount", "sw", "en"))
    ]
    return min(FEE_ROWS, max([2, *(n + 1 for n in used)]))


def _cost_changes(data: _CostBase, _terms: Terms) -> dict[str, Any]:
    problems: list[Problem] = []
    items: list[dict[str, Any]] = []
    for number in range(1, FEE_ROWS + 1):
        amount, sw, en = (getattr(data, f"fee{number}_{part}") for part in ("amount", "sw", "en"))
        if not (amount or sw or en):
            continue
        value = _amount(amount) if amount else None
        row: dict[str, int | str] = {"number": number}
        if not amount:
            problems.append(
                (f"fee{number}_amount", N_("Enter the amount of fee %(number)s (0 if free)"), row)
            )
        elif value is None:
            problems.append(
                (
                    f"fee{number}_amount",
                    N_("Enter the amount of fee %(number)s in shillings, like 3500"),
                    row,
                )
            )
        elif value > AMOUNT_MAX:
            problems.append(
                (f"fee{number}_amount", N_("Enter an amount of 1,000,000,000 or less"), {})
            )
        if not sw:
            problems.append(
                (f"fee{number}_sw", N_("Say in Swahili when fee %(number)s applies"), row)
            )
        if not en:
            problems.append(
                (f"fee{number}_en", N_("Say in English when fee %(number)s applies"), row)
            )
        if value is not None and sw and en:
            items.append({"amount_tzs": value, "condition": {"sw": sw, "en": en}})
    _raise(problems)
    cost: dict[str, Any] = {"items": items, "gepg": data.gepg == "yes"}
    note = _pair(data.note_sw, data.note_en, "note_sw", "note_en")
    if note is not None:
        cost["note"] = note
    return {"cost": cost}


# muda: processing time

Unit = Literal["minutes", "hours", "days", "weeks"]
_UNIT_FORMAT: dict[str, str] = {
    "minutes": "PT{}M",
    "hours": "PT{}H",
    "days": "P{}D",
    "weeks": "P{}W",
}
_SIMPLE_DURATION = re.compile(r"^P(?:(\d+)W|(\d+)D|T(\d+)H|T(\d+)M)$")


class TimeIn(DraftForm):
    time_amount: Annotated[
        str,
        Field(max_length=6),
        Messages(missing=N_("Enter how long it takes, as a number")),
    ]
    time_unit: Annotated[Unit, Messages(missing=N_("Select minutes, hours, days or weeks"))]
    note_sw: Short | None = None
    note_en: Short | None = None


def _duration_parts(text: str) -> tuple[str, str]:
    """An ISO duration as a number and a unit, in the unit it was written in where it can."""
    match = _SIMPLE_DURATION.match(text)
    if match:
        weeks, days, hours, minutes = match.groups()
        for number, unit in ((weeks, "weeks"), (days, "days"), (hours, "hours")):
            if number:
                return number, unit
        return minutes, "minutes"
    try:
        seconds = int(parse_duration(text).total_seconds())
    except ValueError:
        return "", ""
    for size, unit in ((7 * 86400, "weeks"), (86400, "days"), (3600, "hours")):
        if seconds and seconds % size == 0:
            return str(seconds // size), unit
    return str(seconds // 60), "minutes"


def _time_values(record: Mapping[str, Any]) -> dict[str, Value]:
    amount, unit = _duration_parts(_text(_get(record, "processing_time")))
    return {
        "time_amount": amount,
        "time_unit": unit,
        "note_sw": _text(_get(record, "processing_time_note", "sw")),
        "note_en": _text(_get(record, "processing_time_note", "en")),
    }


def _time_changes(data: TimeIn, _terms: Terms) -> dict[str, Any]:
    amount = data.time_amount.replace(",", "").replace(" ", "")
    number = _whole(amount, 4)
    if number is None or number < 1:
        raise SectionInvalid(
            [("time_amount", N_("Enter a whole number from 1 to 9,999, like 7"), {})]
        )
    note = _pair(data.note_sw, data.note_en, "note_sw", "note_en")
    return {
        "processing_time": _UNIT_FORMAT[data.time_unit].format(number),
        "processing_time_note": note,
    }


# njia: ways to use the service


class ChannelsIn(DraftForm):
    online_url: Url | None = None
    ussd: Annotated[str, Field(max_length=30)] | None = None
    sms: Annotated[str, Field(max_length=10)] | None = None
    app: Short | None = None
    office_sw: Short | None = None
    office_en: Short | None = None


def _channels_values(record: Mapping[str, Any]) -> dict[str, Value]:
    return {
        "online_url": _text(_get(record, "channels", "online_url")),
        "ussd": _text(_get(record, "channels", "ussd")),
        "sms": _text(_get(record, "channels", "sms")),
        "app": _text(_get(record, "channels", "app")),
        "office_sw": _text(_get(record, "channels", "office", "sw")),
        "office_en": _text(_get(record, "channels", "office", "en")),
    }


def _channels_changes(data: ChannelsIn, _terms: Terms) -> dict[str, Any]:
    office = _pair(data.office_sw, data.office_en, "office_sw", "office_en")
    given = {"online_url": data.online_url, "ussd": data.ussd, "sms": data.sms, "app": data.app}
    channels: dict[str, Any] = {name: value for name, value in given.items() if value}
    if office is not None:
        channels["office"] = office
    if not channels:
        raise SectionInvalid([("online_url", N_("Give at least one way to use the service"), {})])
    return {"channels": channels}


# kuanza: how the service starts


class LaunchIn(DraftForm):
    mode: Annotated[LaunchMode, Messages(missing=N_("Select how the service starts"))]
    api_code: Annotated[str, Field(max_length=64)] | None = None
    assurance: Annotated[
        Assurance, Messages(missing=N_("Select how surely the person must be identified"))
    ]
    shares: Annotated[list[SharedAttribute], Messages(choice=N_("Select from the list"))] = []


def _launch_values(record: Mapping[str, Any]) -> dict[str, Value]:
    launch = _get(record, "launch")
    if not isinstance(launch, Mapping):  # the record's default
        launch = {"mode": "link", "assurance": "low", "shares": [a.value for a in SharedAttribute]}
    shares = launch.get("shares", [attribute.value for attribute in SharedAttribute])
    return {
        "mode": _text(launch.get("mode")),
        "api_code": _text(launch.get("api_code")),
        "assurance": _text(launch.get("assurance")),
        "shares": [name for name in _list(shares) if name != SharedAttribute.nin],
    }


def _launch_changes(data: LaunchIn, _terms: Terms) -> dict[str, Any]:
    api_code = (data.api_code or "").upper()
    if data.mode is LaunchMode.govesb and not api_code:
        raise SectionInvalid([("api_code", N_("Enter the GovESB API code"), {})])
    if data.mode is LaunchMode.link and api_code:
        raise SectionInvalid(
            [("api_code", N_("Leave the API code empty for a link, or choose GovESB"), {})]
        )
    chosen = {SharedAttribute.nin, *data.shares}
    launch: dict[str, Any] = {
        "mode": data.mode.value,
        "assurance": data.assurance.value,
        "shares": [attribute.value for attribute in SharedAttribute if attribute in chosen],
    }
    if api_code:
        launch["api_code"] = api_code
    return {"launch": launch}


# sheria-mawasiliano: legal basis and contact


class LegalContactIn(DraftForm):
    laws: LinesText | None = None
    phone: Annotated[str, Field(max_length=30)] | None = None
    email: Annotated[str, Field(max_length=254)] | None = None
    contact_url: Url | None = None
    hours_sw: Short | None = None
    hours_en: Short | None = None


def _legal_values(record: Mapping[str, Any]) -> dict[str, Value]:
    laws = _get(record, "legal_basis")
    lines = [
        _text(law.get("title")) + (f" | {_text(law['url'])}" if law.get("url") else "")
        for law in (laws if isinstance(laws, list) else [])
        if isinstance(law, Mapping)
    ]
    return {
        "laws": "\n".join(lines),
        "phone": _text(_get(record, "contact", "phone")),
        "email": _text(_get(record, "contact", "email")),
        "contact_url": _text(_get(record, "contact", "url")),
        "hours_sw": _text(_get(record, "contact", "hours", "sw")),
        "hours_en": _text(_get(record, "contact", "hours", "en")),
    }


def _legal_changes(data: LegalContactIn, _terms: Terms) -> dict[str, Any]:
    problems: list[Problem] = []
    laws: list[dict[str, str]] = []
    lines = _lines(data.laws)
    _check_count(lines, "laws", problems)
    for number, line in enumerate(lines, 1):
        parts = [part.strip() for part in line.split("|")]
        if len(parts) > 2 or not parts[0] or (len(parts) == 2 and not parts[1]):
            problems.append(
                (
                    "laws",
                    N_(
                        "Line %(line)s: write the title, then “|” and its web address if it has one"
                    ),
                    {"line": number},
                )
            )
            break
        laws.append({"title": parts[0], **({"url": parts[1]} if len(parts) == 2 else {})})
    _raise(problems)
    hours = _pair(data.hours_sw, data.hours_en, "hours_sw", "hours_en")
    contact: dict[str, Any] = {
        name: value
        for name, value in (
            ("phone", data.phone),
            ("email", data.email),
            ("url", data.contact_url),
            ("hours", hours),
        )
        if value
    }
    return {"legal_basis": laws, "contact": contact}


# makundi: categories and life events


class TermsIn(DraftForm):
    categories: Annotated[
        list[Annotated[str, Field(max_length=80)]],
        Messages(missing=N_("Select at least one category")),
    ]
    life_events: list[Annotated[str, Field(max_length=80)]] = []


def _terms_values(record: Mapping[str, Any]) -> dict[str, Value]:
    return {
        "categories": _list(_get(record, "categories")),
        "life_events": _list(_get(record, "life_events")),
    }


def _terms_changes(data: TermsIn, terms: Terms) -> dict[str, Any]:
    problems: list[Problem] = []
    if not set(data.categories) <= terms.categories:
        problems.append(("categories", N_("Select categories from the list"), {}))
    if not set(data.life_events) <= terms.life_events:
        problems.append(("life_events", N_("Select life events from the list"), {}))
    _raise(problems)
    return {
        "categories": sorted(set(data.categories)),
        "life_events": sorted(set(data.life_events)),
    }


# hali: status and notice


class StatusIn(DraftForm):
    status: Annotated[Status, Messages(missing=N_("Select whether the service is available"))]
    alert_sw: Short | None = None
    alert_en: Short | None = None


def _status_values(record: Mapping[str, Any]) -> dict[str, Value]:
    return {
        "status": _text(_get(record, "status")) or Status.active.value,
        "alert_sw": _text(_get(record, "alert", "sw")),
        "alert_en": _text(_get(record, "alert", "en")),
    }


def _status_changes(data: StatusIn, _terms: Terms) -> dict[str, Any]:
    if data.status is not Status.active:
        problems: list[Problem] = []
        if not data.alert_sw:
            problems.append(("alert_sw", N_("Explain in Swahili why it is not available"), {}))
        if not data.alert_en:
            problems.append(("alert_en", N_("Explain in English why it is not available"), {}))
        _raise(problems)
    alert = _pair(data.alert_sw, data.alert_en, "alert_sw", "alert_en")
    return {"status": data.status.value, "alert": alert}


SECTIONS: dict[str, Section] = {
    section.slug: section
    for section in (
        Section(
            "majina",
            N_("Names"),
            NamesIn,
            ("name", "alternative_names"),
            _names_values,
            _names_changes,
            {
                "name.sw": ("name_sw", INVALID),
                "name.en": ("name_en", INVALID),
                "alternative_names.sw": ("aka_sw", LINE_TOO_LONG),
                "alternative_names.en": ("aka_en", LINE_TOO_LONG),
            },
        ),
        Section(
            "muhtasari",
            N_("Summary and description"),
            SummaryIn,
            ("summary", "description", "output"),
            _summary_values,
            _summary_changes,
        ),
        Section(
            "hatua",
            N_("Steps"),
            StepsIn,
            ("steps",),
            _steps_values,
            _steps_changes,
            {"steps.sw": ("steps_sw", LINE_TOO_LONG), "steps.en": ("steps_en", LINE_TOO_LONG)},
        ),
        Section(
            "wanaostahili",
            N_("Who it is for and what they need"),
            AudienceIn,
            ("audience", "eligibility", "required_documents", "identifiers"),
            _audience_values,
            _audience_changes,
            {"required_documents": ("documents", LINE_TOO_LONG)},
        ),
        Section("gharama", N_("Cost"), CostIn, ("cost",), _cost_values, _cost_changes),
        Section(
            "muda",
            N_("Processing time"),
            TimeIn,
            ("processing_time", "processing_time_note"),
            _time_values,
            _time_changes,
        ),
        Section(
            "njia",
            N_("Ways to use the service"),
            ChannelsIn,
            ("channels",),
            _channels_values,
            _channels_changes,
            {
                "channels.online_url": ("online_url", URL_WRONG),
                "channels.ussd": ("ussd", N_("Enter a USSD code like *152*00#")),
                "channels.sms": ("sms", N_("Enter an SMS number of 3 to 6 digits, like 15200")),
                "channels": ("online_url", N_("Give at least one way to use the service")),
            },
        ),
        Section(
            "kuanza",
            N_("How the service starts"),
            LaunchIn,
            ("launch",),
            _launch_values,
            _launch_changes,
            {
                "launch.api_code": (
                    "api_code",
                    N_(
                        "Enter the API code in capital letters, digits, “-” and “_”, "
                        "like RITA-BIRTH-REG"
                    ),
                ),
            },
        ),
        Section(
            "sheria-mawasiliano",
            N_("Legal basis and contact"),
            LegalContactIn,
            ("legal_basis", "contact"),
            _legal_values,
            _legal_changes,
            {
                "legal_basis.url": (
                    "laws",
                    N_("Line %(line)s: write the web address in full, starting with https://"),
                ),
                "legal_basis": ("laws", LINE_TOO_LONG),
                "contact.phone": (
                    "phone",
                    N_("Enter a phone number of digits, like +255 22 211 0000"),
                ),
                "contact.email": (
                    "email",
                    N_("Enter an email address in the right form, like info@rita.go.tz"),
                ),
                "contact.url": ("contact_url", URL_WRONG),
            },
        ),
        Section(
            "makundi",
            N_("Categories and life events"),
            TermsIn,
            ("categories", "life_events"),
            _terms_values,
            _terms_changes,
        ),
        Section(
            "hali", N_("Status"), StatusIn, ("status", "alert"), _status_values, _status_changes
        ),
    )
}

# Which section fixes a part of the record.
SECTION_OF_PART: dict[str, str] = {
    part: section.slug for section in SECTIONS.values() for part in section.parts
}
