"""The search page (`/tafuta`, and `/search` for English readers) and `GET /api/v1/search`.

Both take the same GET parameters. Everything typed is validated here and reaches the engine only
as a typed `SearchQuery`; filters are slugs, never text spliced into a filter language.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from markupsafe import Markup, escape
from pydantic import BaseModel, StringConstraints

from portal.catalogue import selectors as catalogue_selectors
from portal.db import DbSession
from portal.search import services
from portal.search.dependencies import Search
from portal.search.documents import SERVICES
from portal.search.errors import IndexNotConfigured, SearchUnavailable
from portal.search.schemas import Hit, SearchQuery, SearchResult, Sort
from portal.search.semantics import spelling_suggestion
from portal.web.i18n import locale_for
from portal.web.templating import render

PER_PAGE = 10
MAX_PAGE = 1000
MAX_QUERY = 256
MAX_FILTER_VALUES = 20
# Facet values are slugs or codes such as "public_servant": lowercase words joined by - or _.
FacetValue = Annotated[
    str, StringConstraints(pattern=r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$", max_length=80)
]
FacetValues = Annotated[list[FacetValue], Query(max_length=MAX_FILTER_VALUES)]
# Query parameter -> document field; the order is the order of the facets on the page.
FILTERS = {
    "taasisi": "institution",
    "kundi": "category",
    "tukio": "life_events",
    "hadhira": "audience",
    "njia": "channels",
}

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["search"])


class SearchParameters(BaseModel):
    """What a reader may ask of the search, validated before anything else happens."""

    q: str
    taasisi: list[str]
    kundi: list[str]
    tukio: list[str]
    hadhira: list[str]
    njia: list[str]
    panga: str
    ukurasa: int

    def query(self, language: Literal["sw", "en"]) -> SearchQuery:
        sort = {
            "maarufu": Sort("popularity", descending=True),
            "jina": Sort(f"title_{language}"),
        }.get(self.panga)
        return SearchQuery(
            text=self.q,
            filters={
                field: tuple(getattr(self, p)) for p, field in FILTERS.items() if getattr(self, p)
            },
            facets=tuple(FILTERS.values()),
            sort=sort,
            page=self.ukurasa,
            per_page=PER_PAGE,
            language=language,
        )

    def url(self, path: str, **changes: Any) -> str:
        """This search's address with some parameters changed (None removes one)."""
        values = self.model_dump() | changes
        pairs = [("q", values["q"])] if values["q"] else []
        for parameter in FILTERS:
            pairs += [(parameter, value) for value in values[parameter]]
        if values["panga"]:
            pairs.append(("panga", values["panga"]))
        if values["ukurasa"] and values["ukurasa"] > 1:
            pairs.append(("ukurasa", values["ukurasa"]))
        return f"{path}?{urlencode(pairs)}" if pairs else path


def _parameters(
    q: Annotated[str, Query(max_length=MAX_QUERY, description="what the reader typed")] = "",
    taasisi: FacetValues = [],  # noqa: B006  (FastAPI copies defaults per request)
    kundi: FacetValues = [],  # noqa: B006
    tukio: FacetValues = [],  # noqa: B006
    hadhira: FacetValues = [],  # noqa: B006
    njia: FacetValues = [],  # noqa: B006
    panga: Annotated[Literal["", "maarufu", "jina"], Query(description="sort")] = "",
    ukurasa: Annotated[int, Query(ge=1, le=MAX_PAGE, description="page number")] = 1,
) -> SearchParameters:
    return SearchParameters(
        q="".join(c if c.isprintable() else " " for c in q).strip(),  # no control characters
        taasisi=list(dict.fromkeys(taasisi)),
        kundi=list(dict.fromkeys(kundi)),
        tukio=list(dict.fromkeys(tukio)),
        hadhira=list(dict.fromkeys(hadhira)),
        njia=list(dict.fromkeys(njia)),
        panga=panga,
        ukurasa=ukurasa,
    )


Parameters = Annotated[SearchParameters, Depends(_parameters)]


def _search(search: Search, session: DbSession, query: SearchQuery) -> SearchResult:
    """Run a search; a process that has not yet told the engine the index settings does so."""
    try:
        return search.search(SERVICES, query)
    except IndexNotConfigured:
        services.index_configure(session=session, backend=search)
        return search.search(SERVICES, query)


@pages.get("/tafuta", response_class=HTMLResponse)
@pages.get("/search", response_class=HTMLResponse)
def search_page(
    request: Request, session: DbSession, search: Search, parameters: Parameters
) -> HTMLResponse:
    language: Literal["sw", "en"] = "en" if locale_for(request) == "en" else "sw"
    path = request.url.path
    try:
        result = _search(search, session, parameters.query(language))
    except SearchUnavailable:
        context = {"parameters": parameters, "path": path}
        return render(request, "search/unavailable.html", context, status=503)
    log = None
    if parameters.q and parameters.ukurasa == 1:
        log = services.search_log_record(
            session=session, text=parameters.q, results=result.total, today=dt.date.today()
        )
    suggestion = None
    if result.total == 0 and parameters.q:
        synonyms = catalogue_selectors.synonym_list(session=session)
        suggestion = spelling_suggestion(parameters.q, {t for s in synonyms for t in s.terms})
    first_page = parameters.url(path, ukurasa=None)
    context = {
        "parameters": parameters,
        "result": result,
        "rows": [_row(hit, language, log.id if log else None) for hit in result.hits],
        "active": [
            (
                field,
                value,
                parameters.url(path, ukurasa=None, **{name: [v for v in chosen if v != value]}),
            )
            for name, field in FILTERS.items()
            for chosen in [getattr(parameters, name)]
            for value in chosen
        ],
        "page_base": first_page + ("&" if "?" in first_page else "?") + "ukurasa=",
        "path": path,
        "filters": FILTERS,
        "names": catalogue_selectors.taxonomy_names(session=session),
        "suggestion": suggestion,
    }
    return render(request, "search/results.html", context)


@dataclass(frozen=True)
class ResultRow:
    href: str
    title: Markup
    institution: str
    summary: Markup


def _row(hit: Hit, language: str, log_id: int | None) -> ResultRow:
    """One result for the page: highlights come escaped from the backend; plain text is escaped
    here."""

    def shown(field: str) -> Markup:
        marked = hit.highlights.get(field)
        return Markup(marked) if marked is not None else escape(hit.document[field])  # noqa: S704

    return ResultRow(
        href=f"/tafuta/bofya/{log_id}/{hit.id}" if log_id else f"/huduma/{hit.id}",
        title=shown(f"title_{language}"),
        institution=hit.document.get("institution_acronym", ""),
        summary=shown(f"summary_{language}"),
    )


@pages.get("/tafuta/bofya/{log_id}/{slug}")
def search_click(log_id: int, slug: str, session: DbSession) -> RedirectResponse:
    """Count that a search led to a service, then go there. Only to a real service page."""
    if catalogue_selectors.service_get(session=session, slug=slug) is None:
        raise HTTPException(status_code=404)
    services.search_log_click(session=session, log_id=log_id)
    return RedirectResponse(f"/huduma/{slug}", status_code=303)


class ApiHit(BaseModel):
    id: str
    url: str
    title: dict[str, str]
    summary: dict[str, str]
    institution: str
    highlights: dict[str, str]


class ApiResult(BaseModel):
    total: int
    exact: bool
    page: int
    per_page: int
    hits: list[ApiHit]
    facets: dict[str, dict[str, int]]


class ApiError(BaseModel):
    detail: str


@api.get(
    "/search",
    response_model=ApiResult,
    responses={400: {"model": ApiError}, 503: {"model": ApiError}},
    summary="Search the catalogue of services",
)
def search_api(
    request: Request, session: DbSession, search: Search, parameters: Parameters
) -> ApiResult:
    """The same search as the page, as JSON. Highlights are escaped HTML with `<mark>`."""
    language: Literal["sw", "en"] = "en" if request.query_params.get("lang") == "en" else "sw"
    try:
        result = _search(search, session, parameters.query(language))
    except SearchUnavailable as error:
        raise HTTPException(status_code=503, detail="search is unavailable") from error
    return ApiResult(
        total=result.total,
        exact=result.exact,
        page=result.page,
        per_page=result.per_page,
        facets=result.facets,
        hits=[
            ApiHit(
                id=hit.id,
                url=f"/huduma/{hit.id}",
                title={"sw": hit.document["title_sw"], "en": hit.document["title_en"]},
                summary={"sw": hit.document["summary_sw"], "en": hit.document["summary_en"]},
                institution=hit.document["institution"],
                highlights=hit.highlights,
            )
            for hit in result.hits
        ],
    )
