"""Languages: Swahili first, English second.

The reader's language is an explicit choice (`?lang=` on any page, remembered in a cookie),
otherwise Swahili. Interface strings come from Babel catalogues in `portal/locale/`; their
msgids are English, so the English catalogue may stay empty. Catalogue texts are stored as
`{"sw": ..., "en": ...}` objects and shown by `localized`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from contextvars import ContextVar, Token
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any

from babel import Locale
from babel.dates import format_date, format_timedelta
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations
from fastapi import HTTPException, Request

KNOWN_LOCALES = {"sw": "Kiswahili", "en": "English"}
DEFAULT_LOCALE = "sw"
LOCALE_COOKIE = "lugha"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"

_current_locale: ContextVar[str] = ContextVar("locale", default=DEFAULT_LOCALE)


@cache
def translations_for(locale: str) -> NullTranslations:
    """The compiled catalogue of a locale, built in memory from its .po file once."""
    po_path = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    if not po_path.exists():
        return NullTranslations()
    with po_path.open("rb") as po_file:
        catalog = read_po(po_file, locale=locale)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


def use_locale(locale: str) -> Token[str]:
    """Make `locale` the language of gettext and formatting here; returns a reset token."""
    return _current_locale.set(locale)


def reset_locale(token: Token[str]) -> None:
    _current_locale.reset(token)


def current_locale() -> str:
    return _current_locale.get()


def gettext(message: str) -> str:
    return translations_for(current_locale()).gettext(message)


def ngettext(singular: str, plural: str, number: int) -> str:
    return translations_for(current_locale()).ngettext(singular, plural, number)


def locale_for(request: Request) -> str:
    """The reader's language: a valid `?lang=`, then the cookie, then Swahili."""
    for candidate in (request.query_params.get("lang"), request.cookies.get(LOCALE_COOKIE)):
        if candidate in KNOWN_LOCALES:
            return candidate
    return DEFAULT_LOCALE


def check_lang_parameter(request: Request) -> None:
    """Refuse an unknown `?lang=` with a 400 page instead of guessing."""
    lang = request.query_params.get("lang")
    if lang is not None and lang not in KNOWN_LOCALES:
        raise HTTPException(status_code=400, detail="unknown language")


def localized(value: Mapping[str, Any] | None, locale: str | None = None) -> Any:
    """The reader's version of a bilingual value, falling back to Swahili, then to any."""
    if not value:
        return ""
    locale = locale or current_locale()
    if value.get(locale):
        return value[locale]
    return value.get(DEFAULT_LOCALE) or next(iter(value.values()))


def date_text(value: dt.date) -> str:
    return format_date(value, format="long", locale=current_locale())


def duration_text(value: dt.timedelta) -> str:
    return format_timedelta(value, locale=current_locale())


def amount_text(amount: int) -> str:
    return "TSh " + format_decimal(amount, locale=Locale.parse(f"{current_locale()}_TZ"))
