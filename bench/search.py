"""Search benchmark: 20,000 synthetic bilingual services, the embedded index, engine vs page.

Run from the project root with `python -m bench.search` (or `make bench-search`). In a temporary
folder it migrates a fresh SQLite database and loads the real seed_data taxonomy and synonyms,
111 synthetic district councils and 20,000 services made from the templates in
`search_corpus.yaml`, through `catalogue_seed` (the real write path). It then builds the embedded
index with `index_rebuild` and times one fixed mix of about 200 queries, each at the engine
(`backend.search` with the query the page builds) and straight after as a real HTTP GET of
`/tafuta` from the app served by uvicorn on 127.0.0.1. The report goes to
`bench/reports/search.md` and `search.json`. A fixed seed makes the corpus identical on every
run; timings vary.
"""

from __future__ import annotations

import datetime as dt
import gzip
import http.client
import json
import os
import platform
import random
import re
import resource
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

import uvicorn
import yaml
from sqlalchemy.engine import Engine

from portal.app import create_app
from portal.catalogue.schemas import InstitutionIn, ServiceIn
from portal.catalogue.seed import SeedBundle, seed_load
from portal.catalogue.services import catalogue_seed
from portal.config import (
    PROJECT_ROOT,
    DatabaseSettings,
    Environment,
    MeilisearchSettings,
    SearchSettings,
    Settings,
)
from portal.db import database_migrate, engine_create, unit_of_work
from portal.search.backend import SearchBackend, backend_create
from portal.search.documents import SERVICES
from portal.search.routes import FILTERS, SearchParameters
from portal.search.semantics import normalize
from portal.search.services import index_rebuild

RANDOM_SEED = 20_000
SERVICE_COUNT = 20_000
REPEATS = 3  # timed runs of every query, after one warm-up run
GOAL_RATIO = 2.0  # page p95 may be at most this many times the engine p95
NOW = dt.datetime(2026, 5, 1, 8, 0, tzinfo=dt.UTC)
BENCH_DIR = Path(__file__).resolve().parent
CORPUS_FILE = BENCH_DIR / "search_corpus.yaml"
REPORT_MD = BENCH_DIR / "reports" / "search.md"
REPORT_JSON = BENCH_DIR / "reports" / "search.json"
COUNCIL = "council"
COUNCIL_PORTAL = "https://tausi.tamisemi.go.tz/"
PROCESSING_TIMES = ("PT1H", "PT48H", "P3D", "P7D", "P14D", "P30D")
KINDS = ("word", "phrase", "prefix", "typo", "filtered", "faceted")
KIND_LABELS = {
    "word": "single words",
    "phrase": "phrases and multi-word (quoted and unquoted)",
    "prefix": "prefixes (search as you type)",
    "typo": "one- or two-typo words",
    "filtered": "filtered (institution and/or category)",
    "faceted": "facet browsing (life event, audience, channel; empty query)",
}
Language = Literal["sw", "en"]


# -- corpus ------------------------------------------------------------------------------------


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", normalize(text)).strip("-")


def _text(sw: str, en: str) -> dict[str, str]:
    return {"sw": sw, "en": en}


@dataclass(frozen=True)
class Place:
    """Where a service is offered: a council's ward office or an agency's regional office."""

    slug: str
    institution: str
    title: tuple[str, str]  # appended to the service title
    sentence: tuple[str, str]  # appended to the summary
    office: tuple[str, str]


def _council(name: str) -> InstitutionIn:
    slug = _slug(name)
    return InstitutionIn.model_validate(
        {
            "slug": f"halmashauri-{slug}",
            "acronym": f"{name} DC"[:20],
            "name": _text(f"Halmashauri ya Wilaya ya {name}", f"{name} District Council"),
            "description": _text(
                f"Halmashauri ya Wilaya ya {name} hutoa huduma za leseni, kodi za ndani, ardhi,"
                " afya ya mazingira na maendeleo ya jamii kupitia ofisi za kata na mfumo wa TAUSI.",
                f"{name} District Council provides licences, local taxes, land, environmental"
                " health and community development services through ward offices and TAUSI.",
            ),
            "website": f"https://{slug.replace('-', '')}dc.go.tz/",
            "contact": {
                "hours": _text(
                    "Jumatatu hadi Ijumaa, saa 1:30 asubuhi hadi saa 9:30 alasiri",
                    "Monday to Friday, 7:30 am to 3:30 pm",
                )
            },
        }
    )


def _council_places(names: list[str], wards: list[str]) -> list[Place]:
    return [
        Place(
            slug=f"{_slug(name)}-{_slug(ward)}",
            institution=f"halmashauri-{_slug(name)}",
            title=(
                f"Kata ya {ward}, Halmashauri ya Wilaya ya {name}",
                f"{ward} ward, {name} District Council",
            ),
            sentence=(
                f"Huduma hii hutolewa na Halmashauri ya Wilaya ya {name} kupitia ofisi ya"
                f" Kata ya {ward}.",
                f"This service is provided by {name} District Council through the {ward}"
                " ward office.",
            ),
            office=(f"Ofisi ya Kata ya {ward}", f"{ward} ward office"),
        )
        for name in names
        for ward in wards
    ]


def _regional_places(owner: InstitutionIn, regions: list[str]) -> list[Place]:
    acronym = owner.acronym
    return [
        Place(
            slug=_slug(region),
            institution=owner.slug,
            title=(f"Mkoa wa {region}", f"{region} region"),
            sentence=(
                f"Inapatikana mtandaoni na katika ofisi ya {acronym} ya Mkoa wa {region}.",
                f"Available online and at the {acronym} office for {region} region.",
            ),
            office=(f"Ofisi ya {acronym} Mkoa wa {region}", f"{acronym} office, {region} region"),
        )
        for region in regions
    ]


ELIGIBILITY = {
    "citizen": _text(
        "Raia au mkazi yeyote anayehitaji huduma hii.",
        "Any citizen or resident who needs this service.",
    ),
    "business": _text(
        "Mfanyabiashara, kampuni au taasisi yenye TIN.",
        "A trader, company or organisation with a TIN.",
    ),
    "foreigner": _text(
        "Raia wa kigeni mwenye pasipoti halali.", "A foreign national with a valid passport."
    ),
    "public_servant": _text(
        "Mtumishi wa umma au mstaafu wa utumishi wa umma.",
        "A public servant or a retired public servant.",
    ),
}
DOCUMENTS = {
    "NIN": _text("Kitambulisho cha taifa au NIN", "National ID card or NIN"),
    "TIN": _text("Cheti cha TIN", "TIN certificate"),
    "BIRTH_CERT": _text("Cheti cha kuzaliwa", "Birth certificate"),
    "PASSPORT": _text("Pasipoti halali", "A valid passport"),
}


def _channels(kinds: list[str], place: Place, online_url: str) -> dict[str, Any]:
    channels: dict[str, Any] = {}
    if "online" in kinds:
        channels["online_url"] = online_url
    if "ussd" in kinds:
        channels["ussd"] = "*152*00#"
    if "sms" in kinds:
        channels["sms"] = "15200"
    if "app" in kinds:
        channels["app"] = "NIKONEKT" if "tanesco" in online_url else "e-Mrejesho"
    if "office" in kinds:
        channels["office"] = _text(*place.office)
    return channels


def _service(
    template: dict[str, Any],
    variant: list[str],
    place: Place,
    online_url: str,
    rng: random.Random,
) -> dict[str, Any]:
    part, title_sw, title_en = variant
    summary = template["summary"]
    summary_sw = f"{summary['sw']} {place.sentence[0]}"
    summary_en = f"{summary['en']} {place.sentence[1]}"
    output = template["output"]
    online = "online" in template["channels"]
    fee = int(template["fee"])
    return {
        "slug": "-".join(p for p in (template["key"], part, place.slug) if p),
        "institution": place.institution,
        "name": _text(f"{title_sw} – {place.title[0]}", f"{title_en} – {place.title[1]}"),
        "alternative_names": template["keywords"],
        "summary": _text(summary_sw, summary_en),
        "description": _text(
            f"{summary_sw} Maombi hupokelewa siku za kazi na majibu hutolewa kwa SMS au barua"
            " pepe.",
            f"{summary_en} Applications are received on working days and answers are sent by"
            " SMS or email.",
        ),
        "steps": {
            "sw": [
                "Andaa nyaraka zinazohitajika na namba zako za utambulisho.",
                "Wasilisha maombi mtandaoni." if online else "Wasilisha maombi ofisini.",
                "Lipa ada kwa namba ya malipo ya GePG ikiwa inahitajika.",
                f"Pokea huduma: {output['sw']}.",
            ],
            "en": [
                "Prepare the required documents and your identification numbers.",
                "Submit the application online." if online else "Submit the application in person.",
                "Pay any fee with a GePG control number.",
                f"Receive the result: {output['en']}.",
            ],
        },
        "categories": template["categories"],
        "life_events": template["life_events"],
        "audience": template["audience"],
        "eligibility": ELIGIBILITY[template["audience"][0]],
        "required_documents": [DOCUMENTS[i] for i in template["identifiers"] if i in DOCUMENTS],
        "identifiers": template["identifiers"],
        "output": output,
        "cost": {
            "gepg": fee > 0,
            "items": [
                {
                    "amount_tzs": fee,
                    "condition": _text("Ada ya huduma", "Service fee")
                    if fee
                    else _text("Bure", "Free"),
                }
            ],
        },
        "processing_time": rng.choice(PROCESSING_TIMES),
        "channels": _channels(template["channels"], place, online_url),
        "last_reviewed": dt.date(2026, 3, 1),
        "review_due": dt.date(2026, 9, 1),
        "popularity": int(template["popularity"] * rng.uniform(0.2, 1.8)),
    }


def corpus_build(seed_dir: Path) -> SeedBundle:
    """The real taxonomy and synonyms, 111 councils and SERVICE_COUNT synthetic services."""
    rng = random.Random(RANDOM_SEED)  # noqa: S311  (a benchmark corpus, not a secret)
    raw = yaml.safe_load(CORPUS_FILE.read_text(encoding="utf-8"))
    real = seed_load(directory=seed_dir)
    councils = [_council(name) for name in raw["districts"]]
    institutions = {i.slug: i for i in [*real.institutions, *councils]}
    council_places = _council_places(raw["districts"], raw["wards"])

    national: list[tuple[dict[str, Any], list[str], Place, str]] = []
    local: list[tuple[dict[str, Any], list[str], Place, str]] = []
    for template in raw["templates"]:
        if template["owner"] == COUNCIL:
            places, url, into = council_places, COUNCIL_PORTAL, local
        else:
            owner = institutions[template["owner"]]
            regions = raw[template.get("places", "regions")]
            places, url, into = _regional_places(owner, regions), str(owner.website), national
        into += [(template, v, p, url) for v in template["variants"] for p in places]
    # Every agency service at every regional office; council services sampled over wards.
    chosen = national + rng.sample(local, SERVICE_COUNT - len(national))
    rng.shuffle(chosen)
    services = [ServiceIn.model_validate(_service(*slot, rng)) for slot in chosen]
    return SeedBundle(
        institutions=list(institutions.values()),
        categories=real.categories,
        life_events=real.life_events,
        services=services,
        synonyms=real.synonyms,
    )


# -- query mix ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    kind: str
    parameters: SearchParameters
    language: Language

    @property
    def url(self) -> str:
        url = self.parameters.url("/tafuta")
        if self.language == "en":
            url += ("&" if "?" in url else "?") + "lang=en"
        return url


def _query(kind: str, raw: dict[str, Any] | str, language: Language = "sw") -> Query:
    """A query as the page's GET parameters, normalised as the page's `_parameters` does."""
    values: dict[str, Any] = {"q": raw} if isinstance(raw, str) else dict(raw)
    language = values.pop("lang", language)
    parameters = SearchParameters(
        q=str(values.get("q", "")).strip(),
        taasisi=list(dict.fromkeys(values.get("taasisi", []))),
        kundi=list(dict.fromkeys(values.get("kundi", []))),
        tukio=list(dict.fromkeys(values.get("tukio", []))),
        hadhira=list(dict.fromkeys(values.get("hadhira", []))),
        njia=list(dict.fromkeys(values.get("njia", []))),
        panga=values.get("panga", ""),
        ukurasa=values.get("ukurasa", 1),
    )
    return Query(kind=kind, parameters=parameters, language=language)


def _progressive(word: str, shortest: int = 1) -> list[str]:
    return [word[:n] for n in range(shortest, len(word))]


WORDS_SW = (
    "pasipoti", "leseni", "kodi", "cheti", "kitambulisho", "mkopo", "ardhi", "maji", "umeme",
    "biashara", "kibali", "ujenzi", "ndoa", "kuzaliwa", "gari", "pensheni", "bima", "afya",
    "taka", "ushuru", "soko", "mazao", "viza", "tin", "nida", "halmashauri", "uvuvi", "mifugo",
)  # fmt: skip
WORDS_EN = (
    "passport", "licence", "tax", "certificate", "loan", "land", "water", "electricity",
    "permit", "insurance", "pension", "visa",
)  # fmt: skip
PHRASES_SW = (
    '"leseni ya biashara"', '"kodi ya majengo"', '"cheti cha kuzaliwa"', '"hati miliki"',
    '"mkopo wa elimu"', '"kibali cha ujenzi"', '"ushuru wa mazao" korosho',
    "kodi ya majengo Arusha", "leseni ya udereva", "leseni ya biashara Moshi",
    "kuunganishiwa maji Dodoma", "mkopo wa elimu ya juu", "kibali cha ujenzi Kahama",
    "cheti cha kifo", "bima ya afya familia", "usajili wa kampuni", "ushuru wa huduma",
)  # fmt: skip
PHRASES_EN = (
    '"driving licence"', '"birth certificate"', '"property tax"', '"title deed"',
    '"business licence" restaurant', "apply for a passport", "pay property tax Arusha",
    "business licence restaurant", "water connection", "national id card", "register a company",
    "student loan repayment", "land rent", "building permit Geita", "tax clearance certificate",
    "renew driving licence", "fishing licence",
)  # fmt: skip
PREFIXES_SW = (
    *_progressive("pasipoti"), *_progressive("leseni"), *_progressive("kitambulisho")[:7],
    *_progressive("halmashauri")[:6], *_progressive("majengo")[:4],
    "leseni ya ud", "kodi ya maj", "kodi ya majengo ar", "cheti cha kuz", "mkopo wa el",
    "kibali cha uj", "usajili wa ka", "bima ya af", "ushuru wa ma", "leseni ya biashara mg",
)  # fmt: skip
PREFIXES_EN = (
    *_progressive("passport", 4), *_progressive("certificate")[:6], *_progressive("business")[:5],
    "apply for a pass", "birth cert", "driving lic", "water conn", "property t", "title d",
)  # fmt: skip
TYPOS_SW = (
    "lesseni", "pasporti", "kitambulsho", "halmashari", "leeseni", "kampni", "mokopo",
    "biashra", "kibalii", "ujezi", "majngo", "ushru", "umme", "vitambulsho", "udahli",
    "leseni ya biashra", "kodi ya majngo arusha", "pasipotti mpya",
)  # fmt: skip
TYPOS_EN = (
    "regstration", "insurence", "pasport", "passprot", "lisence", "licnce", "certifcate",
    "electrcity", "propety tax", "pensoin", "bussiness licence", "studnet loan",
)  # fmt: skip
FILTERED: tuple[dict[str, Any], ...] = (
    {"q": "leseni", "taasisi": ["halmashauri-moshi"], "kundi": ["biashara-na-leseni"]},
    {"taasisi": ["tra"], "kundi": ["kodi-na-malipo"]},
    {
        "q": "kodi",
        "taasisi": ["halmashauri-arumeru", "halmashauri-karatu"],
        "kundi": ["kodi-na-malipo"],
    },
    {"q": "cheti", "taasisi": ["rita"], "kundi": ["utambulisho-na-usajili"]},
    {"q": "kibali", "kundi": ["ardhi-na-makazi", "biashara-na-leseni"]},
    {"taasisi": ["uhamiaji"], "kundi": ["uhamiaji-na-safari"]},
    {"q": "passport", "taasisi": ["uhamiaji"], "lang": "en"},
    {"taasisi": ["halmashauri-kahama"]},
    {"kundi": ["elimu"]},
    {"q": "ushuru", "taasisi": ["halmashauri-mbeya"], "kundi": ["kodi-na-malipo"]},
    {"q": "licence", "kundi": ["biashara-na-leseni"], "lang": "en"},
    {
        "q": "mkopo",
        "taasisi": ["heslb", "halmashauri-songea"],
        "kundi": ["elimu", "biashara-na-leseni"],
    },
    {"q": "maji", "taasisi": ["dawasa"], "kundi": ["nishati-maji-mawasiliano"]},
    {"taasisi": ["halmashauri-bagamoyo"], "kundi": ["ardhi-na-makazi"]},
    {"q": "ujenzi", "taasisi": ["halmashauri-geita"], "kundi": ["ardhi-na-makazi"]},
    {"q": "tax", "taasisi": ["tra", "zrb"], "kundi": ["kodi-na-malipo"], "lang": "en"},
    {
        "q": "leseni ya biashara",
        "taasisi": ["halmashauri-tarime"],
        "kundi": ["biashara-na-leseni"],
        "panga": "jina",
    },
    {"q": "bima", "kundi": ["afya"]},
    {"taasisi": ["nhif"], "kundi": ["afya"]},
    {
        "q": "afya",
        "taasisi": ["halmashauri-kilwa"],
        "kundi": ["afya", "biashara-na-leseni"],
        "ukurasa": 2,
    },
)
FACETED: tuple[dict[str, Any], ...] = (
    {},
    {"panga": "maarufu"},
    {"ukurasa": 5},
    {"tukio": ["kuanzisha-biashara"]},
    {"hadhira": ["business"]},
    {"njia": ["ussd"]},
    {"tukio": ["kumiliki-ardhi-na-nyumba"], "hadhira": ["citizen"]},
    {"q": "leseni", "tukio": ["kuanzisha-biashara"], "hadhira": ["business"], "njia": ["online"]},
    {"q": "kodi", "njia": ["ussd", "office"]},
    {"q": "mkopo", "tukio": ["elimu-ya-juu"]},
    {"q": "permit", "hadhira": ["foreigner"], "lang": "en"},
    {"njia": ["sms"], "hadhira": ["citizen"]},
    {"tukio": ["kifo-cha-mpendwa"]},
    {"q": "cheti", "tukio": ["kuzaliwa-mtoto", "kifo-cha-mpendwa", "kufunga-ndoa"]},
    {
        "taasisi": ["halmashauri-moshi"],
        "kundi": ["biashara-na-leseni"],
        "tukio": ["kuanzisha-biashara"],
        "hadhira": ["business"],
        "njia": ["office"],
    },
    {
        "q": "kibali",
        "taasisi": ["halmashauri-kahama", "halmashauri-geita"],
        "kundi": ["ardhi-na-makazi", "biashara-na-leseni"],
        "tukio": ["kumiliki-ardhi-na-nyumba"],
        "hadhira": ["citizen"],
        "njia": ["office", "online"],
    },
    {"q": "tax", "hadhira": ["business"], "njia": ["online"], "lang": "en"},
    {"hadhira": ["foreigner"]},
    {"njia": ["app"]},
    {"q": "halmashauri", "hadhira": ["citizen"], "njia": ["office"]},
)


def query_mix() -> list[Query]:
    """The fixed mix: every query is the page's parameters; each asks for all five facets."""
    mix = [_query("word", w) for w in WORDS_SW]
    mix += [_query("word", w, "en") for w in WORDS_EN]
    mix += [
        _query("word", {"q": "leseni", "panga": "maarufu"}),
        _query("word", {"q": "kodi", "ukurasa": 2}),
        _query("word", {"q": "certificate", "panga": "jina", "lang": "en"}),
    ]
    mix += [_query("phrase", p) for p in PHRASES_SW]
    mix += [_query("phrase", p, "en") for p in PHRASES_EN]
    mix += [_query("prefix", p) for p in PREFIXES_SW]
    mix += [_query("prefix", p, "en") for p in PREFIXES_EN]
    mix += [_query("typo", t) for t in TYPOS_SW]
    mix += [_query("typo", t, "en") for t in TYPOS_EN]
    mix += [_query("filtered", f) for f in FILTERED]
    mix += [_query("faceted", f) for f in FACETED]
    return mix


# -- timing ------------------------------------------------------------------------------------


@dataclass
class Measured:
    query: Query
    total: int = -1
    engine: list[float] = field(default_factory=list)  # seconds
    page: list[float] = field(default_factory=list)
    page_total: int | None = None
    page_bytes: int = 0


@contextmanager
def live_server(settings: Settings) -> Iterator[int]:
    """The real app, served by uvicorn in a thread on 127.0.0.1 with a kernel-chosen port."""
    app = create_app(settings)
    # IPPROTO_TCP, not the default 0: asyncio sets TCP_NODELAY only on connections of a socket
    # that says it is TCP, as `uvicorn.run(host=..., port=...)` creates. With 0, every response
    # (headers and body are two writes) waits ~40 ms for a delayed ACK (Nagle).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="critical", lifespan="on", access_log=False)
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    try:
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("the benchmark server did not start")
            time.sleep(0.02)
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


BROWSER_HEADERS = {"Accept": "text/html", "Accept-Encoding": "gzip", "Connection": "keep-alive"}


class PageClient:
    """Keep-alive GETs to 127.0.0.1, sent like a browser's (HTML, gzip accepted)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def get(self, path: str) -> tuple[int, bytes, str, float]:
        """Status, body as received, content encoding and seconds to the last byte."""
        for attempt in range(2):
            start = time.perf_counter()
            try:
                self.connection.request("GET", path, headers=BROWSER_HEADERS)
                response = self.connection.getresponse()
                body = response.read()
            except (http.client.RemoteDisconnected, ConnectionError):
                self.connection.close()  # the server closed an idle connection: open a new one
                if attempt:
                    raise
                continue
            elapsed = time.perf_counter() - start
            if response.will_close:
                self.connection.close()
            return response.status, body, response.getheader("Content-Encoding", ""), elapsed
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.connection.close()


COUNT = re.compile(r'<p class="count" role="status">([^<]*)</p>')


def _page_total(body: bytes, encoding: str) -> int | None:
    html = (gzip.decompress(body) if encoding == "gzip" else body).decode("utf-8")
    found = COUNT.search(html)
    digits = re.sub(r"\D", "", found.group(1)) if found else ""
    return int(digits) if digits else None


def _engine_search(backend: SearchBackend, query: Query) -> tuple[int, float]:
    """The engine call the page makes, timed: the page's SearchQuery, all five facets."""
    start = time.perf_counter()
    result = backend.search(SERVICES, query.parameters.query(query.language))
    return result.total, time.perf_counter() - start


def _page_get(client: PageClient, query: Query) -> tuple[bytes, str, float]:
    status, body, encoding, elapsed = client.get(query.url)
    if status != 200:
        raise RuntimeError(f"GET {query.url} answered {status}")
    return body, encoding, elapsed


def measure(
    backend: SearchBackend, client: PageClient, measured: list[Measured], log: Callable[[str], None]
) -> None:
    """A warm-up pass, then REPEATS timed passes over the mix. Each query is timed at the engine
    and then at the page straight after, so a busy moment on a shared machine hits both."""
    for m in measured:  # warm-up; checks that the page shows the total the engine found
        m.total, _ = _engine_search(backend, m.query)
        body, encoding, _ = _page_get(client, m.query)
        m.page_total = _page_total(body, encoding)
        m.page_bytes = len(body)
    for round_number in range(REPEATS):
        for m in measured:
            m.engine.append(_engine_search(backend, m.query)[1])
            m.page.append(_page_get(client, m.query)[2])
        log(f"timed pass {round_number + 1}/{REPEATS} done")


def facet_check(client: PageClient, backend: SearchBackend) -> list[str]:
    """Every value the page offers as a facet checkbox must be accepted back as a filter.
    Institutions are skipped: their slugs are valid by the catalogue schema."""
    offered = backend.search(SERVICES, _query("faceted", {}).parameters.query("sw")).facets
    problems = []
    for parameter, field_name in FILTERS.items():
        if field_name == "institution":
            continue
        for value in offered.get(field_name, {}):
            url = _query("faceted", {parameter: [value]}).url
            status = client.get(url)[0]
            if status != 200:
                problems.append(
                    f"the page offers the {field_name} facet value `{value}`, but ticking it"
                    f" (`GET {url}`) answers {status}"
                )
    return problems


# -- report ------------------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _summary(measured: list[Measured]) -> dict[str, Any]:
    engine = [s * 1000 for m in measured for s in m.engine]
    page = [s * 1000 for m in measured for s in m.page]
    row = {
        "queries": len(measured),
        "samples": len(engine),
        "engine_p50_ms": percentile(engine, 0.50),
        "engine_p95_ms": percentile(engine, 0.95),
        "page_p50_ms": percentile(page, 0.50),
        "page_p95_ms": percentile(page, 0.95),
    }
    row["ratio_p50"] = row["page_p50_ms"] / row["engine_p50_ms"]
    row["ratio_p95"] = row["page_p95_ms"] / row["engine_p95_ms"]
    return row


def _git_revision() -> str:
    try:
        done = subprocess.run(
            ["git", "describe", "--always", "--dirty"],  # noqa: S607
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except OSError:
        return "unknown"
    return done.stdout.strip() or "unknown"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def machine_facts() -> dict[str, Any]:
    versions = {}
    for package in ("fastapi", "starlette", "uvicorn", "jinja2", "sqlalchemy", "rapidfuzz"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "absent"
    return {
        "cpu_count": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_gib": _memory_gib(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "packages": versions,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def _file_mb(*paths: Path) -> float:
    return round(sum(p.stat().st_size for p in paths if p.exists()) / 1e6, 1)


def _ms(value: float) -> str:
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


def report_markdown(report: dict[str, Any]) -> str:
    o, goal, corpus, t, m = (
        report["overall"],
        report["goal"],
        report["corpus"],
        report["timings_s"],
        report["machine"],
    )
    verdict = "**met**" if goal["met"] else "**NOT met**"
    lines = [
        "# Search benchmark: engine and search page at 20,000 services",
        "",
        f"Run {report['date']} at commit `{report['commit']}` by `python -m bench.search`"
        " (`make bench-search`). Timings vary between runs on a shared machine; the corpus and"
        " the query mix do not.",
        "",
        "## Summary",
        "",
        f"- Goal, page p95 ≤ {GOAL_RATIO:g}× engine p95: {verdict}. Page p95"
        f" {_ms(o['page_p95_ms'])} ms vs engine p95 {_ms(o['engine_p95_ms'])} ms, ratio"
        f" **{o['ratio_p95']:.2f}** (p50: {_ms(o['page_p50_ms'])} vs {_ms(o['engine_p50_ms'])} ms,"
        f" ratio {o['ratio_p50']:.2f}).",
        f"- Corpus: {corpus['services']:,} services, {corpus['institutions']} institutions"
        f" ({corpus['councils']} synthetic district councils), {corpus['templates']} templates,"
        f" {corpus['synonyms']} synonym entries.",
        f"- Build: generate and validate {t['generate']:.1f} s, database load through"
        f" `catalogue_seed` {t['database_load']:.1f} s, index build (`index_rebuild`)"
        f" **{t['index_build']:.1f} s** (index file {corpus['index_mb']} MB, database"
        f" {corpus['database_mb']} MB).",
        f"- Query mix: {o['queries']} queries × {REPEATS} timed runs after one warm-up, at the"
        f" engine and through `GET /tafuta`; {report['zero_result_queries']} queries find"
        " nothing.",
        "",
        "## Latency per kind (ms)",
        "",
        "| kind | queries | engine p50 | engine p95 | page p50 | page p95 | page/engine p50"
        " | page/engine p95 |",
        "|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for kind, row in [*report["kinds"].items(), ("**overall**", o)]:
        label = KIND_LABELS.get(kind, kind)
        lines.append(
            f"| {label} | {row['queries']} | {_ms(row['engine_p50_ms'])}"
            f" | {_ms(row['engine_p95_ms'])} | {_ms(row['page_p50_ms'])}"
            f" | {_ms(row['page_p95_ms'])} | {row['ratio_p50']:.2f} | {row['ratio_p95']:.2f} |"
        )
    overhead = report["page_overhead_ms"]
    lines += [
        "",
        f"Page overhead per query (median page − median engine): p50 {_ms(overhead['p50'])} ms,"
        f" p95 {_ms(overhead['p95'])} ms.",
        "",
        "Slowest queries by median (ms):",
        "",
        "| where | query | kind | total | median |",
        "|---|---|---|--:|--:|",
    ]
    for entry in report["slowest"]:
        lines.append(
            f"| {entry['where']} | `{entry['url']}` | {entry['kind']} | {entry['total']}"
            f" | {_ms(entry['median_ms'])} |"
        )
    if report["problems"]:
        lines += ["", "## Problems found", ""] + [f"- {p}" for p in report["problems"]]
    lines += [
        "",
        "## Method",
        "",
        "- Engine: `EmbeddedBackend.search(SERVICES, SearchParameters(...).query(language))`, the"
        " query the page builds (all five facets, 10 per page), in this process.",
        "- Page: the app from `create_app(Settings(...))` under uvicorn in a thread on 127.0.0.1;"
        " one keep-alive `http.client` connection, `Accept-Encoding: gzip`, time to the last byte"
        " of each 200 response. The page also records each search in the database (one commit)"
        " and renders the full HTML with facets.",
        "- The listening socket is created as TCP (`IPPROTO_TCP`), as `portal run` with one worker"
        " gets it, so asyncio sets `TCP_NODELAY`. A socket made with protocol 0 (uvicorn's"
        " `--workers N` path, Kludex/uvicorn#3149) adds about 40 ms to every response here.",
        "- Runs: one warm-up pass over the whole mix, then the mix in order"
        f" {REPEATS} times; each query is timed at the engine and straight after at the page, so"
        " load from other work on the machine falls on both. p50/p95 by linear interpolation"
        " over all timed samples of a kind.",
        "- Corpus: seed_data taxonomy and synonyms; agency services at every regional office,"
        " council services sampled over 111 councils × 12 wards; random seed"
        f" {RANDOM_SEED}.",
        "",
        "## Machine",
        "",
        f"- {m['cpu_count']} CPUs ({m['cpu_model']}), {m['memory_gib']} GiB RAM; {m['platform']}",
        f"- Python {m['python']}, SQLite {m['sqlite']}; "
        + ", ".join(f"{k} {v}" for k, v in m["packages"].items()),
        f"- Load average at start {m['load_average_at_start']}, at end"
        f" {m['load_average_at_end']}; peak RSS {report['peak_rss_mb']} MB; whole run"
        f" {t['total']:.0f} s.",
        "",
    ]
    return "\n".join(lines)


def _slowest(measured: list[Measured], count: int = 5) -> list[dict[str, Any]]:
    rows = []
    for where in ("engine", "page"):
        ranked = sorted(measured, key=lambda m: -percentile(getattr(m, where), 0.5))
        rows += [
            {
                "where": where,
                "url": m.query.url,
                "kind": m.query.kind,
                "total": m.total,
                "median_ms": percentile(getattr(m, where), 0.5) * 1000,
            }
            for m in ranked[:count]
        ]
    return rows


def report_build(
    measured: list[Measured],
    corpus: dict[str, Any],
    timings: dict[str, float],
    machine: dict[str, Any],
    checks: list[str],
) -> dict[str, Any]:
    kinds = {
        kind: _summary([m for m in measured if m.query.kind == kind])
        for kind in KINDS
        if any(m.query.kind == kind for m in measured)
    }
    overall = _summary(measured)
    overheads = [(percentile(m.page, 0.5) - percentile(m.engine, 0.5)) * 1000 for m in measured]
    problems = [
        f"`{m.query.url}`: the page shows {m.page_total} results, the engine found {m.total}"
        for m in measured
        if m.page_total != m.total
    ] + checks
    machine["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": _git_revision(),
        "goal": {
            "ratio": GOAL_RATIO,
            "met": overall["page_p95_ms"] <= GOAL_RATIO * overall["engine_p95_ms"],
        },
        "overall": overall,
        "kinds": kinds,
        "page_overhead_ms": {
            "p50": percentile(overheads, 0.5),
            "p95": percentile(overheads, 0.95),
        },
        "slowest": _slowest(measured),
        "zero_result_queries": sum(1 for m in measured if m.total == 0),
        "corpus": corpus,
        "timings_s": timings,
        "machine": machine,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "problems": problems,
        "queries": [
            {
                "kind": m.query.kind,
                "url": m.query.url,
                "total": m.total,
                "page_total": m.page_total,
                "page_bytes": m.page_bytes,
                "engine_ms": [round(s * 1000, 3) for s in m.engine],
                "page_ms": [round(s * 1000, 3) for s in m.page],
            }
            for m in measured
        ],
    }


# -- run ---------------------------------------------------------------------------------------


def _log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def _phase(timings: dict[str, float], name: str, action: Callable[[], Any]) -> Any:
    start = time.perf_counter()
    result = action()
    timings[name] = time.perf_counter() - start
    _log(f"{name.replace('_', ' ')}: {timings[name]:.1f} s")
    return result


def _load(engine: Engine, bundle: SeedBundle) -> dict[str, int]:
    with unit_of_work(engine) as session:
        return catalogue_seed(session=session, bundle=bundle, now=NOW)


def corpus_load(settings: Settings, timings: dict[str, float]) -> dict[str, Any]:
    """Generate the corpus, load it into a migrated database and build the index from it."""
    bundle = _phase(timings, "generate", lambda: corpus_build(settings.seed_dir))
    database_migrate(settings.database.url)
    engine = engine_create(settings.database.url)
    try:
        counts = _phase(timings, "database_load", lambda: _load(engine, bundle))
        backend = backend_create(settings)
        indexed = _phase(
            timings, "index_build", lambda: index_rebuild(bind=engine, backend=backend)
        )
    finally:
        engine.dispose()
    database = Path(settings.database.url.removeprefix("sqlite:///"))
    search_file = Path(settings.search.path)
    return {
        "services": indexed,
        "institutions": counts["institutions"],
        "councils": sum(1 for i in bundle.institutions if i.slug.startswith("halmashauri-")),
        "templates": len(yaml.safe_load(CORPUS_FILE.read_text(encoding="utf-8"))["templates"]),
        "synonyms": counts["synonyms"],
        "index_mb": _file_mb(search_file, Path(f"{search_file}-wal")),
        "database_mb": _file_mb(database, Path(f"{database}-wal")),
    }


def run() -> dict[str, Any]:
    began = time.perf_counter()
    machine = machine_facts()
    timings: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="mlango-bench-") as folder:
        settings = Settings(
            environment=Environment.test,
            database=DatabaseSettings(url=f"sqlite:///{Path(folder) / 'bench.db'}"),
            search=SearchSettings(path=Path(folder) / "search.db"),
            meilisearch=MeilisearchSettings(),  # the embedded engine, whatever the environment says
            log_level="warning",
        )
        corpus = corpus_load(settings, timings)
        measured = [Measured(q) for q in query_mix()]
        _log(f"{len(measured)} queries, {REPEATS} timed runs each")
        backend = backend_create(settings)  # a fresh engine, as a new process would have
        with live_server(settings) as port:
            client = PageClient(port)
            try:
                _phase(timings, "timing", lambda: measure(backend, client, measured, _log))
                checks = facet_check(client, backend)
            finally:
                client.close()
    timings["total"] = time.perf_counter() - began
    return report_build(measured, corpus, timings, machine, checks)


def main() -> int:
    report = run()
    REPORT_MD.parent.mkdir(parents=True, exist_ok=True)
    markdown = report_markdown(report)
    REPORT_MD.write_text(markdown, encoding="utf-8")
    REPORT_JSON.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", "utf-8")
    print(markdown)
    _log(f"written {REPORT_MD.relative_to(PROJECT_ROOT)} and {REPORT_JSON.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
