"""The hand-off the portal sends through the bus: operation "open" opens (or finds again) an
application and answers with a one-time launch URL; operation "find" tells what a key opened.

Every check happens before anything is opened; a refusal is a short English message that
names the member at fault, never its value.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from portal.bus.govesb.envelope import Delivery
from portal.sandbox.institutions.config import InstitutionConfig
from portal.sandbox.institutions.store import (
    Application,
    IdempotencyConflict,
    InstitutionStore,
    OpenRequest,
)

IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9_-]{22,64}")
SERVICE_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,99}")
NIN = re.compile(r"[0-9]{20}")
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
PHONE_NUMBER = re.compile(r"\+255[0-9]{9}")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
LOCALES = ("sw", "en")
MAX_NAME_LENGTH = 100
MAX_PURPOSE_LENGTH = 500
MAX_URL_LENGTH = 2000
NOT_FOUND = "not_found"


class HandOffInvalid(ValueError):
    """A hand-off we refuse; `str()` is the short English message of the signed failure."""


@dataclass(frozen=True, kw_only=True)
class Answer:
    """What the institution signs back to the bus."""

    success: bool
    esb_body: dict[str, Any] | None = None
    message: str | None = None


def _text(body: dict[str, Any], name: str, *, max_length: int) -> str:
    value = body.get(name)
    if not isinstance(value, str) or len(value) > max_length or CONTROL.search(value):
        raise HandOffInvalid(f"invalid {name}")
    return value


def _name(name: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if (
            not isinstance(value, str)
            or not value.strip()
            or len(value) > MAX_NAME_LENGTH
            or CONTROL.search(value)
        ):
            raise HandOffInvalid(f"invalid citizen.{name}")
        return value

    return check


def _birth_date(value: Any) -> str:
    if not isinstance(value, str) or not ISO_DATE.fullmatch(value):
        raise HandOffInvalid("invalid citizen.birthDate")
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        raise HandOffInvalid("invalid citizen.birthDate") from None
    return value


def _matching(pattern: re.Pattern[str], name: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if not isinstance(value, str) or not pattern.fullmatch(value):
            raise HandOffInvalid(f"invalid citizen.{name}")
        return value

    return check


_ATTRIBUTES: dict[str, Callable[[Any], str]] = {
    "nin": _matching(NIN, "nin"),
    "givenName": _name("givenName"),
    "familyName": _name("familyName"),
    "birthDate": _birth_date,
    "phoneNumber": _matching(PHONE_NUMBER, "phoneNumber"),
}
CITIZEN_ATTRIBUTES = tuple(_ATTRIBUTES)


def _citizen(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise HandOffInvalid("invalid citizen")
    unknown = set(value) - set(_ATTRIBUTES)
    if unknown:
        raise HandOffInvalid("invalid citizen: unknown attribute")
    return {name: _ATTRIBUTES[name](value[name]) for name in CITIZEN_ATTRIBUTES if name in value}


def _idempotency_key(body: dict[str, Any]) -> str:
    key = body.get("idempotencyKey")
    if not isinstance(key, str) or not IDEMPOTENCY_KEY.fullmatch(key):
        raise HandOffInvalid("invalid idempotencyKey")
    return key


def open_request_read(body: dict[str, Any], *, api_code: str) -> OpenRequest:
    """The checked "open" hand-off for the service `api_code` (HandOffInvalid otherwise)."""
    key = _idempotency_key(body)
    service = body.get("service")
    if not isinstance(service, str) or not SERVICE_SLUG.fullmatch(service):
        raise HandOffInvalid("invalid service")
    if body.get("apiCode") != api_code:
        raise HandOffInvalid("invalid apiCode: it differs from the delivery's")
    locale = body.get("locale")
    if locale not in LOCALES:
        raise HandOffInvalid("invalid locale")
    purpose = _text(body, "purpose", max_length=MAX_PURPOSE_LENGTH)
    citizen = _citizen(body.get("citizen"))
    return_url = _text(body, "returnUrl", max_length=MAX_URL_LENGTH)
    parts = urlsplit(return_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise HandOffInvalid("invalid returnUrl")
    return OpenRequest(
        api_code=api_code,
        idempotency_key=key,
        service=service,
        locale=str(locale),
        purpose=purpose,
        citizen=citizen,
        return_url=return_url,
    )


def hand_off(
    delivery: Delivery, *, config: InstitutionConfig, store: InstitutionStore
) -> tuple[Answer, Application | None]:
    """The answer to a verified delivery, and the application it opened or found."""
    if config.service(delivery.code) is None:
        return Answer(success=False, message="unknown apiCode"), None
    body = delivery.esb_body
    if not isinstance(body, dict):
        return Answer(success=False, message="invalid esbBody"), None
    try:
        if body.get("operation") == "open":
            request = open_request_read(body, api_code=delivery.code)
            application, _new = store.application_open(request)
            token = store.launch_issue(application.reference)
            answer = {
                "reference": application.reference,
                "status": application.status,
                "launchUrl": f"{config.base_url}/anza?tiketi={token}",
                "launchExpiresIn": config.launch_ttl,
                "statusPushCode": config.push_code,
            }
            return Answer(success=True, esb_body=answer), application
        if body.get("operation") == "find":
            found = store.application_find(
                api_code=delivery.code, idempotency_key=_idempotency_key(body)
            )
            if found is None:
                return Answer(success=False, message=NOT_FOUND), None
            summary = {
                "reference": found.reference,
                "status": found.status,
                "statusPushCode": config.push_code,
            }
            return Answer(success=True, esb_body=summary), found
    except HandOffInvalid as refused:
        return Answer(success=False, message=str(refused)), None
    except IdempotencyConflict:
        return Answer(success=False, message="idempotencyKey already used elsewhere"), None
    return Answer(success=False, message="unknown operation"), None
