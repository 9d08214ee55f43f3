"""The curators' forms and filters, as the server checks them.

Catalogue texts are plain: anything that looks like an HTML tag, and control characters, are
refused with a message rather than stored (pages escape everything anyway).
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    HttpUrl,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from portal.catalogue.schemas import (
    SLUG_PATTERN,
    Contact,
    InstitutionIn,
    LongText,
    SynonymIn,
    TermIn,
    Text,
)
from portal.web.forms import N_, InvalidInput, Messages
from portal.web.pagination import MAX_PAGE

ID_MAX = 2_147_483_647  # the largest id a row can have (a 32-bit integer column)
RESERVED_SLUGS = frozenset({"mpya"})  # a path word of the tools themselves
TERMS_MAX = 20
TERM_MAX = 60
COMMENT_MAX = 2000
_TAG = re.compile(r"<\s*[a-zA-Z/!?]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_URL = TypeAdapter(HttpUrl)


def plain_text(value: str) -> str:
    """Text without HTML tags or control characters, or a message saying so."""
    if _TAG.search(value):
        raise InvalidInput(N_("Remove the HTML: write plain text, without tags such as <b>"))
    if _CONTROL.search(value):
        raise InvalidInput(N_("Remove the control characters from this text"))
    return value


def _web_address(value: str) -> str:
    try:
        url = _URL.validate_python(value)
    except ValidationError:
        url = None
    if url is None or url.scheme not in ("http", "https") or not url.host:
        raise InvalidInput(N_("Enter a web address that starts with https://"))
    return value


def _slug_free(value: str) -> str:
    if value in RESERVED_SLUGS:
        raise InvalidInput(N_("This address name is kept for the tools: choose another"))
    return value


Slug = Annotated[
    str,
    Field(min_length=2, max_length=80, pattern=SLUG_PATTERN),
    AfterValidator(_slug_free),
    Messages(
        missing=N_("Enter the address name"),
        invalid=N_("Use lowercase letters, numbers and single hyphens only, like tra or kodi"),
    ),
]
Line = Annotated[str, Field(max_length=300), AfterValidator(plain_text)]
Prose = Annotated[str, Field(max_length=4000), AfterValidator(plain_text)]
WebAddress = Annotated[str, Field(max_length=500), AfterValidator(_web_address)]


def _both_or_neither(form: BaseModel, first: str, second: str, message: str) -> None:
    given = [getattr(form, first), getattr(form, second)]
    if any(given) and not all(given):
        raise InvalidInput(message, field=second if given[0] else first)


NameSw = Annotated[Line, Messages(missing=N_("Enter the name in Swahili"))]
NameEn = Annotated[Line, Messages(missing=N_("Enter the name in English"))]
DescriptionSw = Annotated[Prose, Messages(missing=N_("Enter the description in Swahili"))]
DescriptionEn = Annotated[Prose, Messages(missing=N_("Enter the description in English"))]


class _SlugFirst(BaseModel):
    """The address name of something new; a form lists it (and its error) first."""

    slug: Slug


def _texts(form: InstitutionForm | TermForm) -> tuple[Text, LongText]:
    return (
        Text(sw=form.name_sw, en=form.name_en),
        LongText(sw=form.description_sw, en=form.description_en),
    )


class InstitutionForm(BaseModel):
    name_sw: NameSw
    name_en: NameEn
    acronym: Annotated[
        str,
        Field(min_length=2, max_length=20),
        AfterValidator(plain_text),
        Messages(missing=N_("Enter the acronym")),
    ]
    description_sw: DescriptionSw
    description_en: DescriptionEn
    website: Annotated[WebAddress, Messages(missing=N_("Enter the website"))]
    # An optional field's messages sit outside its `| None`, where the form machinery finds them.
    contact_phone: Annotated[
        str | None,
        Field(pattern=r"^\+?[0-9 ]{3,20}$"),
        Messages(invalid=N_("Enter a phone number of digits, like +255 22 211 0000")),
    ] = None
    contact_email: Annotated[
        str | None,
        Field(max_length=254, pattern=r"^[^@\s<>]+@[^@\s<>]+\.[a-z]{2,}$"),
        Messages(invalid=N_("Enter an email address in the right form, like name@example.com")),
    ] = None
    contact_url: WebAddress | None = None
    contact_hours_sw: Line | None = None
    contact_hours_en: Line | None = None

    @model_validator(mode="after")
    def _hours_in_both(self) -> InstitutionForm:
        message = N_("Enter the opening hours in both languages, or in neither")
        _both_or_neither(self, "contact_hours_sw", "contact_hours_en", message)
        return self

    def record(self, slug: str) -> InstitutionIn:
        """The institution as the catalogue takes it; raises ValidationError if it will not."""
        name, description = _texts(self)
        hours = (
            Text(sw=self.contact_hours_sw, en=self.contact_hours_en)
            if self.contact_hours_sw and self.contact_hours_en
            else None
        )
        return InstitutionIn.model_validate(
            {
                "slug": slug,
                "acronym": self.acronym,
                "name": name,
                "description": description,
                "website": self.website,
                "contact": Contact.model_validate(
                    {
                        "phone": self.contact_phone,
                        "email": self.contact_email,
                        "url": self.contact_url,
                        "hours": hours,
                    }
                ),
            }
        )


# Bases in this order put the slug first among the fields.
class InstitutionNewForm(InstitutionForm, _SlugFirst):
    pass


class TermForm(BaseModel):
    name_sw: NameSw
    name_en: NameEn
    description_sw: DescriptionSw
    description_en: DescriptionEn

    def record(self, slug: str) -> TermIn:
        name, description = _texts(self)
        return TermIn(slug=slug, name=name, description=description)


class TermNewForm(TermForm, _SlugFirst):
    pass


ServiceChoice = Annotated[
    str,
    Field(max_length=80, pattern=SLUG_PATTERN),
    Messages(missing=N_("Select a service"), invalid=N_("Select a service from the list")),
]


class ServicePick(BaseModel):
    """One service chosen from a list (a step to add, a service to feature)."""

    service: ServiceChoice


def _terms(value: str) -> str:
    terms = [term.strip().lower() for term in re.split(r"[,\n]", value)]
    terms = [" ".join(term.split()) for term in terms if term.strip()]
    if len(terms) < 2:
        raise InvalidInput(N_("Enter at least two words or phrases, separated by commas"))
    if len(terms) > TERMS_MAX:
        raise InvalidInput(N_("Enter %(limit)s words or phrases or fewer"), limit=TERMS_MAX)
    if any(len(term) > TERM_MAX for term in terms):
        raise InvalidInput(
            N_("Each word or phrase must be %(limit)s characters or fewer"), limit=TERM_MAX
        )
    if len(set(terms)) != len(terms):
        raise InvalidInput(N_("Each word or phrase may appear only once"))
    return ", ".join(terms)


class SynonymForm(BaseModel):
    terms: Annotated[
        str,
        Field(max_length=TERMS_MAX * (TERM_MAX + 2)),
        AfterValidator(plain_text),
        AfterValidator(_terms),
        Messages(missing=N_("Enter the words or phrases, separated by commas")),
    ]
    kind: Annotated[
        Literal["mutual", "one_way"],
        Messages(missing=N_("Select whether every word finds the others")),
    ]
    note: Line | None = None

    def entry(self) -> SynonymIn:
        return SynonymIn(
            terms=self.terms.split(", "), one_way=self.kind == "one_way", note=self.note
        )


class StatusForm(BaseModel):
    status: Annotated[
        Literal["active", "inactive", "temporarily_closed"],
        Messages(missing=N_("Select the service's status")),
    ]
    alert_sw: Line | None = None
    alert_en: Line | None = None

    @model_validator(mode="after")
    def _notice(self) -> StatusForm:
        if self.status != "active":
            if not self.alert_sw:
                raise InvalidInput(N_("Enter the notice in Swahili"), field="alert_sw")
            if not self.alert_en:
                raise InvalidInput(N_("Enter the notice in English"), field="alert_en")
        message = N_("Enter the notice in both languages, or in neither")
        _both_or_neither(self, "alert_sw", "alert_en", message)
        return self

    def alert(self) -> Text | None:
        if self.alert_sw and self.alert_en:
            return Text(sw=self.alert_sw, en=self.alert_en)
        return None


Version = Annotated[
    int,
    Field(ge=1, le=ID_MAX),
    Messages(
        missing=N_("The page was incomplete: reload it and decide again"),
        number=N_("The page was incomplete: reload it and decide again"),
        too_big=N_("The page was incomplete: reload it and decide again"),
        too_small=N_("The page was incomplete: reload it and decide again"),
    ),
]


class ApproveForm(BaseModel):
    version: Version


class ReturnForm(BaseModel):
    version: Version
    comment: Annotated[
        str,
        Field(max_length=COMMENT_MAX),
        AfterValidator(plain_text),
        Messages(
            missing=N_("Enter what the publisher needs to change"),
            too_long=N_("Your comment must be %(limit)s characters or fewer"),
        ),
    ]


FilterSlug = Annotated[
    str | None,
    Field(max_length=80, pattern=SLUG_PATTERN),
    Messages(invalid=N_("Select an institution from the list")),
]


class QueueFilter(BaseModel):
    taasisi: FilterSlug = None


class ServiceFilter(BaseModel):
    taasisi: FilterSlug = None
    muda: Literal["umepita"] | None = None


class AuditFilter(BaseModel):
    aina: Annotated[
        str | None,
        Field(max_length=40, pattern=r"^[a-z_]+$"),
        Messages(invalid=N_("Enter a kind of record like service or institution")),
    ] = None
    kitendo: Annotated[
        str | None,
        Field(max_length=60, pattern=r"^[a-z_]+(?:\.[a-z_]+)*$"),
        Messages(invalid=N_("Enter an action like service.publish or draft.return")),
    ] = None
    taasisi: FilterSlug = None
    ufunguo: Annotated[str | None, Field(max_length=120), AfterValidator(plain_text)] = None
    ukurasa: Annotated[
        int,
        Field(ge=1, le=MAX_PAGE),
        Messages(
            number=N_("Enter a page number"),
            too_small=N_("Enter a page number"),
            too_big=N_("Enter a page number"),
        ),
    ] = 1
