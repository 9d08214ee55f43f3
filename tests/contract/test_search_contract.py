"""The search contract: behaviours every SearchBackend must show, on small designed documents.

Runs against the embedded engine always, and against Meilisearch when MEILISEARCH_URL (with
MEILISEARCH_API_KEY, an admin or master key) points at a server. Assertions are about sets and the
relative order of designed documents, never about scores.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from portal.search.backend import SearchBackend
from portal.search.embedded import EmbeddedBackend
from portal.search.errors import IndexingFailed, SearchConfigError, SearchUnavailable
from portal.search.schemas import IndexSettings, SearchQuery, Sort

SETTINGS = IndexSettings(
    searchable=("title_sw", "title_en", "keywords", "summary_sw", "summary_en"),
    filterable=("institution", "category", "audience", "channels", "service_key"),
    sortable=("popularity", "title_sw", "title_en"),
    synonyms={"pasporti": ["pasipoti"], "kipande": ["kitambulisho"]},
    stop_words=("ya", "wa", "na", "the", "a", "for", "of"),
    exact_words=("nacte",),
    max_total_hits=1000,
    highlightable=("title_sw", "title_en"),
    croppable=("summary_sw", "summary_en"),
)


def doc(key: str, sw: str, en: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": key,
        "service_key": fields.pop("service_key", key),
        "title_sw": sw,
        "title_en": en,
        "keywords": fields.pop("keywords", []),
        "summary_sw": fields.pop("summary_sw", f"Huduma: {sw}."),
        "summary_en": fields.pop("summary_en", f"Service: {en}."),
        "institution": fields.pop("institution", "mamlaka"),
        "category": fields.pop("category", ["jumla"]),
        "audience": fields.pop("audience", ["citizen"]),
        "channels": fields.pop("channels", ["online"]),
        "popularity": fields.pop("popularity", 10),
        **fields,
    }


DOCS = [
    doc("passport", "Kuomba pasipoti", "Apply for a passport", institution="uhamiaji",
        keywords=["hati ya kusafiria"], category=["safari"], popularity=90),
    doc("driving", "Leseni ya udereva", "Driving licence", institution="tra",
        category=["usafiri"], popularity=80),
    doc("business", "Leseni ya biashara", "Business licence", institution="tamisemi",
        category=["biashara"], popularity=70),
    doc("reversed", "Udereva wa leseni ya zamani", "Old licences for drivers",
        institution="tra", category=["usafiri"], popularity=5),
    doc("fines", "Kulipa faini za barabarani", "Pay traffic fines", institution="polisi",
        category=["usafiri"], popularity=60),
    doc("sim", "Kuhakiki laini za simu", "Check SIM lines", institution="tcra", popularity=40),
    doc("umeme", "Kuunganishiwa umeme", "Electricity connection", institution="tanesco",
        popularity=50),
    doc("company", "Usajili wa kampuni", "Company registration", institution="brela",
        category=["biashara"], popularity=30),
    doc("campaign", "Kampeni ya afya", "Health campaign", institution="wizara-afya", popularity=99),
    doc("id-card", "Kitambulisho cha taifa", "National identity card", institution="nida",
        popularity=85),
    doc("old-id", "Kipande cha zamani", "Old paper card", institution="nida", popularity=1),
    doc("summary-only", "Huduma nyingine", "Another service", institution="tra",
        summary_sw="Maelezo yanayotaja leseni mara moja.", summary_en="Mentions licences once.",
        popularity=99),
    doc("awards", "Uhakiki wa tuzo za NACTA", "Verify NACTA awards", institution="nacta",
        popularity=20),
    doc("hostile", "Huduma <script>alert(1)</script> ya majaribio", "Test <b>service</b>",
        institution="majaribio", popularity=2),
    doc("agents", "Mawakala wa huduma", "Service agents", institution="mamlaka",
        channels=["agent's office", "online"], category=["jumla", "jumla"], popularity=3),
]  # fmt: skip


def _meilisearch_backend() -> SearchBackend:
    from portal.search.meili import MeiliBackend

    key = os.environ.get("MEILISEARCH_API_KEY", "")
    return MeiliBackend(os.environ["MEILISEARCH_URL"], search_key=key, admin_key=key, timeout=10)


BACKENDS = ["embedded"] + (["meilisearch"] if os.environ.get("MEILISEARCH_URL") else [])


def test_the_contract_also_runs_on_meilisearch_when_one_is_configured() -> None:
    """Says plainly, once, when the Meilisearch half of the contract did not run."""
    if "meilisearch" not in BACKENDS:
        pytest.skip("MEILISEARCH_URL is not set: the contract ran on the embedded engine only")


@pytest.fixture(params=BACKENDS)
def make_index(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """Returns a function that builds a fresh index from settings and documents."""
    backend: SearchBackend = (
        EmbeddedBackend(tmp_path / "search.db")
        if request.param == "embedded"
        else _meilisearch_backend()
    )
    created: list[str] = []

    def build(
        documents: list[dict[str, Any]] = DOCS, settings: IndexSettings = SETTINGS
    ) -> tuple[SearchBackend, str]:
        name = f"contract_{uuid.uuid4().hex[:12]}"
        created.append(name)
        backend.configure(name, settings)
        backend.replace_all(name, documents)
        return backend, name

    yield build
    if request.param == "meilisearch":
        for name in created:
            backend._admin.delete_index(name)  # type: ignore[attr-defined]


@pytest.fixture
def index(make_index: Any) -> tuple[SearchBackend, str]:
    return make_index()  # type: ignore[no-any-return]


def ids(backend: SearchBackend, name: str, text: str = "", **query: Any) -> list[str]:
    result = backend.search(name, SearchQuery(text=text, per_page=100, **query))
    return [hit.id for hit in result.hits]


# -- indexing and lifecycle -----------------------------------------------------------------


def test_identical_settings_again_change_nothing(index: tuple[SearchBackend, str]) -> None:
    backend, name = index
    before = ids(backend, name, "leseni")
    backend.configure(name, SETTINGS)
    assert ids(backend, name, "leseni") == before
    assert backend.count(name) == len(DOCS)


def test_replace_all_swaps_the_whole_corpus(index: tuple[SearchBackend, str]) -> None:
    backend, name = index
    backend.replace_all(name, [doc("new", "Huduma mpya", "New service")])
    assert backend.document_ids(name) == {"new"}
    assert ids(backend, name, "pasipoti") == []


def test_upsert_replaces_and_delete_removes_everywhere(index: tuple[SearchBackend, str]) -> None:
    backend, name = index
    backend.upsert(name, [doc("passport", "Pasipoti mpya", "New passport", institution="nida")])
    assert ids(backend, name, "pasipoti").count("passport") == 1
    assert ids(backend, name, "kuomba") == []
    backend.delete(name, ["passport", "does-not-exist"])
    result = backend.search(name, SearchQuery(text="pasipoti", facets=("institution",)))
    assert result.total == 0
    assert result.facets["institution"] == {}
    assert backend.count(name) == len(DOCS) - 1


@pytest.mark.parametrize("bad_id", ["with space", "a/b", "x" * 512, ""])
def test_invalid_document_ids_are_refused(index: tuple[SearchBackend, str], bad_id: str) -> None:
    backend, name = index
    with pytest.raises(IndexingFailed):
        backend.upsert(name, [doc(bad_id, "Jina", "Name")])
    assert backend.count(name) == len(DOCS)


# -- matching ---------------------------------------------------------------------------------


def test_case_and_diacritics_are_ignored(index: tuple[SearchBackend, str]) -> None:
    backend, name = index
    assert ids(backend, name, "ÜMEME ") == ids(backend, name, "umeme ") == ["umeme"]
    assert ids(backend, name, "Umeme ") == ["umeme"]


@pytest.mark.parametrize("text", ["pasipoti", "passport", "Pasipoti ", "PASSPORT "])
def test_either_language_finds_the_service(index: tuple[SearchBackend, str], text: str) -> None:
    backend, name = index
    assert ids(backend, name, text)[:1] == ["passport"]


@pytest.mark.parametrize("text", ["pas", "pasip", "leseni ya ud", "apply for a pass"])
def test_the_last_word_is_a_prefix_while_typing(
    index: tuple[SearchBackend, str], text: str
) -> None:
    backend, name = index
    expected = "driving" if "leseni" in text else "passport"
    assert expected in ids(backend, name, text)[:1]


def test_a_trailing_space_completes_the_last_word(index: tuple[SearchBackend, str]) -> None:
    backend, name = index
    assert "passport" in ids(backend, name, "pasip")
    assert ids(backend, name, "pasip ") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("lesseni ", "driving"),  # 7 letters: one typo allowed
        ("passprot ", "passport"),  # a swap is one typo
        ("kampni ", "company"),
        ("regstraton ", "company"),  # 10 letters: two typos allowed
        ("kitambulsyo ", "id-card"),
    ],
)
def test_typo_budget_grows_with_word_length(
    index: tuple[SearchBackend, str], text: str, expected: str
) -> None:
    backend, name = index
    assert expected in ids(backend, name, text)


def test_no_typo_below_five_letters(index: tuple[SearchBackend, str]) -> None:
    backend, name = index
    assert ids(backend, name, "umme ") == []


def test_a_changed_first_letter_costs_two_typos(index: tuple[SearchBackend, str]) -> None:
    backend, name = index
    found = ids(backend, name, "laini ")
    assert "sim" in found
    assert "fines" not in found


def test_an_exact_match_ranks_above_a_typo_match(index: tuple[SearchBackend, str]) -> None:
    backend, name = index
    found = ids(backend, name, "kampuni ")
    assert found.index("company") < found.index("campaign")


def test_quoted_phrases_need_adjacent_words_in_order(index: tuple[SearchBackend, str]) -> None:
    backend, name = index
    found = ids(backend, name, '"leseni ya udereva"')
    assert "driving" in found
    assert "reversed" not in found


def test_documents_with_all_words_come_first(index: tuple[SearchBackend, str]) -> None:
    backend, name = index
    found = ids(backend, name, "leseni biashara ")
    assert found[0] == "business"
    assert {"driving", "reversed"} <= set(found)


def test_an_unknown_trailing_word_does_not_empty_the_results(
    index: tuple[SearchBackend, str],
) -> None:
    backend, name = index
    assert {"driving", "business"} <= set(ids(backend, name, "leseni xyzzy"))


def test_a_title_match_ranks_above_a_summary_match(index: tuple[SearchBackend, str]) -> None:
    backend, name = index
    found = ids(backend, name, "leseni ")
    assert found.index("driving") < found.index("summary-only")
    assert found.index("business") < found.index("summary-only")


def test_synonyms_find_what_typos_cannot(make_index: Any) -> None:
    backend, name = make_index()
    assert "passport" in ids(backend, name, "pasporti ")
    plain, plain_name = make_index(settings=replace(SETTINGS, synonyms={}))
    assert "passport" not in ids(plain, plain_name, "pasporti ")


def test_one_way_synonyms_work_in_one_direction(index: tuple[SearchBackend, str]) -> None:
    backend, name = index
    assert {"id-card", "old-id"} <= set(ids(backend, name, "kipande "))
    assert "old-id" not in ids(backend, name, "kitambulisho ")


def test_stop_words_do_not_change_matches(index: tuple[SearchBackend, str]) -> None:
    backend, name = index
    assert set(ids(backend, name, "leseni ya udereva ")) == set(
        ids(backend, name, "leseni udereva ")
    )


def test_exact_words_never_match_by_typo(make_index: Any) -> None:
    backend, name = make_index()
    assert "awards" not in ids(backend, name, "nacte ")
    loose, loose_name = make_index(settings=replace(SETTINGS, exact_words=()))
    assert "awards" in ids(loose, loose_name, "nacte ")


HOSTILE = [
    '"', 'AND', "NOT kodi", "*", "e-passport", "10%", "c++", "🙂🙂", "o'clock", "NEAR(a b)",
    '"unterminated', "x" * 300, "col:kodi", "^kodi", "\\", "'; DROP TABLE x; --", "%ff\x00",
    "leseni OR 1=1", "{title_sw}: leseni", "-leseni",
]  # fmt: skip


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_input_never_errors(index: tuple[SearchBackend, str], text: str) -> None:
    backend, name = index
    backend.search(name, SearchQuery(text=text, facets=("institution",)))


@pytest.mark.parametrize("text", ["", "   "])
def test_an_empty_query_returns_everything(index: tuple[SearchBackend, str], text: str) -> None:
    backend, name = index
    result = backend.search(name, SearchQuery(text=text, per_page=100))
    assert result.total == len(DOCS)


# -- filters, facets, sorting, distinct ----------------------------------------------------


def test_filters_are_and_across_fields_and_or_within(index: tuple[SearchBackend, str]) -> None:
    backend, name = index
    found = ids(
        backend, name, filters={"institution": ("tra",), "category": ("usafiri", "biashara")}
    )
    assert set(found) == {"driving", "reversed"}
    assert set(ids(backend, name, filters={"institution": ("TRA", "Polisi")})) == {
        "driving",
        "reversed",
        "summary-only",
        "fines",
    }


def test_filter_values_with_spaces_and_apostrophes(index: tuple[SearchBackend, str]) -> None:
    backend, name = index
    assert ids(backend, name, filters={"channels": ("agent's office",)}) == ["agents"]


@pytest.mark.parametrize(
    "query",
    [
        SearchQuery(filters={"title_sw": ("x",)}),
        SearchQuery(facets=("popularity",)),
        SearchQuery(sort=Sort("institution")),
    ],
)
def test_undeclared_fields_are_a_config_error(
    index: tuple[SearchBackend, str], query: SearchQuery
) -> None:
    backend, name = index
    with pytest.raises(SearchConfigError):
        backend.search(name, query)


def test_facets_count_documents_over_query_and_filter(index: tuple[SearchBackend, str]) -> None:
    backend, name = index
    result = backend.search(
        name,
        SearchQuery(text="leseni ", filters={"institution": ("tra",)}, facets=("category",)),
    )
    assert result.facets["category"] == {"usafiri": 2, "jumla": 1}
    everything = backend.search(name, SearchQuery(facets=("category", "channels")))
    assert everything.facets["category"]["jumla"] == 9  # "agents" lists it twice, counts once
    assert list(everything.facets["channels"]) == ["online", "agent's office"]


def test_every_institution_appears_when_there_are_many(make_index: Any) -> None:
    documents = [
        doc(f"svc-{n}", f"Huduma {n}", f"Service {n}", institution=f"halmashauri-{n:03d}")
        for n in range(130)
    ] + [doc("extra", "Huduma ya ziada", "Extra", institution="halmashauri-007")]
    backend, name = make_index(documents)
    facets = backend.search(name, SearchQuery(facets=("institution",))).facets["institution"]
    assert len(facets) == 130
    assert next(iter(facets.items())) == ("halmashauri-007", 2)
    assert list(facets)[1:3] == ["halmashauri-000", "halmashauri-001"]  # ties by value


def test_sorting(index: tuple[SearchBackend, str]) -> None:
    backend, name = index
    everything = ids(backend, name, sort=Sort("popularity", descending=True))
    popularity = {d["id"]: d["popularity"] for d in DOCS}
    assert [popularity[i] for i in everything] == sorted(popularity.values(), reverse=True)
    by_text = ids(backend, name, "leseni ", sort=Sort("popularity", descending=True))
    assert by_text.index("driving") < by_text.index("summary-only")  # relevance first


def test_distinct_keeps_one_document_per_key(make_index: Any) -> None:
    documents = [
        doc(f"kodi-{council}", "Kulipa kodi ya majengo", "Pay property tax",
            institution=council, service_key="kodi-majengo", popularity=p)
        for council, p in (("arusha", 5), ("dodoma", 9), ("mwanza", 1))
    ] + [doc("umeme", "Umeme", "Electricity")]  # fmt: skip
    backend, name = make_index(documents)
    result = backend.search(name, SearchQuery(text="kodi", distinct="service_key"))
    assert [hit.id for hit in result.hits] == ["kodi-dodoma"]
    assert result.total == 1
    filtered = ids(
        backend, name, "kodi", distinct="service_key", filters={"institution": ("mwanza",)}
    )
    assert filtered == ["kodi-mwanza"]


# -- paging, totals, highlighting, errors ----------------------------------------------------


def test_pages_are_exact_and_do_not_overlap(index: tuple[SearchBackend, str]) -> None:
    backend, name = index
    seen: list[str] = []
    for page in (1, 2, 3, 4):
        result = backend.search(name, SearchQuery(page=page, per_page=4))
        assert result.total == len(DOCS)
        assert result.exact
        seen += [hit.id for hit in result.hits]
    assert sorted(seen) == sorted(d["id"] for d in DOCS)


def test_totals_stop_at_the_cap(make_index: Any) -> None:
    backend, name = make_index(settings=replace(SETTINGS, max_total_hits=5))
    result = backend.search(name, SearchQuery(per_page=4, page=2))
    assert result.total == 5
    assert not result.exact
    assert len(result.hits) == 1
    assert backend.search(name, SearchQuery(per_page=4, page=3)).hits == []
    facets = backend.search(name, SearchQuery(facets=("institution",))).facets["institution"]
    assert sum(facets.values()) == len(DOCS)  # facets count every match, past the cap too


def test_highlights_are_escaped_html(index: tuple[SearchBackend, str]) -> None:
    backend, name = index
    (hit,) = backend.search(name, SearchQuery(text="majaribio ")).hits
    title = hit.highlights["title_sw"]
    assert "<script>" not in title
    assert "&lt;script&gt;" in title
    assert "<mark>majaribio</mark>" in title


def test_typo_and_prefix_matches_are_highlighted(index: tuple[SearchBackend, str]) -> None:
    backend, name = index
    typo = backend.search(name, SearchQuery(text="lesseni ")).hits
    assert any("<mark>Leseni</mark>" in hit.highlights["title_sw"] for hit in typo)
    prefix = backend.search(name, SearchQuery(text="pasip")).hits[0]
    assert "<mark>pasipoti</mark>" in prefix.highlights["title_sw"]


def test_long_summaries_are_cropped_around_a_match(make_index: Any) -> None:
    filler = " ".join(f"neno{n}" for n in range(60))
    backend, name = make_index(
        [doc("long", "Huduma", "Service", summary_sw=f"{filler} leseni {filler}")]
    )
    (hit,) = backend.search(name, SearchQuery(text="leseni ")).hits
    summary = hit.highlights["summary_sw"]
    assert "<mark>leseni</mark>" in summary
    assert summary.startswith("…")
    assert summary.endswith("…")
    assert len(summary) < len(hit.document["summary_sw"])


def test_an_unreachable_engine_is_search_unavailable(tmp_path: Path) -> None:
    backend = EmbeddedBackend(tmp_path / "missing-folder" / "search.db")
    with pytest.raises(SearchUnavailable):
        backend.search("services", SearchQuery(text="leseni"))


def test_an_index_never_built_is_search_unavailable(tmp_path: Path) -> None:
    with pytest.raises(SearchUnavailable):
        EmbeddedBackend(tmp_path / "search.db").search("services", SearchQuery())
