"""A service's own form: checking what the citizen entered, and showing it back."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping

from portal.sandbox.institutions.config import FormField, InstitutionService
from portal.sandbox.institutions.handoff import CONTROL, ISO_DATE
from portal.sandbox.institutions.text import text

# Tanzania keeps East Africa Time all year: "today" for a date field is today there.
EAST_AFRICA_TIME = dt.timezone(dt.timedelta(hours=3))


def _field_error(item: FormField, value: str, *, language: str, today: dt.date) -> str | None:
    label = item.label.pick(language)
    if not value:
        if not item.required:
            return None
        return text(
            language, "choice_missing" if item.kind == "choice" else "field_missing", label=label
        )
    if item.kind == "choice":
        if value not in {choice.value for choice in item.choices}:
            return text(language, "choice_missing", label=label)
        return None
    if item.kind == "date":
        if not ISO_DATE.fullmatch(value):
            return text(language, "date_format", label=label)
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            return text(language, "date_format", label=label)
        return text(language, "date_future", label=label) if day > today else None
    if len(value) > item.max_length:
        return text(language, "field_too_long", label=label, max_length=item.max_length)
    if item.pattern is not None and not re.fullmatch(item.pattern, value):
        return text(language, "field_pattern", label=label)
    return None


def answers_check(
    service: InstitutionService,
    form: Mapping[str, str],
    *,
    language: str,
    now: dt.datetime,
) -> tuple[dict[str, str], dict[str, str]]:
    """The service's fields as entered (spaces trimmed, control characters dropped), and an
    error message for each field that is not acceptable, in `language`."""
    today = now.astimezone(EAST_AFRICA_TIME).date()
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    for item in service.fields:
        value = " ".join(CONTROL.sub(" ", form.get(item.name, "")).split())
        values[item.name] = value
        error = _field_error(item, value, language=language, today=today)
        if error is not None:
            errors[item.name] = error
    return values, errors


def answers_shown(
    service: InstitutionService, answers: Mapping[str, str], *, language: str
) -> list[tuple[str, str]]:
    """(label, what was entered) for each answered field; a choice shows its label."""
    shown: list[tuple[str, str]] = []
    for item in service.fields:
        value = answers.get(item.name)
        if not value:
            continue
        choice = next((c for c in item.choices if c.value == value), None)
        shown.append((item.label.pick(language), choice.label.pick(language) if choice else value))
    return shown
