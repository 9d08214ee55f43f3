"""Write shapes of the catalogue: the service record and its companions, validated strictly.

These shapes are what `seed_data/` files hold and what later publishing writes. They follow
CPSV-AP and schema.org GovernmentService (identifier, names, competent authority, cost, channel,
processing time, evidence, output, legal resource, life event) with the Tanzanian additions:
GePG payment, USSD and SMS channels, GovESB launch, NIN and other identifiers.
"""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, HttpUrl, model_validator

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
Slug = Annotated[str, Field(pattern=SLUG_PATTERN, min_length=2, max_length=80)]
Line = Annotated[str, Field(min_length=1, max_length=300)]
Prose = Annotated[str, Field(min_length=1, max_length=4000)]

_DURATION = re.compile(
    r"^P(?:(?P<weeks>\d+)W|(?:(?P<days>\d+)D)?(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?)?)$"
)


def parse_duration(value: str) -> dt.timedelta:
    """Turn an ISO 8601 duration of weeks, days, hours or minutes into a timedelta."""
    match = _DURATION.match(value)
    if not match or value in ("P", "PT") or value.endswith("T"):
        raise ValueError("expected an ISO 8601 duration such as P7D, PT48H, PT30M or P2W")
    parts = {name: int(number) for name, number in match.groupdict().items() if number}
    return dt.timedelta(**parts)


def _check_duration(value: str) -> str:
    parse_duration(value)
    return value


Duration = Annotated[str, AfterValidator(_check_duration)]


class Strict(BaseModel):
    """Base for every record shape: unknown fields are errors, never silently dropped."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(Strict):
    """One short text in Swahili and English."""

    sw: Line
    en: Line


class LongText(Strict):
    """One longer text (paragraphs) in Swahili and English."""

    sw: Prose
    en: Prose


class TextList(Strict):
    """Parallel lists in Swahili and English; empty lists are allowed."""

    sw: list[Line] = []
    en: list[Line] = []


class Steps(TextList):
    """Ordered steps: both languages give the same number of steps."""

    @model_validator(mode="after")
    def _same_length(self) -> Steps:
        if len(self.sw) != len(self.en):
            raise ValueError("sw and en must list the same number of steps")
        if not self.sw:
            raise ValueError("at least one step is needed")
        return self


class Audience(StrEnum):
    citizen = "citizen"
    business = "business"
    foreigner = "foreigner"
    public_servant = "public_servant"


class Identifier(StrEnum):
    """Identifiers a citizen may be asked for; labels live in the templates' catalogue."""

    NIN = "NIN"
    TIN = "TIN"
    NECTA_INDEX = "NECTA_INDEX"
    VEHICLE_REG = "VEHICLE_REG"
    DRIVING_LICENCE = "DRIVING_LICENCE"
    BIRTH_CERT = "BIRTH_CERT"
    CONTROL_NUMBER = "CONTROL_NUMBER"
    PASSPORT = "PASSPORT"
    BUSINESS_REG = "BUSINESS_REG"
    MEMBER_NO = "MEMBER_NO"
    PHONE = "PHONE"


class Status(StrEnum):
    active = "active"
    inactive = "inactive"
    temporarily_closed = "temporarily_closed"


class LaunchMode(StrEnum):
    link = "link"
    govesb = "govesb"


class Assurance(StrEnum):
    low = "low"
    substantial = "substantial"
    high = "high"


class SharedAttribute(StrEnum):
    """A verified detail a GovESB hand-off may give the institution (the NIN always)."""

    nin = "nin"
    given_name = "given_name"
    family_name = "family_name"
    birthdate = "birthdate"
    phone_number = "phone_number"


class CostItem(Strict):
    """One fee in Tanzanian shillings (0 means free) and when it applies."""

    amount_tzs: int = Field(ge=0, le=1_000_000_000)
    condition: Text


class Cost(Strict):
    items: list[CostItem] = []
    gepg: bool = Field(description="paid with a GePG control number")
    note: Text | None = None


class Channels(Strict):
    online_url: HttpUrl | None = None
    ussd: Annotated[str, Field(pattern=r"^\*[0-9*]+#$")] | None = None
    sms: Annotated[str, Field(pattern=r"^[0-9]{3,6}$")] | None = None
    app: Line | None = None
    office: Text | None = None

    @model_validator(mode="after")
    def _at_least_one(self) -> Channels:
        if not any((self.online_url, self.ussd, self.sms, self.app, self.office)):
            raise ValueError("a service needs at least one channel")
        return self


class Launch(Strict):
    mode: LaunchMode = LaunchMode.link
    api_code: Annotated[str, Field(pattern=r"^[A-Z0-9][A-Z0-9_-]{2,63}$")] | None = None
    assurance: Assurance = Assurance.low
    # What the institution needs of the citizen's verified details, and no more.
    shares: list[SharedAttribute] = list(SharedAttribute)

    @model_validator(mode="after")
    def _api_code_for_govesb(self) -> Launch:
        if self.mode is LaunchMode.govesb and not self.api_code:
            raise ValueError("a GovESB launch needs an api_code")
        if self.mode is LaunchMode.link and self.api_code:
            raise ValueError("api_code is only for mode govesb")
        if SharedAttribute.nin not in self.shares:
            raise ValueError("shares must include nin: the hand-off is made by it")
        if len(set(self.shares)) != len(self.shares):
            raise ValueError("shares names an attribute twice")
        return self


class LegalBasis(Strict):
    title: Line
    url: HttpUrl | None = None


class Contact(Strict):
    phone: Annotated[str, Field(pattern=r"^\+?[0-9 ]{3,20}$")] | None = None
    email: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$")] | None = None
    url: HttpUrl | None = None
    hours: Text | None = None


class InstitutionIn(Strict):
    slug: Slug
    acronym: Annotated[str, Field(min_length=2, max_length=20)]
    name: Text
    description: LongText
    website: HttpUrl
    contact: Contact = Contact()


class TermIn(Strict):
    """A category or a life event: a bilingual name and description."""

    slug: Slug
    name: Text
    description: LongText


class ServiceIn(Strict):
    slug: Slug
    institution: Slug
    name: Text
    alternative_names: TextList = TextList()
    summary: Text
    description: LongText
    steps: Steps
    categories: list[Slug] = Field(min_length=1)
    life_events: list[Slug] = []
    audience: list[Audience] = Field(min_length=1)
    eligibility: Text
    required_documents: list[Text] = []
    identifiers: list[Identifier] = []
    output: Text
    cost: Cost
    processing_time: Duration
    processing_time_note: Text | None = None
    channels: Channels
    launch: Launch = Launch()
    legal_basis: list[LegalBasis] = []
    contact: Contact = Contact()
    status: Status = Status.active
    alert: Text | None = None
    last_reviewed: dt.date
    review_due: dt.date
    popularity: int = Field(default=0, ge=0, description="illustrative monthly uses, for ordering")

    @model_validator(mode="after")
    def _coherent(self) -> ServiceIn:
        if self.review_due <= self.last_reviewed:
            raise ValueError("review_due must be after last_reviewed")
        if self.status is not Status.active and self.alert is None:
            raise ValueError("a service that is not active needs an alert explaining why")
        return self


class SynonymIn(Strict):
    """A synonym entry: mutual terms, or one term that also finds others (one way)."""

    terms: list[Annotated[str, Field(min_length=1, max_length=60)]] = Field(min_length=2)
    one_way: bool = Field(default=False, description="only the first term expands to the rest")
    note: str | None = None
