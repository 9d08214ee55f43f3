"""The Meilisearch backend: the `SearchBackend` protocol over the official `meilisearch` client.

Searches use a search-only key; writes, settings and tasks an admin key. Every write is a task that
is waited for and checked, and no engine exception crosses this module: see `portal.search.errors`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from itertools import islice
from typing import Any

import meilisearch
import requests
from markupsafe import escape
from meilisearch.errors import MeilisearchApiError, MeilisearchError, MeilisearchTimeoutError
from meilisearch.models.task import TaskInfo

from portal.search.errors import (
    IndexingFailed,
    IndexNotConfigured,
    SearchConfigError,
    SearchUnavailable,
)
from portal.search.schemas import (
    Hit,
    IndexSettings,
    SearchQuery,
    SearchResult,
    document_id_check,
    facet_order,
)

BATCH = 1000
PRE_TAG, POST_TAG = "\x02", "\x03"  # sentinels: no document text contains them
CROP_LENGTH = 24
CROP_MARKER = "…"
ORDERED_SETTINGS = {"searchableAttributes", "rankingRules"}  # order matters in these lists only
PARTIAL_SETTINGS = {"typoTolerance", "faceting", "pagination"}  # we set some of their keys
HIT_META = {"_formatted", "_matchesPosition", "_rankingScore", "_rankingScoreDetails"}
UNAVAILABLE_STATUSES = {401, 403, 408, 429}  # with every 5xx: the engine, not the request


def filter_expression(filters: Mapping[str, Sequence[str]]) -> str | None:
    """Meilisearch filter for {field: values}: AND across fields, OR within; every value quoted."""
    clauses = []
    for field, values in filters.items():
        if not values:
            raise ValueError(f"filter on {field!r} has no values")
        alternatives = [f"{field} = {_quoted(str(value))}" for value in values]
        clause = " OR ".join(alternatives)
        clauses.append(f"({clause})" if len(alternatives) > 1 else clause)
    return " AND ".join(clauses) or None


def _quoted(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _marked(formatted: str) -> str:
    """Escape the engine's text, then turn the sentinel tags into <mark>."""
    html = str(escape(formatted))
    return html.replace(PRE_TAG, "<mark>").replace(POST_TAG, "</mark>")


def _ranking_rules(current: Sequence[str], popularity_field: str | None) -> list[str]:
    """The server's own rules, as it reports them, then ours: never a hard-coded list."""
    rules = [rule for rule in current if not rule.endswith((":asc", ":desc"))]
    return [*rules, f"{popularity_field}:desc"] if popularity_field else rules


def settings_payload(settings: IndexSettings, current_rules: Sequence[str]) -> dict[str, Any]:
    """Meilisearch settings for `settings`; no locales, since Meilisearch has no Swahili."""
    return {
        "searchableAttributes": list(settings.searchable),
        "filterableAttributes": list(settings.filterable),
        "sortableAttributes": list(settings.sortable),
        "rankingRules": _ranking_rules(current_rules, settings.popularity_field),
        "faceting": {
            "maxValuesPerFacet": settings.max_facet_values,
            "sortFacetValuesBy": {"*": "count"},
        },
        "pagination": {"maxTotalHits": settings.max_total_hits},
        "synonyms": {term: list(others) for term, others in settings.synonyms.items()},
        "stopWords": list(settings.stop_words),
        "typoTolerance": {"disableOnWords": list(settings.exact_words), "disableOnNumbers": True},
    }


def _canonical(value: Any, *, ordered: bool = False) -> Any:
    if isinstance(value, dict):
        return {key: _canonical(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        items = [_canonical(item) for item in value]
        return items if ordered else sorted(items, key=lambda i: json.dumps(i, sort_keys=True))
    return value


def _unchanged(current: Mapping[str, Any], payload: Mapping[str, Any]) -> bool:
    """Whether the server already has every setting of the payload (set-like lists unordered)."""
    for key, wanted in payload.items():
        have = current.get(key)
        if key in PARTIAL_SETTINGS and isinstance(have, dict):
            have = {name: have.get(name) for name in wanted}
        ordered = key in ORDERED_SETTINGS
        if _canonical(have, ordered=ordered) != _canonical(wanted, ordered=ordered):
            return False
    return True


def _batches(documents: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    iterator = iter(documents)
    while batch := list(islice(iterator, size)):
        yield batch


def _check_ids(documents: Iterable[Mapping[str, Any]]) -> None:
    for document in documents:
        value = document.get("id")
        try:
            if not isinstance(value, str | int) or isinstance(value, bool):
                raise ValueError(f"invalid search document id: {value!r}")
            document_id_check(str(value))
        except ValueError as error:
            raise IndexingFailed(f"document refused: {error}") from error


class MeiliBackend:
    """SearchBackend on a Meilisearch server; the settings of an index come from `configure`."""

    def __init__(
        self,
        url: str,
        *,
        search_key: str,
        admin_key: str,
        timeout: float,
        task_timeout_ms: int = 600_000,
    ) -> None:
        url = url.rstrip("/")
        # The client types `timeout` as int, but hands it to requests, which takes float seconds.
        self._search = meilisearch.Client(url, search_key, timeout=timeout)  # type: ignore[arg-type]
        self._admin = meilisearch.Client(url, admin_key, timeout=timeout)  # type: ignore[arg-type]
        self._task_timeout_ms = task_timeout_ms
        self._settings: dict[str, IndexSettings] = {}

    # -- errors and tasks ------------------------------------------------------------------------

    @contextmanager
    def _errors(self, action: str, *, write: bool) -> Iterator[None]:
        """Translate every engine or transport failure into a portal exception."""
        try:
            yield
        except MeilisearchApiError as error:
            reason = f"meilisearch refused {action}: {error.message} ({error.code})"
            if error.status_code >= 500 or error.status_code in UNAVAILABLE_STATUSES:
                raise SearchUnavailable(reason) from error
            raise (IndexingFailed if write else SearchConfigError)(reason) from error
        except (MeilisearchError, requests.RequestException) as error:
            # MeilisearchCommunicationError, MeilisearchTimeoutError and raw requests failures.
            raise SearchUnavailable(f"meilisearch unavailable during {action}: {error}") from error

    def _wait(self, task_info: TaskInfo) -> None:
        """Wait for one task with the long timeout; anything but success is IndexingFailed."""
        uid = task_info.task_uid
        try:
            task = self._admin.wait_for_task(uid, timeout_in_ms=self._task_timeout_ms)
        except MeilisearchTimeoutError as error:
            raise IndexingFailed(
                f"meilisearch task {uid} did not finish within {self._task_timeout_ms} ms"
            ) from error
        if task.status != "succeeded":
            message = (task.error or {}).get("message") or "no reason given"
            raise IndexingFailed(f"meilisearch task {uid} ({task.type}) {task.status}: {message}")

    def _known(self, index: str) -> IndexSettings:
        settings = self._settings.get(index)
        if settings is None:
            raise IndexNotConfigured(
                f"index {index!r} is not configured here: call configure() first"
                " (a no-op when the server already has the settings)"
            )
        return settings

    # -- settings and writes ---------------------------------------------------------------------

    def configure(self, index: str, settings: IndexSettings) -> None:
        """Create the index if missing and apply the settings unless the server already has them."""
        with self._errors(f"settings of {index!r}", write=True):
            self._apply(index, settings)
        self._settings[index] = settings

    def _apply(self, index: str, settings: IndexSettings) -> dict[str, Any]:
        try:
            current = self._admin.index(index).get_settings()
        except MeilisearchApiError as error:
            if error.code != "index_not_found":
                raise
            self._wait(self._admin.create_index(index, {"primaryKey": "id"}))
            current = self._admin.index(index).get_settings()
        payload = settings_payload(settings, current.get("rankingRules") or [])
        if not _unchanged(current, payload):
            self._wait(self._admin.index(index).update_settings(payload))
        return payload

    def replace_all(
        self,
        index: str,
        documents: Iterable[dict[str, Any]],
        *,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Build `<index>_<timestamp>` with the same settings, then swap it in and drop the old."""
        settings = self._known(index)
        with self._errors(f"rebuild of {index!r}", write=True):
            payload = self._apply(index, settings)  # the live index must exist for the swap
            temporary = f"{index}_{datetime.now(UTC):%Y%m%d%H%M%S%f}"
            self._wait(self._admin.create_index(temporary, {"primaryKey": "id"}))
            try:
                self._wait(self._admin.index(temporary).update_settings(payload))
                written = self._load(temporary, _batches(documents, BATCH), progress)
                self._wait(self._admin.swap_indexes([{"indexes": [index, temporary]}]))
            except BaseException:
                with suppress(MeilisearchError, requests.RequestException):
                    self._admin.delete_index(temporary)  # best effort; the live index is intact
                raise
            self._wait(self._admin.delete_index(temporary))  # now holds the old corpus
        return written

    def _load(
        self,
        index: str,
        batches: Iterable[list[dict[str, Any]]],
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Send the batches, then wait for the last task and check that every one succeeded."""
        target = self._admin.index(index)
        tasks: list[TaskInfo] = []
        written = 0
        for batch in batches:
            _check_ids(batch)
            tasks.append(target.add_documents(batch, primary_key="id"))
            written += len(batch)
            if progress:
                progress(len(batch))
        for task in reversed(tasks):  # tasks run in order: the last one takes the longest
            self._wait(task)
        return written

    def upsert(self, index: str, documents: Sequence[dict[str, Any]]) -> None:
        """Add or replace documents by id."""
        _check_ids(documents)
        if not documents:
            return
        with self._errors(f"upsert into {index!r}", write=True):
            self._load(index, _batches(documents, BATCH))

    def delete(self, index: str, ids: Sequence[str]) -> None:
        """Remove documents by id; unknown ids are ignored."""
        _check_ids({"id": document_id} for document_id in ids)
        if not ids:
            return
        with self._errors(f"deletion in {index!r}", write=True):
            # The endpoint of the client's deprecated `delete_documents(ids)`, minus the warning.
            path = f"indexes/{index}/documents/delete-batch"
            self._wait(TaskInfo(**self._admin.http.post(path, list(ids))))

    # -- reads -----------------------------------------------------------------------------------

    def search(self, index: str, query: SearchQuery) -> SearchResult:
        """Run one query with exact totals, escaped highlights and ordered facets."""
        settings = self._known(index)
        self._check_fields(query, settings)
        if any(not values for values in query.filters.values()):  # a filter no value satisfies
            facets: dict[str, dict[str, int]] = {field: {} for field in query.facets}
            return SearchResult([], 0, True, facets, query.page, query.per_page)
        params: dict[str, Any] = {"page": query.page, "hitsPerPage": query.per_page}
        expression = filter_expression(query.filters)
        if expression:
            params["filter"] = expression
        if query.facets:
            params["facets"] = list(query.facets)
        if query.sort:
            params["sort"] = [f"{query.sort.field}:{'desc' if query.sort.descending else 'asc'}"]
        if query.distinct:
            params["distinct"] = query.distinct
        marked = (*settings.highlightable, *settings.croppable)
        if query.highlight and marked:
            params |= {
                # Cropped fields are highlighted too, as the embedded engine does.
                "attributesToHighlight": list(dict.fromkeys(marked)),
                "highlightPreTag": PRE_TAG,
                "highlightPostTag": POST_TAG,
                "attributesToCrop": list(settings.croppable),
                "cropLength": CROP_LENGTH,
                "cropMarker": CROP_MARKER,
            }
        with self._errors(f"search in {index!r}", write=False):
            response = self._search.index(index).search(query.text, params)
        return self._result(response, query, settings)

    @staticmethod
    def _check_fields(query: SearchQuery, settings: IndexSettings) -> None:
        for field in (*query.filters, *query.facets, *([query.distinct] if query.distinct else [])):
            if field not in settings.filterable:
                raise SearchConfigError(f"{field!r} is not a filterable attribute")
        if query.sort and query.sort.field not in settings.sortable:
            raise SearchConfigError(f"{query.sort.field!r} is not a sortable attribute")

    @staticmethod
    def _result(
        response: Mapping[str, Any], query: SearchQuery, settings: IndexSettings
    ) -> SearchResult:
        exact = "totalHits" in response
        total = int(response.get("totalHits", response.get("estimatedTotalHits", 0)))
        start = (query.page - 1) * query.per_page
        raw_hits = response.get("hits", [])[: max(0, settings.max_total_hits - start)]
        marked = (*settings.highlightable, *settings.croppable)
        hits = []
        for raw in raw_hits:
            formatted = raw.get("_formatted") or {}
            highlights = {
                field: _marked(formatted[field])
                for field in marked
                if query.highlight and isinstance(formatted.get(field), str)
            }
            document = {key: value for key, value in raw.items() if key not in HIT_META}
            hits.append(Hit(id=str(raw["id"]), document=document, highlights=highlights))
        distribution = response.get("facetDistribution") or {}
        facets = {
            field: facet_order({str(v): int(c) for v, c in (distribution.get(field) or {}).items()})
            for field in query.facets
        }
        return SearchResult(
            hits=hits,
            total=total,
            exact=exact and total < settings.max_total_hits,
            facets=facets,
            page=query.page,
            per_page=query.per_page,
        )

    def count(self, index: str) -> int:
        """How many documents the index holds."""
        with self._errors(f"count of {index!r}", write=False):
            return self._admin.index(index).get_stats().number_of_documents

    def document_ids(self, index: str) -> set[str]:
        """Every document id in the index, a page of ids at a time."""
        ids: set[str] = set()
        offset = 0
        with self._errors(f"ids of {index!r}", write=False):
            target = self._admin.index(index)
            while True:
                page = target.get_documents({"fields": ["id"], "limit": BATCH, "offset": offset})
                ids.update(str(dict(document)["id"]) for document in page.results)
                offset += len(page.results)
                if not page.results or offset >= page.total:
                    return ids
