"""What a demo institution system is told at start: who it is, the services it serves, its keys,
its bus client, its push code, lifetimes and the clock. Frozen and checked when built.

Three ready institutions stand behind the sandbox bus: RITA (birth registration), TRA (TIN
registration, tax clearance) and BRELA (business name registration); `demo_institution` builds
one from its bus client configuration.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from portal.bus.govesb.client import ClientConfig
from portal.bus.govesb.keys import PrivateKey, PublicKey, public_key_text
from portal.sandbox.idp.config import utc_now
from portal.sandbox.serving import SandboxRefusedError, environment_refuse

SANDBOX = "the demo institution systems"

PACKAGE_DIR = Path(__file__).resolve().parent
MAX_CODE_LENGTH = 64
_SLUG = re.compile(r"[a-z][a-z0-9-]{0,31}")
_PREFIX = re.compile(r"[A-Z][A-Z0-9-]{0,19}")
_FIELD_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")
# Field names the application form itself uses.
_RESERVED_FIELDS = frozenset({"csrf_token", "lugha"})
FieldKind = Literal["text", "date", "choice"]


@dataclass(frozen=True)
class Words:
    """A text in Swahili and in English."""

    sw: str
    en: str

    def pick(self, language: str) -> str:
        return self.en if language == "en" else self.sw


@dataclass(frozen=True, kw_only=True)
class Choice:
    value: str
    label: Words


@dataclass(frozen=True, kw_only=True)
class FormField:
    """A field of a service's own form, which the citizen fills on the institution's page.

    `text` takes up to `max_length` characters (and must match `pattern` when given, described
    by the hint); `date` takes a YYYY-MM-DD date not in the future; `choice` one of `choices`.
    """

    name: str
    label: Words
    hint: Words | None = None
    kind: FieldKind = "text"
    max_length: int = 100
    pattern: str | None = None
    choices: tuple[Choice, ...] = ()
    required: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "choices", tuple(self.choices))
        if not _FIELD_NAME.fullmatch(self.name) or self.name in _RESERVED_FIELDS:
            raise SandboxRefusedError(f"form field name {self.name!r} is not usable")
        if (self.kind == "choice") != bool(self.choices):
            raise SandboxRefusedError(f"form field {self.name!r}: choices go with kind 'choice'")
        if self.max_length < 1:
            raise SandboxRefusedError(f"form field {self.name!r}: max_length must be positive")
        if self.pattern is not None:
            re.compile(self.pattern)


@dataclass(frozen=True, kw_only=True)
class InstitutionService:
    """A service the institution opens applications for, under its GovESB api code.

    References are `<reference_prefix>-<year>-<6 digits>`, e.g. RITA-2026-000123.
    """

    api_code: str
    title: Words
    reference_prefix: str
    fields: tuple[FormField, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "fields", tuple(self.fields))
        if not self.api_code or len(self.api_code) > MAX_CODE_LENGTH:
            raise SandboxRefusedError(f"api code {self.api_code!r} must be 1-64 characters")
        if not _PREFIX.fullmatch(self.reference_prefix):
            raise SandboxRefusedError(
                f"service {self.api_code!r}: reference_prefix must be upper-case letters, digits"
                " and dashes"
            )
        names = [f.name for f in self.fields]
        if len(names) != len(set(names)):
            raise SandboxRefusedError(f"service {self.api_code!r}: two fields share a name")


def _url_check(value: str, what: str) -> None:
    parts = urlsplit(value)
    if (
        parts.scheme not in ("http", "https")
        or not parts.netloc
        or parts.query
        or parts.fragment
        or parts.path not in ("", "/")
        or value.endswith("/")
    ):
        raise SandboxRefusedError(f"{what} must be an http(s) origin without a trailing slash")


@dataclass(frozen=True, kw_only=True)
class InstitutionConfig:
    """One demo institution system. Times are in seconds.

    `private_key` signs its answers and pushes; `esb_public_key` verifies what the bus delivers;
    `bus` is its GovESB client configuration (the same two keys, its client credentials and the
    bus address) used for status pushes under `push_code`. A push that fails is tried again
    after `retry_first` seconds, then twice as long each time, `retry_max` at most.
    """

    slug: str
    name: Words
    services: tuple[InstitutionService, ...]
    base_url: str
    private_key: PrivateKey = field(repr=False)
    esb_public_key: PublicKey = field(repr=False)
    bus: ClientConfig
    push_code: str
    launch_ttl: int = 300
    session_ttl: int = 3600
    environment: str = "development"
    clock: Callable[[], dt.datetime] = utc_now
    retry_first: float = 2.0
    retry_max: float = 60.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "services", tuple(self.services))
        environment_refuse(self.environment, SANDBOX)
        if not _SLUG.fullmatch(self.slug):
            raise SandboxRefusedError("slug must be lower-case letters, digits and dashes")
        _url_check(self.base_url, "base_url")
        if not self.services:
            raise SandboxRefusedError(f"institution {self.slug!r} serves no service")
        codes = [s.api_code for s in self.services]
        if len(codes) != len(set(codes)):
            raise SandboxRefusedError(f"institution {self.slug!r}: two services share an api code")
        if not self.push_code or len(self.push_code) > MAX_CODE_LENGTH:
            raise SandboxRefusedError("push_code must be 1-64 characters")
        if self.launch_ttl < 1 or self.session_ttl < 1:
            raise SandboxRefusedError("launch_ttl and session_ttl must be positive")
        if not 0 < self.retry_first <= self.retry_max:
            raise SandboxRefusedError("retry_first must be positive and at most retry_max")
        if public_key_text(self.bus.private_key) != public_key_text(self.private_key):
            raise SandboxRefusedError("the bus client signs with another key than private_key")
        if public_key_text(self.bus.esb_public_key) != public_key_text(self.esb_public_key):
            raise SandboxRefusedError("the bus client trusts another GovESB key")

    def service(self, api_code: str) -> InstitutionService | None:
        return next((s for s in self.services if s.api_code == api_code), None)


# ----- the three demo institutions


def _words(sw: str, en: str) -> Words:
    return Words(sw=sw, en=en)


def _choices(*items: tuple[str, str, str]) -> tuple[Choice, ...]:
    return tuple(Choice(value=value, label=_words(sw, en)) for value, sw, en in items)


_RITA_BIRTH = InstitutionService(
    api_code="RITA-BIRTH-REG",
    title=_words("Usajili wa kizazi", "Birth registration"),
    reference_prefix="RITA",
    fields=(
        FormField(
            name="child_given_name",
            label=_words("Jina la kwanza la mtoto", "Child's given name"),
            max_length=60,
        ),
        FormField(
            name="child_family_name",
            label=_words("Jina la ukoo la mtoto", "Child's family name"),
            max_length=60,
        ),
        FormField(
            name="child_sex",
            label=_words("Jinsi ya mtoto", "Child's sex"),
            kind="choice",
            choices=_choices(("ke", "Kike", "Female"), ("me", "Kiume", "Male")),
        ),
        FormField(
            name="child_birth_date",
            label=_words("Tarehe ya kuzaliwa kwa mtoto", "Child's date of birth"),
            hint=_words(
                "Mwaka-mwezi-siku, kwa mfano 2026-10-31", "Year-month-day, like 2026-10-31"
            ),
            kind="date",
        ),
        FormField(
            name="birth_place",
            label=_words("Mahali alipozaliwa", "Place of birth"),
            hint=_words(
                "Kituo cha afya, au kijiji na wilaya", "Health facility, or village and district"
            ),
            max_length=120,
        ),
        FormField(
            name="relationship",
            label=_words("Uhusiano wako na mtoto", "Your relationship to the child"),
            kind="choice",
            choices=_choices(
                ("mama", "Mama", "Mother"),
                ("baba", "Baba", "Father"),
                ("mlezi", "Mlezi", "Guardian"),
            ),
        ),
    ),
)

_TRA_TIN = InstitutionService(
    api_code="TRA-TIN-INDIVIDUAL",
    title=_words("Usajili wa TIN kwa mtu binafsi", "TIN registration for an individual"),
    reference_prefix="TRA-TIN",
    fields=(
        FormField(
            name="tin_purpose",
            label=_words("Unahitaji TIN kwa ajili ya nini?", "What do you need the TIN for?"),
            kind="choice",
            choices=_choices(
                ("biashara", "Kuanzisha biashara", "Starting a business"),
                ("ajira", "Ajira", "Employment"),
                ("mali", "Kununua au kusajili mali", "Buying or registering property"),
                ("leseni", "Leseni ya udereva", "A driving licence"),
            ),
        ),
        FormField(
            name="occupation",
            label=_words("Kazi yako", "Your occupation"),
            max_length=80,
        ),
        FormField(
            name="region",
            label=_words("Mkoa unaoishi", "Region you live in"),
            max_length=60,
        ),
    ),
)

_TRA_CLEARANCE = InstitutionService(
    api_code="TRA-TAX-CLEARANCE",
    title=_words("Hati ya uthibitisho wa kulipa kodi", "Tax clearance certificate"),
    reference_prefix="TRA-TCC",
    fields=(
        FormField(
            name="tin",
            label=_words("Namba yako ya TIN", "Your TIN"),
            hint=_words("Tarakimu 9, kwa mfano 123456789", "9 digits, like 123456789"),
            max_length=9,
            pattern=r"[0-9]{9}",
        ),
        FormField(
            name="clearance_purpose",
            label=_words("Unahitaji hati kwa ajili ya nini?", "What do you need it for?"),
            kind="choice",
            choices=_choices(
                ("zabuni", "Zabuni", "A tender"),
                ("leseni", "Kuhuisha leseni ya biashara", "Renewing a business licence"),
                ("mkopo", "Mkopo wa benki", "A bank loan"),
            ),
        ),
    ),
)

_BRELA_NAME = InstitutionService(
    api_code="BRELA-ORS-BUSINESS-NAME",
    title=_words("Usajili wa jina la biashara", "Business name registration"),
    reference_prefix="BRELA-BN",
    fields=(
        FormField(
            name="business_name",
            label=_words("Jina la biashara", "Business name"),
            max_length=100,
        ),
        FormField(
            name="business_activity",
            label=_words("Shughuli kuu ya biashara", "Main business activity"),
            hint=_words("Kwa mfano: duka la vifaa vya ujenzi", "For example: a hardware shop"),
            max_length=200,
        ),
        FormField(
            name="business_region",
            label=_words("Mkoa biashara itakapofanyika", "Region where the business will run"),
            max_length=60,
        ),
    ),
)


@dataclass(frozen=True, kw_only=True)
class DemoInstitution:
    """What a demo institution is, before it is given keys and a bus."""

    slug: str
    name: Words
    services: tuple[InstitutionService, ...]
    port: int
    push_code: str


DEMO_INSTITUTIONS: Mapping[str, DemoInstitution] = {
    demo.slug: demo
    for demo in (
        DemoInstitution(
            slug="rita",
            name=_words(
                "RITA: Wakala wa Usajili, Ufilisi na Udhamini",
                "RITA: Registration, Insolvency and Trusteeship Agency",
            ),
            services=(_RITA_BIRTH,),
            port=8003,
            push_code="RITA-STATUS",
        ),
        DemoInstitution(
            slug="tra",
            name=_words("TRA: Mamlaka ya Mapato Tanzania", "TRA: Tanzania Revenue Authority"),
            services=(_TRA_TIN, _TRA_CLEARANCE),
            port=8004,
            push_code="TRA-STATUS",
        ),
        DemoInstitution(
            slug="brela",
            name=_words(
                "BRELA: Wakala wa Usajili wa Biashara na Leseni",
                "BRELA: Business Registrations and Licensing Agency",
            ),
            services=(_BRELA_NAME,),
            port=8005,
            push_code="BRELA-STATUS",
        ),
    )
}


def demo_institution(
    slug: str,
    *,
    bus: ClientConfig,
    base_url: str | None = None,
    environment: str = "development",
    **overrides: Any,
) -> InstitutionConfig:
    """The demo institution `slug` ("rita", "tra", "brela"), with the keys of its bus client.
    `base_url` defaults to http://127.0.0.1:<its port>; other InstitutionConfig fields may be
    given as keywords."""
    demo = DEMO_INSTITUTIONS.get(slug)
    if demo is None:
        raise SandboxRefusedError(f"no demo institution {slug!r}")
    config = InstitutionConfig(
        slug=demo.slug,
        name=demo.name,
        services=demo.services,
        base_url=base_url or f"http://127.0.0.1:{demo.port}",
        private_key=bus.private_key,
        esb_public_key=bus.esb_public_key,
        bus=bus,
        push_code=demo.push_code,
        environment=environment,
    )
    return replace(config, **overrides) if overrides else config


def demo_institutions(
    buses: Mapping[str, ClientConfig], *, environment: str = "development", **overrides: Any
) -> dict[str, InstitutionConfig]:
    """The demo institutions named in `buses` (slug -> its bus client configuration), each on
    its own default port."""
    return {
        slug: demo_institution(slug, bus=bus, environment=environment, **overrides)
        for slug, bus in buses.items()
    }
