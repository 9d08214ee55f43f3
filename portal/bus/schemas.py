"""Shapes of the hand-off: the consent form, and what institutions send back over GovESB.

Everything an institution sends is read through these models before it touches a table: a
reply or a push that does not fit is refused whole.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt, StrictStr

from portal.web.forms import N_, Messages

STATUSES = ("received", "in_review", "approved", "rejected")
Status = Literal["received", "in_review", "approved", "rejected"]
KEY_PATTERN = r"^[A-Za-z0-9_-]{22,64}$"
Code = Annotated[StrictStr, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
Reference = Annotated[StrictStr, Field(min_length=1, max_length=100, pattern=r"^[\w./-]+$")]


class StartIn(BaseModel):
    """The consent form: its idempotency key, made when the page was shown."""

    key: Annotated[
        str,
        Field(pattern=KEY_PATTERN),
        Messages(
            missing=N_("This form has expired: start again"),
            invalid=N_("This form has expired: start again"),
        ),
    ]


class _FromInstitution(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


def _utc(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        raise ValueError("a time needs its offset")
    return value.astimezone(dt.UTC)


class HandOffAnswer(_FromInstitution):
    """An institution's answer to "open" or "find"."""

    reference: Reference
    status: Status
    status_push_code: Code = Field(alias="statusPushCode")
    launch_url: Annotated[StrictStr, Field(max_length=2000)] | None = Field(
        default=None, alias="launchUrl"
    )


class LocalMessage(_FromInstitution):
    sw: Annotated[StrictStr, Field(max_length=500)] = ""
    en: Annotated[StrictStr, Field(max_length=500)] = ""


class StatusPush(_FromInstitution):
    """A status change an institution pushes for one of its applications."""

    reference: Reference
    event_id: Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9_-]{8,64}$")] = Field(alias="eventId")
    sequence: Annotated[StrictInt, Field(ge=1, le=1_000_000)]
    status: Status
    message: LocalMessage | None = None
    at: Annotated[dt.datetime, AfterValidator(_utc)]
