"""The Meilisearch adapter against a fake HTTP layer (`responses`): no server needed.

`FakeMeili` answers the few routes the adapter uses, keeps indexes, settings, documents and tasks,
and behaves like the server where it matters here: writes are tasks, PATCH merges settings and set-
like lists come back sorted. The contract suite covers engine behaviour against a real server.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import meilisearch
import pytest
import requests
import responses
from requests import PreparedRequest

from portal.search.errors import IndexingFailed, SearchConfigError, SearchUnavailable
from portal.search.meili import MeiliBackend, filter_expression
from portal.search.schemas import IndexSettings, SearchQuery, Sort

URL = "http://meili.test:7700"
NOW = "2026-11-01T00:00:00.000000Z"
RULES_SINCE_1_36 = [
    "words",
    "typo",
    "proximity",
    "attributeRank",
    "sort",
    "wordPosition",
    "exactness",
]
RULES_BEFORE_1_36 = ["words", "typo", "proximity", "attribute", "sort", "exactness"]
SETTINGS = IndexSettings(
    searchable=("title_sw", "title_en", "keywords", "summary_sw", "summary_en"),
    filterable=("institution", "category", "status", "service_key"),
    sortable=("popularity", "title_sw"),
    synonyms={"pasipoti": ["passport"], "passport": ["pasipoti"]},
    stop_words=("ya", "na", "the"),
    exact_words=("tra", "nida"),
    highlightable=("title_sw", "title_en"),
    croppable=("summary_sw",),
)
Reply = tuple[int, dict[str, str], str]


def _path(request: PreparedRequest) -> str:
    return urlsplit(str(request.url)).path


def _body(request: PreparedRequest) -> Any:
    body = request.body
    assert isinstance(body, str | bytes | None)
    return json.loads(body or "null")


def _json(status: int, body: Any) -> Reply:
    return status, {"Content-Type": "application/json"}, json.dumps(body)


class FakeMeili:
    """Just enough of Meilisearch's HTTP API for the adapter, served through `responses`."""

    def __init__(self, mock: responses.RequestsMock, rules: list[str] = RULES_SINCE_1_36) -> None:
        self.mock = mock
        self.rules = rules
        self.settings: dict[str, dict[str, Any]] = {}
        self.documents: dict[str, dict[str, dict[str, Any]]] = {}
        self.tasks: dict[int, dict[str, Any]] = {}
        self.polls: dict[int, int] = {}
        self.processing_polls = 0  # polls that answer "processing" before a task ends
        self.fail: dict[str, str] = {}  # task type -> the engine's error message
        self.fail_once: dict[str, str] = {}  # the same, for the next task of that type only
        self.search_reply: dict[str, Any] = {"hits": [], "totalHits": 0, "facetDistribution": {}}
        self.overrides: dict[tuple[str, str], Reply | Exception] = {}  # (method, path) -> answer
        routes: list[tuple[str, str, Callable[[PreparedRequest, re.Match[str]], Reply]]] = [
            ("GET", r"/indexes/([^/]+)/settings", self._get_settings),
            ("PATCH", r"/indexes/([^/]+)/settings", self._patch_settings),
            ("POST", r"/indexes", self._create_index),
            ("DELETE", r"/indexes/([^/]+)", self._delete_index),
            ("POST", r"/indexes/([^/]+)/documents", self._add_documents),
            ("POST", r"/indexes/([^/]+)/documents/delete-batch", self._delete_documents),
            ("POST", r"/indexes/([^/]+)/documents/fetch", self._fetch_documents),
            ("GET", r"/indexes/([^/]+)/stats", self._stats),
            ("POST", r"/indexes/([^/]+)/search", self._search),
            ("POST", r"/swap-indexes", self._swap),
            ("GET", r"/tasks/(\d+)", self._task),
        ]
        for method, path, handler in routes:
            pattern = re.compile(re.escape(URL) + path + r"(\?.*)?$")
            mock.add_callback(method, pattern, callback=self._route(pattern, handler))

    def _route(
        self,
        pattern: re.Pattern[str],
        handler: Callable[[PreparedRequest, re.Match[str]], Reply],
    ) -> Callable[[PreparedRequest], Reply | Exception]:
        def callback(request: PreparedRequest) -> Reply | Exception:
            override = self.overrides.get((request.method or "", _path(request)))
            if override is not None:
                return override  # an exception is raised by `responses`, as by requests
            match = pattern.match(request.url or "")
            assert match
            return handler(request, match)

        return callback

    # -- what the tests look at ------------------------------------------------------------------

    def requests(self, *, polls: bool = False) -> list[tuple[str, str]]:
        """(method, path) of every request so far, task polling left out unless asked for."""
        seen = [(c.request.method or "", _path(c.request)) for c in self.mock.calls]
        return [r for r in seen if polls or not r[1].startswith("/tasks/")]

    def bodies(self, method: str, path: str) -> list[Any]:
        return [
            _body(c.request)
            for c in self.mock.calls
            if c.request.method == method and _path(c.request) == path
        ]

    def add_index(self, uid: str, documents: list[dict[str, Any]] | None = None) -> None:
        self.settings[uid] = self._defaults()
        self.documents[uid] = {d["id"]: d for d in documents or []}

    # -- routes ------------------------------------------------------------------------------------

    def _defaults(self) -> dict[str, Any]:
        return {
            "displayedAttributes": ["*"],
            "searchableAttributes": ["*"],
            "filterableAttributes": [],
            "sortableAttributes": [],
            "rankingRules": list(self.rules),
            "stopWords": [],
            "synonyms": {},
            "distinctAttribute": None,
            "typoTolerance": {
                "enabled": True,
                "minWordSizeForTypos": {"oneTypo": 5, "twoTypos": 9},
                "disableOnWords": [],
                "disableOnAttributes": [],
                "disableOnNumbers": False,
            },
            "faceting": {"maxValuesPerFacet": 100, "sortFacetValuesBy": {"*": "alpha"}},
            "pagination": {"maxTotalHits": 1000},
            "localizedAttributes": None,
            "embedders": {},
            "facetSearch": True,
            "prefixSearch": "indexingTime",
        }

    def _missing(self, uid: str) -> Reply:
        return _json(
            404,
            {
                "message": f"Index `{uid}` not found.",
                "code": "index_not_found",
                "type": "invalid_request",
                "link": "https://docs.meilisearch.com/errors#index_not_found",
            },
        )

    def _enqueue(self, kind: str, uid: str | None, effect: Callable[[], None]) -> Reply:
        task_uid = len(self.tasks)
        message = self.fail_once.pop(kind, None) or self.fail.get(kind)
        if message is None:
            effect()
        self.tasks[task_uid] = {
            "uid": task_uid,
            "indexUid": uid,
            "status": "failed" if message else "succeeded",
            "type": kind,
            "error": message and {"message": message, "code": "x", "type": "invalid_request"},
            "enqueuedAt": NOW,
        }
        info = {"taskUid": task_uid, "indexUid": uid, "status": "enqueued", "type": kind}
        return _json(202, {**info, "enqueuedAt": NOW})

    def _task(self, request: PreparedRequest, match: re.Match[str]) -> Reply:
        task_uid = int(match[1])
        self.polls[task_uid] = self.polls.get(task_uid, 0) + 1
        if self.polls[task_uid] <= self.processing_polls:
            return _json(200, {**self.tasks[task_uid], "status": "processing", "error": None})
        return _json(200, self.tasks[task_uid])

    def _get_settings(self, request: PreparedRequest, match: re.Match[str]) -> Reply:
        if match[1] not in self.settings:
            return self._missing(match[1])
        return _json(200, self.settings[match[1]])

    def _patch_settings(self, request: PreparedRequest, match: re.Match[str]) -> Reply:
        uid, body = match[1], _body(request)

        def effect() -> None:
            stored = self.settings.setdefault(uid, self._defaults())
            for key, value in body.items():
                stored[key] = {**stored[key], **value} if isinstance(value, dict) else value
            # The server keeps these as sets and answers them sorted.
            for key in ("filterableAttributes", "sortableAttributes", "stopWords"):
                stored[key] = sorted(stored[key])
            stored["typoTolerance"]["disableOnWords"].sort()

        return self._enqueue("settingsUpdate", uid, effect)

    def _create_index(self, request: PreparedRequest, match: re.Match[str]) -> Reply:
        body = _body(request)
        return self._enqueue("indexCreation", body["uid"], lambda: self.add_index(body["uid"]))

    def _delete_index(self, request: PreparedRequest, match: re.Match[str]) -> Reply:
        def effect() -> None:
            self.settings.pop(match[1])
            self.documents.pop(match[1])

        return self._enqueue("indexDeletion", match[1], effect)

    def _add_documents(self, request: PreparedRequest, match: re.Match[str]) -> Reply:
        uid, body = match[1], _body(request)

        def effect() -> None:
            self.documents.setdefault(uid, {}).update({d["id"]: d for d in body})

        return self._enqueue("documentAdditionOrUpdate", uid, effect)

    def _delete_documents(self, request: PreparedRequest, match: re.Match[str]) -> Reply:
        uid, ids = match[1], _body(request)

        def effect() -> None:
            for document_id in ids:
                self.documents[uid].pop(document_id, None)

        return self._enqueue("documentDeletion", uid, effect)

    def _fetch_documents(self, request: PreparedRequest, match: re.Match[str]) -> Reply:
        if match[1] not in self.documents:
            return self._missing(match[1])
        body = _body(request)
        ids = sorted(self.documents[match[1]])
        page = ids[body["offset"] : body["offset"] + body["limit"]]
        results = [dict.fromkeys(body["fields"], i) for i in page]
        reply = {"results": results, "offset": body["offset"], "limit": body["limit"]}
        return _json(200, {**reply, "total": len(ids)})

    def _stats(self, request: PreparedRequest, match: re.Match[str]) -> Reply:
        if match[1] not in self.documents:
            return self._missing(match[1])
        count = len(self.documents[match[1]])
        stats = {"numberOfDocuments": count, "isIndexing": False, "fieldDistribution": {}}
        return _json(200, stats)

    def _search(self, request: PreparedRequest, match: re.Match[str]) -> Reply:
        return _json(200, self.search_reply)

    def _swap(self, request: PreparedRequest, match: re.Match[str]) -> Reply:
        (swap,) = _body(request)
        first, second = swap["indexes"]

        def effect() -> None:
            for store in (self.settings, self.documents):
                store[first], store[second] = store[second], store[first]

        return self._enqueue("indexSwap", None, effect)


@pytest.fixture
def mock() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as requests_mock:
        yield requests_mock


@pytest.fixture
def fake(mock: responses.RequestsMock) -> FakeMeili:
    return FakeMeili(mock)


def _backend(task_timeout_ms: int = 600_000) -> MeiliBackend:
    return MeiliBackend(
        URL,
        search_key="search-key",
        admin_key="admin-key",
        timeout=2.5,
        task_timeout_ms=task_timeout_ms,
    )


@pytest.fixture
def backend() -> MeiliBackend:
    return _backend()


@pytest.fixture
def configured(fake: FakeMeili, backend: MeiliBackend) -> MeiliBackend:
    """A backend whose `services` index exists with SETTINGS applied; requests so far forgotten."""
    backend.configure("services", SETTINGS)
    fake.mock.calls.reset()
    return backend


def _services(count: int, prefix: str = "svc") -> list[dict[str, Any]]:
    return [{"id": f"{prefix}-{n}", "title_sw": f"Huduma {n}"} for n in range(count)]


def _locale_keys(value: Any) -> list[str]:
    """Every key anywhere in a JSON value that names a language setting."""
    if isinstance(value, dict):
        own = [k for k in value if k in ("locales", "localizedAttributes")]
        return own + [k for v in value.values() for k in _locale_keys(v)]
    if isinstance(value, list):
        return [k for v in value for k in _locale_keys(v)]
    return []


# -- settings ----------------------------------------------------------------------------------


def test_configure_creates_the_index_with_id_as_primary_key(
    fake: FakeMeili, backend: MeiliBackend
) -> None:
    backend.configure("services", SETTINGS)

    assert fake.requests() == [
        ("GET", "/indexes/services/settings"),  # 404: no index yet
        ("POST", "/indexes"),
        ("GET", "/indexes/services/settings"),
        ("PATCH", "/indexes/services/settings"),
    ]
    assert fake.bodies("POST", "/indexes") == [{"uid": "services", "primaryKey": "id"}]


def test_settings_payload(fake: FakeMeili, backend: MeiliBackend) -> None:
    backend.configure("services", SETTINGS)

    (payload,) = fake.bodies("PATCH", "/indexes/services/settings")
    assert payload["searchableAttributes"] == list(SETTINGS.searchable)  # order kept
    assert payload["filterableAttributes"] == list(SETTINGS.filterable)
    assert payload["sortableAttributes"] == list(SETTINGS.sortable)
    assert payload["rankingRules"] == [*RULES_SINCE_1_36, "popularity:desc"]
    assert payload["faceting"] == {"maxValuesPerFacet": 500, "sortFacetValuesBy": {"*": "count"}}
    assert payload["pagination"] == {"maxTotalHits": 5000}
    assert payload["typoTolerance"] == {"disableOnWords": ["tra", "nida"], "disableOnNumbers": True}
    assert payload["synonyms"] == SETTINGS.synonyms
    assert payload["stopWords"] == ["ya", "na", "the"]
    assert _locale_keys(payload) == []  # Meilisearch has no Swahili locale


@pytest.mark.parametrize("server_rules", [RULES_SINCE_1_36, RULES_BEFORE_1_36])
def test_ranking_rules_are_the_servers_own_plus_popularity(
    mock: responses.RequestsMock, backend: MeiliBackend, server_rules: list[str]
) -> None:
    fake = FakeMeili(mock, rules=server_rules)
    fake.add_index("services")

    backend.configure("services", SETTINGS)

    (payload,) = fake.bodies("PATCH", "/indexes/services/settings")
    rules = payload["rankingRules"]
    assert rules == [*server_rules, "popularity:desc"]
    assert not {"attribute", "attributeRank"} <= set(rules)  # never both


def test_the_popularity_rule_is_not_appended_twice(fake: FakeMeili, backend: MeiliBackend) -> None:
    fake.add_index("services")
    fake.settings["services"]["rankingRules"] = [*RULES_SINCE_1_36, "popularity:desc"]

    backend.configure("services", SETTINGS)

    (payload,) = fake.bodies("PATCH", "/indexes/services/settings")
    assert payload["rankingRules"] == [*RULES_SINCE_1_36, "popularity:desc"]


def test_identical_settings_send_no_patch(fake: FakeMeili, backend: MeiliBackend) -> None:
    backend.configure("services", SETTINGS)
    fake.mock.calls.reset()

    # The server answers set-like lists sorted and typo settings in full: still identical.
    _backend().configure("services", SETTINGS)

    assert fake.requests() == [("GET", "/indexes/services/settings")]


def test_changed_settings_are_sent(fake: FakeMeili, backend: MeiliBackend) -> None:
    backend.configure("services", SETTINGS)
    fake.mock.calls.reset()

    backend.configure("services", IndexSettings(**{**vars(SETTINGS), "stop_words": ("ya",)}))

    assert fake.requests() == [
        ("GET", "/indexes/services/settings"),
        ("PATCH", "/indexes/services/settings"),
    ]


# -- filters -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, None),
        ({"institution": ("tra",)}, "institution = 'tra'"),
        (
            {"institution": ("tra",), "category": ("kodi", "usafiri")},
            "institution = 'tra' AND (category = 'kodi' OR category = 'usafiri')",
        ),
        (
            {"institution": ("halmashauri ya jiji la arusha",)},
            "institution = 'halmashauri ya jiji la arusha'",
        ),
        ({"category": ("o'clock",)}, r"category = 'o\'clock'"),
        ({"category": ("back\\slash",)}, r"category = 'back\\slash'"),
        ({"category": ("\\'",)}, r"category = '\\\''"),
        ({"category": ('"double"',)}, "category = '\"double\"'"),
    ],
)
def test_filter_expression(filters: dict[str, tuple[str, ...]], expected: str | None) -> None:
    assert filter_expression(filters) == expected


def test_a_value_cannot_break_out_of_its_quotes() -> None:
    expression = filter_expression({"institution": ("tra' OR status = 'draft",)})

    assert expression == r"institution = 'tra\' OR status = \'draft'"


def test_a_filter_without_values_is_refused() -> None:
    with pytest.raises(ValueError, match="category"):
        filter_expression({"category": ()})


def test_user_text_never_reaches_the_filter(fake: FakeMeili, configured: MeiliBackend) -> None:
    text = "x' OR institution = 'nida"
    configured.search("services", SearchQuery(text=text))
    configured.search("services", SearchQuery(text=text, filters={"institution": ("tra",)}))

    first, second = fake.bodies("POST", "/indexes/services/search")
    assert first["q"] == second["q"] == text
    assert "filter" not in first
    assert second["filter"] == "institution = 'tra'"


# -- tasks ---------------------------------------------------------------------------------------


def test_a_failed_task_raises_with_the_engines_message(
    fake: FakeMeili, configured: MeiliBackend
) -> None:
    fake.fail["documentAdditionOrUpdate"] = "The `popularity` field is not a number."

    with pytest.raises(IndexingFailed, match="The `popularity` field is not a number"):
        configured.upsert("services", _services(1))


def test_the_wait_polls_with_the_long_timeout(
    fake: FakeMeili, configured: MeiliBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    timeouts: list[int] = []
    original = meilisearch.Client.wait_for_task

    def spy(client: meilisearch.Client, uid: int, timeout_in_ms: int = 5000, **kw: Any) -> Any:
        timeouts.append(timeout_in_ms)
        return original(client, uid, timeout_in_ms, **kw)

    monkeypatch.setattr(meilisearch.Client, "wait_for_task", spy)
    fake.processing_polls = 2

    configured.upsert("services", _services(1))

    assert timeouts == [600_000]  # not the client's 5 s default
    assert fake.requests(polls=True).count(("GET", "/tasks/2")) == 3  # processing twice, then done


def test_a_task_that_outlasts_the_timeout_is_a_failure(
    fake: FakeMeili, configured: MeiliBackend
) -> None:
    fake.processing_polls = 10**6
    backend = _backend(task_timeout_ms=120)
    backend.configure("services", SETTINGS)  # a no-op: no task to wait for

    with pytest.raises(IndexingFailed, match="did not finish within 120 ms"):
        backend.upsert("services", _services(1))


# -- search responses ----------------------------------------------------------------------------


def _hit(document_id: str, **formatted: str) -> dict[str, Any]:
    return {"id": document_id, "title_sw": "t", "_formatted": {"id": document_id, **formatted}}


def test_search_request(fake: FakeMeili, configured: MeiliBackend) -> None:
    configured.search(
        "services",
        SearchQuery(
            text="leseni ya ud",
            filters={"category": ("usafiri",)},
            facets=("institution", "category"),
            sort=Sort("popularity", descending=True),
            page=2,
            per_page=10,
            distinct="service_key",
        ),
    )

    (body,) = fake.bodies("POST", "/indexes/services/search")
    assert body == {
        "q": "leseni ya ud",
        "page": 2,
        "hitsPerPage": 10,
        "filter": "category = 'usafiri'",
        "facets": ["institution", "category"],
        "sort": ["popularity:desc"],
        "distinct": "service_key",
        "attributesToHighlight": ["title_sw", "title_en", "summary_sw"],
        "highlightPreTag": "\x02",
        "highlightPostTag": "\x03",
        "attributesToCrop": ["summary_sw"],
        "cropLength": 24,
        "cropMarker": "…",
    }


def test_an_empty_query_is_a_placeholder_search(fake: FakeMeili, configured: MeiliBackend) -> None:
    configured.search("services", SearchQuery(highlight=False))

    (body,) = fake.bodies("POST", "/indexes/services/search")
    assert body == {"q": "", "page": 1, "hitsPerPage": 20}


def test_totals_and_facets(fake: FakeMeili, configured: MeiliBackend) -> None:
    fake.search_reply = {
        "hits": [_hit("svc-1")],
        "totalHits": 42,
        "totalPages": 3,
        "facetDistribution": {
            "category": {"usafiri": 2, "kodi": 5, "biashara": 2, "ardhi": 0},
            "institution": {"tra": 7},
        },
    }

    result = configured.search("services", SearchQuery(facets=("category", "institution")))

    assert (result.total, result.exact) == (42, True)
    assert list(result.facets["category"].items()) == [("kodi", 5), ("biashara", 2), ("usafiri", 2)]
    assert result.facets["institution"] == {"tra": 7}
    assert [hit.id for hit in result.hits] == ["svc-1"]
    assert result.hits[0].document == {"id": "svc-1", "title_sw": "t"}


@pytest.mark.parametrize(
    ("reply", "exact"),
    [
        ({"totalHits": 4999}, True),
        ({"totalHits": 5000}, False),  # the cap: there may be more
        ({"estimatedTotalHits": 12}, False),
    ],
)
def test_the_exact_flag(
    fake: FakeMeili, configured: MeiliBackend, reply: dict[str, int], exact: bool
) -> None:
    fake.search_reply = {"hits": [], **reply}

    assert configured.search("services", SearchQuery()).exact is exact


def test_highlights_are_escaped_html_with_marks(fake: FakeMeili, configured: MeiliBackend) -> None:
    fake.search_reply = {
        "totalHits": 1,
        "hits": [
            _hit(
                "svc-1",
                title_sw="Kuomba \x02pasipoti\x03 <script>alert('x')</script>",
                title_en="Apply for a \x02pass\x03port & visa",
                summary_sw="…ofisi za \x02pasipoti\x03 <b>zote</b>…",
            )
        ],
    }

    (hit,) = configured.search("services", SearchQuery(text="pasipoti")).hits

    assert hit.highlights == {
        "title_sw": "Kuomba <mark>pasipoti</mark> &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;",
        "title_en": "Apply for a <mark>pass</mark>port &amp; visa",
        "summary_sw": "…ofisi za <mark>pasipoti</mark> &lt;b&gt;zote&lt;/b&gt;…",
    }
    assert "_formatted" not in hit.document


def test_no_highlighting_when_not_asked(fake: FakeMeili, configured: MeiliBackend) -> None:
    fake.search_reply = {"totalHits": 1, "hits": [_hit("svc-1", title_sw="\x02a\x03")]}

    (hit,) = configured.search("services", SearchQuery(text="a", highlight=False)).hits

    assert hit.highlights == {}
    assert "attributesToHighlight" not in fake.bodies("POST", "/indexes/services/search")[0]


def test_a_page_past_the_cap_has_no_hits(fake: FakeMeili, backend: MeiliBackend) -> None:
    backend.configure("services", IndexSettings(**{**vars(SETTINGS), "max_total_hits": 40}))
    fake.search_reply = {"totalHits": 40, "hits": [_hit(f"svc-{n}") for n in range(20)]}

    assert len(backend.search("services", SearchQuery(page=2, per_page=20)).hits) == 20
    assert backend.search("services", SearchQuery(page=3, per_page=20)).hits == []


# -- keys ----------------------------------------------------------------------------------------


def test_search_uses_the_search_key_and_writes_the_admin_key(
    fake: FakeMeili, backend: MeiliBackend
) -> None:
    backend.configure("services", SETTINGS)
    backend.upsert("services", _services(2))
    backend.delete("services", ["svc-0"])
    backend.search("services", SearchQuery(text="huduma"))

    keys = {
        (call.request.method, _path(call.request)): call.request.headers["Authorization"]
        for call in fake.mock.calls
    }
    assert keys.pop(("POST", "/indexes/services/search")) == "Bearer search-key"
    assert set(keys.values()) == {"Bearer admin-key"}
    assert ("POST", "/indexes/services/documents/delete-batch") in keys


# -- errors --------------------------------------------------------------------------------------


def test_an_unreachable_server_is_unavailable(
    mock: responses.RequestsMock, backend: MeiliBackend
) -> None:
    refused = requests.ConnectionError("Connection refused")
    for method in ("GET", "POST", "PATCH", "DELETE"):
        mock.add(method, re.compile(re.escape(URL) + ".*"), body=refused)

    with pytest.raises(SearchUnavailable, match="Connection refused"):
        backend.configure("services", SETTINGS)
    with pytest.raises(SearchUnavailable):
        backend.upsert("services", _services(1))
    with pytest.raises(SearchUnavailable):
        backend.count("services")


def test_an_unreachable_server_during_search(fake: FakeMeili, configured: MeiliBackend) -> None:
    fake.overrides["POST", "/indexes/services/search"] = requests.Timeout("read timed out")

    with pytest.raises(SearchUnavailable):
        configured.search("services", SearchQuery(text="kodi"))


@pytest.mark.parametrize(
    ("status", "code", "error"),
    [
        (400, "invalid_search_filter", SearchConfigError),
        (400, "invalid_search_facets", SearchConfigError),
        (400, "invalid_search_sort", SearchConfigError),
        (401, "missing_authorization_header", SearchUnavailable),
        (403, "invalid_api_key", SearchUnavailable),
        (500, "internal", SearchUnavailable),
    ],
)
def test_api_errors_on_search(
    fake: FakeMeili, configured: MeiliBackend, status: int, code: str, error: type[Exception]
) -> None:
    body = {"message": f"engine says {code}", "code": code, "type": "invalid_request", "link": ""}
    fake.overrides["POST", "/indexes/services/search"] = _json(status, body)

    with pytest.raises(error, match=f"engine says {code}"):
        configured.search("services", SearchQuery(filters={"status": ("published",)}))


def test_an_api_error_on_a_write_is_indexing_failed(
    fake: FakeMeili, configured: MeiliBackend
) -> None:
    body = {"message": "The payload is too large", "code": "payload_too_large", "type": "x"}
    fake.overrides["POST", "/indexes/services/documents"] = _json(413, body)

    with pytest.raises(IndexingFailed, match="payload is too large"):
        configured.upsert("services", _services(1))


@pytest.mark.parametrize(
    "query",
    [
        SearchQuery(filters={"audience": ("raia",)}),
        SearchQuery(facets=("audience",)),
        SearchQuery(distinct="title_en"),
        SearchQuery(sort=Sort("updated_at")),
    ],
)
def test_undeclared_fields_are_refused_before_any_request(
    fake: FakeMeili, configured: MeiliBackend, query: SearchQuery
) -> None:
    with pytest.raises(SearchConfigError, match=r"not a (filterable|sortable) attribute"):
        configured.search("services", query)

    assert fake.requests(polls=True) == []


def test_searching_an_index_not_configured_here_is_refused(
    fake: FakeMeili, backend: MeiliBackend
) -> None:
    with pytest.raises(SearchConfigError, match="configure"):
        backend.search("services", SearchQuery())

    assert fake.requests(polls=True) == []


@pytest.mark.parametrize("bad", ["with space", "a/b", "x" * 512, "", "ümlaut", None])
def test_invalid_document_ids_are_refused_before_any_request(
    fake: FakeMeili, configured: MeiliBackend, bad: str | None
) -> None:
    with pytest.raises(IndexingFailed, match="document refused"):
        configured.upsert("services", [{"id": "svc-ok"}, {"id": bad}])
    if bad is not None:
        with pytest.raises(IndexingFailed, match="document refused"):
            configured.delete("services", ["svc-ok", bad])

    assert fake.requests(polls=True) == []


def test_upsert_and_delete(fake: FakeMeili, configured: MeiliBackend) -> None:
    configured.upsert("services", _services(3))
    configured.delete("services", ["svc-1", "svc-unknown"])

    assert configured.document_ids("services") == {"svc-0", "svc-2"}
    assert configured.count("services") == 2
    assert fake.bodies("POST", "/indexes/services/documents/delete-batch") == [
        ["svc-1", "svc-unknown"]
    ]


# -- replace_all ---------------------------------------------------------------------------------


def test_replace_all_builds_swaps_and_drops_a_temporary_index(
    fake: FakeMeili, configured: MeiliBackend
) -> None:
    configured.upsert("services", _services(5, prefix="old"))
    fake.mock.calls.reset()
    progress: list[int] = []

    written = configured.replace_all("services", iter(_services(2500)), progress=progress.append)

    assert written == 2500
    assert progress == [1000, 1000, 500]
    (created,) = fake.bodies("POST", "/indexes")
    temporary = created["uid"]
    assert re.fullmatch(r"services_\d{20}", temporary)
    assert created["primaryKey"] == "id"
    assert fake.requests() == [
        ("GET", "/indexes/services/settings"),  # the live index exists and is configured
        ("POST", "/indexes"),
        ("PATCH", f"/indexes/{temporary}/settings"),  # settings before documents
        ("POST", f"/indexes/{temporary}/documents"),
        ("POST", f"/indexes/{temporary}/documents"),
        ("POST", f"/indexes/{temporary}/documents"),
        ("POST", "/swap-indexes"),
        ("DELETE", f"/indexes/{temporary}"),
    ]
    additions = [str(c.request.url) for c in fake.mock.calls if "/documents" in str(c.request.url)]
    assert all(parse_qs(urlsplit(url).query) == {"primaryKey": ["id"]} for url in additions)
    (temporary_settings,) = fake.bodies("PATCH", f"/indexes/{temporary}/settings")
    assert temporary_settings["rankingRules"] == [*RULES_SINCE_1_36, "popularity:desc"]
    assert temporary_settings["searchableAttributes"] == list(SETTINGS.searchable)
    assert fake.bodies("POST", "/swap-indexes") == [[{"indexes": ["services", temporary]}]]
    assert all(task["status"] == "succeeded" for task in fake.tasks.values())
    assert set(fake.settings) == {"services"}
    assert configured.document_ids("services") == {f"svc-{n}" for n in range(2500)}


def test_replace_all_creates_a_missing_live_index_first(
    fake: FakeMeili, backend: MeiliBackend
) -> None:
    backend.configure("services", SETTINGS)
    fake.settings.clear()  # dropped on the server since
    fake.documents.clear()
    fake.mock.calls.reset()

    backend.replace_all("services", _services(3))

    live, temporary = (body["uid"] for body in fake.bodies("POST", "/indexes"))
    assert live == "services"
    assert fake.requests()[:4] == [
        ("GET", "/indexes/services/settings"),
        ("POST", "/indexes"),
        ("GET", "/indexes/services/settings"),
        ("PATCH", "/indexes/services/settings"),
    ]
    assert fake.requests()[-2:] == [("POST", "/swap-indexes"), ("DELETE", f"/indexes/{temporary}")]
    assert backend.count("services") == 3


def test_a_failed_rebuild_leaves_the_live_index_alone(
    fake: FakeMeili, configured: MeiliBackend
) -> None:
    configured.upsert("services", _services(2, prefix="old"))
    fake.fail["documentAdditionOrUpdate"] = "Document has a malformed field."

    with pytest.raises(IndexingFailed, match="malformed field"):
        configured.replace_all("services", _services(10))

    assert ("POST", "/swap-indexes") not in fake.requests()
    assert fake.requests()[-1][0] == "DELETE"  # the temporary index is discarded
    assert set(fake.settings) == {"services"}
    assert set(fake.documents["services"]) == {"old-0", "old-1"}


def test_a_rebuild_checks_every_batch_not_only_the_last(
    fake: FakeMeili, configured: MeiliBackend
) -> None:
    fake.fail_once["documentAdditionOrUpdate"] = "Batch one had a malformed field."

    with pytest.raises(IndexingFailed, match="Batch one"):
        configured.replace_all("services", _services(2500))

    assert ("POST", "/swap-indexes") not in fake.requests()


def test_a_bad_id_late_in_a_rebuild_discards_the_temporary_index(
    fake: FakeMeili, configured: MeiliBackend
) -> None:
    documents = [*_services(1500), {"id": "not valid"}]

    with pytest.raises(IndexingFailed, match="document refused"):
        configured.replace_all("services", documents)

    assert ("POST", "/swap-indexes") not in fake.requests()
    assert set(fake.settings) == {"services"}


def test_replace_all_needs_the_settings(fake: FakeMeili, backend: MeiliBackend) -> None:
    with pytest.raises(SearchConfigError, match="configure"):
        backend.replace_all("services", _services(1))

    assert fake.requests(polls=True) == []


def test_document_ids_page_through_the_index(fake: FakeMeili, configured: MeiliBackend) -> None:
    fake.documents["services"] = {d["id"]: d for d in _services(2001)}

    assert configured.document_ids("services") == {f"svc-{n}" for n in range(2001)}
    fetches = fake.bodies("POST", "/indexes/services/documents/fetch")
    assert [(f["offset"], f["limit"], f["fields"]) for f in fetches] == [
        (0, 1000, ["id"]),
        (1000, 1000, ["id"]),
        (2000, 1000, ["id"]),
    ]


def test_count_of_a_missing_index_is_a_config_error(fake: FakeMeili, backend: MeiliBackend) -> None:
    with pytest.raises(SearchConfigError, match="not found"):
        backend.count("services")


def test_no_http_in_the_constructor(mock: responses.RequestsMock) -> None:
    _backend()

    assert len(mock.calls) == 0
