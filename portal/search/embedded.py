"""The embedded search engine: SQLite FTS5 from the standard library, with Meilisearch's rules.

One SQLite file (WAL) holds every index: a documents table, an FTS5 table of the searchable
fields, a facet table and a term vocabulary. Any number of processes may read while one writes;
writers wait for each other (busy timeout) instead of failing. Each process keeps the facet sets,
sort values and vocabulary of an index in memory and reloads them when the index's generation
number, bumped by every write, changes.

Ranking follows Meilisearch's default rules in order: words matched (the `last` strategy drops
query terms from the end), typos, attribute rank, the requested sort, then popularity.
"""

from __future__ import annotations

import dataclasses
import json
import re
import sqlite3
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from functools import total_ordering
from pathlib import Path
from typing import Any

from portal.search.errors import IndexingFailed, SearchConfigError, SearchUnavailable
from portal.search.schemas import (
    Hit,
    IndexSettings,
    SearchQuery,
    SearchResult,
    Sort,
    document_id_check,
    facet_order,
)
from portal.search.semantics import (
    ParsedQuery,
    Term,
    crop,
    highlight,
    normalize,
    query_parse,
    typo_budget,
    typo_cost,
)

INDEX_NAME = re.compile(r"^[a-z][a-z0-9_]{0,40}$")
FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]{0,60}$")
TITLE_FIELDS = ("title_sw", "title_en")
BATCH = 500


@dataclass
class _Snapshot:
    """What one process keeps of an index between writes."""

    generation: int
    settings: IndexSettings
    rowids: dict[str, int]  # document id -> rowid
    ids: dict[int, str]
    popularity: dict[int, float]
    sort_values: dict[str, dict[int, Any]]
    facets: dict[str, dict[str, set[int]]]  # field -> normalised value -> rowids
    vocabulary: dict[str, list[str]]  # first letter -> terms
    _ranks: dict[Sort | None, dict[int, int]] = dataclasses.field(default_factory=dict)

    def ranks(self, sort: Sort | None) -> dict[int, int]:
        """Every document's place under the sort rule, then popularity, then id (cached)."""
        cached = self._ranks.get(sort)
        if cached is not None:
            return cached
        values = self.sort_values.get(sort.field, {}) if sort else {}

        def key(rowid: int) -> tuple[Any, ...]:
            sort_key: Any = 0
            if sort:
                value = values.get(rowid)
                sort_key = (value is None, _Descending(value) if sort.descending else value)
            return (sort_key, -self.popularity.get(rowid, 0.0), self.ids[rowid])

        ranks = {rowid: place for place, rowid in enumerate(sorted(self.ids, key=key))}
        self._ranks[sort] = ranks
        return ranks


@total_ordering
class _Descending:
    """Wraps a sort value so that ascending order of the wrapper is descending order of it."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Descending) and self.value == other.value

    def __lt__(self, other: _Descending) -> bool:
        if self.value is None or other.value is None:
            return False
        return bool(self.value > other.value)

    __hash__ = None  # type: ignore[assignment]


def _quote(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


def _values(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


class EmbeddedBackend:
    """SearchBackend on one SQLite file; safe for several threads and processes."""

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._snapshots: dict[str, _Snapshot] = {}

    # -- connections -------------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            try:
                connection = sqlite3.connect(self.path, timeout=30, isolation_level=None)
                connection.execute("PRAGMA journal_mode=WAL")
                connection.execute("PRAGMA synchronous=NORMAL")
                options = {row[0] for row in connection.execute("PRAGMA compile_options")}
            except sqlite3.Error as error:
                raise SearchUnavailable(
                    f"embedded search cannot open {self.path}: {error}"
                ) from error
            if "ENABLE_FTS5" not in options:
                raise SearchConfigError("this Python's SQLite was built without FTS5")
            connection.execute(
                "CREATE TABLE IF NOT EXISTS search_meta ("
                " idx TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,"
                " PRIMARY KEY (idx, key))"
            )
            self._local.connection = connection
        return connection

    @contextmanager
    def _transaction(self, *, write: bool) -> Iterator[sqlite3.Connection]:
        try:
            connection = self._connection()
            connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        except sqlite3.Error as error:
            self._forget_connection()
            raise SearchUnavailable(f"embedded search is unavailable: {error}") from error
        try:
            yield connection
            connection.execute("COMMIT")
        except BaseException as error:
            try:
                connection.execute("ROLLBACK")
            except sqlite3.Error:
                self._forget_connection()
            if isinstance(error, sqlite3.Error):
                failure = IndexingFailed if write else SearchUnavailable
                raise failure(f"embedded search failed: {error}") from error
            raise

    def _forget_connection(self) -> None:
        connection = getattr(self._local, "connection", None)
        self._local.connection = None
        if connection is not None:
            connection.close()

    # -- settings and tables -----------------------------------------------------------------

    @staticmethod
    def _check_index(index: str) -> str:
        if not INDEX_NAME.match(index):
            raise SearchConfigError(f"invalid index name {index!r}")
        return index

    def _settings(self, connection: sqlite3.Connection, index: str) -> IndexSettings | None:
        row = connection.execute(
            "SELECT value FROM search_meta WHERE idx = ? AND key = 'settings'", (index,)
        ).fetchone()
        if row is None:
            return None
        raw: dict[str, Any] = json.loads(row[0])
        tuples = {k: tuple(v) for k, v in raw.items() if isinstance(v, list)}
        return IndexSettings(**(raw | tuples))

    def _require_settings(self, connection: sqlite3.Connection, index: str) -> IndexSettings:
        settings = self._settings(connection, self._check_index(index))
        if settings is None:
            raise SearchConfigError(f"index {index!r} is not configured")
        return settings

    def configure(self, index: str, settings: IndexSettings) -> None:
        self._check_index(index)
        for name in (*settings.searchable, *settings.filterable, *settings.sortable):
            if not FIELD_NAME.match(name):
                raise SearchConfigError(f"invalid field name {name!r}")
        with self._transaction(write=True) as connection:
            current = self._settings(connection, index)
            if current == settings:
                return
            stored = json.dumps(asdict(settings), ensure_ascii=False, sort_keys=True)
            connection.execute(
                "INSERT INTO search_meta (idx, key, value) VALUES (?, 'settings', ?)"
                " ON CONFLICT (idx, key) DO UPDATE SET value = excluded.value",
                (index, stored),
            )
            connection.execute(
                f"CREATE TABLE IF NOT EXISTS {index}_docs ("
                " rowid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, body TEXT NOT NULL)"
            )
            connection.execute(
                f"CREATE TABLE IF NOT EXISTS {index}_facets ("
                " rowid INTEGER NOT NULL, field TEXT NOT NULL, value TEXT NOT NULL)"
            )
            connection.execute(
                f"CREATE INDEX IF NOT EXISTS {index}_facets_rowid ON {index}_facets (rowid)"
            )
            if current is None or current.searchable != settings.searchable:
                connection.execute(f"DROP TABLE IF EXISTS {index}_vocab")
                connection.execute(f"DROP TABLE IF EXISTS {index}_fts")
                columns = ", ".join(settings.searchable)
                connection.execute(
                    f"CREATE VIRTUAL TABLE {index}_fts USING fts5({columns},"
                    " tokenize='unicode61 remove_diacritics 2', prefix='2 3 4')"
                )
                connection.execute(
                    f"CREATE VIRTUAL TABLE {index}_vocab USING fts5vocab({index}_fts, 'row')"
                )
            # Re-derive the searchable text and facets of stored documents from their bodies.
            bodies = connection.execute(f"SELECT rowid, body FROM {index}_docs").fetchall()
            connection.execute(f"DELETE FROM {index}_fts")
            connection.execute(f"DELETE FROM {index}_facets")
            for rowid, body in bodies:
                self._write_derived(connection, index, settings, rowid, json.loads(body))
            self._bump(connection, index)

    @staticmethod
    def _bump(connection: sqlite3.Connection, index: str) -> None:
        connection.execute(
            "INSERT INTO search_meta (idx, key, value) VALUES (?, 'generation', '1')"
            " ON CONFLICT (idx, key) DO UPDATE SET value = CAST(value AS INTEGER) + 1",
            (index,),
        )

    # -- writes --------------------------------------------------------------------------------

    @staticmethod
    def _write_derived(
        connection: sqlite3.Connection,
        index: str,
        settings: IndexSettings,
        rowid: int,
        document: dict[str, Any],
    ) -> None:
        texts = [" ".join(str(v) for v in _values(document.get(f))) for f in settings.searchable]
        placeholders = ", ".join("?" for _ in settings.searchable)
        connection.execute(
            f"INSERT INTO {index}_fts (rowid, {', '.join(settings.searchable)})"
            f" VALUES (?, {placeholders})",
            (rowid, *texts),
        )
        facet_rows = {
            (rowid, field, normalize(str(value)).strip())
            for field in settings.filterable
            for value in _values(document.get(field))
        }
        connection.executemany(
            f"INSERT INTO {index}_facets (rowid, field, value) VALUES (?, ?, ?)", facet_rows
        )

    def _delete_rows(self, connection: sqlite3.Connection, index: str, rowids: list[int]) -> None:
        for table in ("fts", "facets", "docs"):
            connection.executemany(
                f"DELETE FROM {index}_{table} WHERE rowid = ?", ((r,) for r in rowids)
            )

    def _insert(
        self,
        connection: sqlite3.Connection,
        index: str,
        settings: IndexSettings,
        documents: Iterable[dict[str, Any]],
        progress: Callable[[int], None] | None = None,
    ) -> int:
        written = 0
        for document in documents:
            try:
                document_id = document_id_check(str(document["id"]))
            except (KeyError, ValueError) as error:
                raise IndexingFailed(f"document refused: {error}") from error
            existing = connection.execute(
                f"SELECT rowid FROM {index}_docs WHERE id = ?", (document_id,)
            ).fetchone()
            if existing:
                self._delete_rows(connection, index, [existing[0]])
            cursor = connection.execute(
                f"INSERT INTO {index}_docs (id, body) VALUES (?, ?)",
                (document_id, json.dumps(document, ensure_ascii=False)),
            )
            self._write_derived(connection, index, settings, int(cursor.lastrowid or 0), document)
            written += 1
            if progress and written % BATCH == 0:
                progress(BATCH)
        if progress:
            progress(written % BATCH)
        return written

    def replace_all(
        self,
        index: str,
        documents: Iterable[dict[str, Any]],
        *,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        with self._transaction(write=True) as connection:
            settings = self._require_settings(connection, index)
            for table in ("fts", "facets", "docs"):
                connection.execute(f"DELETE FROM {index}_{table}")
            written = self._insert(connection, index, settings, documents, progress)
            self._bump(connection, index)
        return written

    def upsert(self, index: str, documents: Sequence[dict[str, Any]]) -> None:
        with self._transaction(write=True) as connection:
            settings = self._require_settings(connection, index)
            self._insert(connection, index, settings, documents)
            self._bump(connection, index)

    def delete(self, index: str, ids: Sequence[str]) -> None:
        with self._transaction(write=True) as connection:
            self._require_settings(connection, index)
            rowids = [
                row[0]
                for document_id in ids
                for row in connection.execute(
                    f"SELECT rowid FROM {index}_docs WHERE id = ?", (document_id,)
                )
            ]
            self._delete_rows(connection, index, rowids)
            self._bump(connection, index)

    # -- reads ----------------------------------------------------------------------------------

    def count(self, index: str) -> int:
        with self._transaction(write=False) as connection:
            return len(self._snapshot(connection, index).ids)

    def document_ids(self, index: str) -> set[str]:
        with self._transaction(write=False) as connection:
            return set(self._snapshot(connection, index).rowids)

    def documents(self, index: str) -> dict[str, dict[str, Any]]:
        """Every stored document by id (for consistency checks)."""
        with self._transaction(write=False) as connection:
            self._require_settings(connection, index)
            rows = connection.execute(f"SELECT id, body FROM {index}_docs").fetchall()
        return {document_id: json.loads(body) for document_id, body in rows}

    def _snapshot(self, connection: sqlite3.Connection, index: str) -> _Snapshot:
        settings = self._settings(connection, self._check_index(index))
        if settings is None:  # nothing to search yet: the index has never been built
            raise SearchUnavailable(f"index {index!r} has not been built; run a rebuild")
        row = connection.execute(
            "SELECT value FROM search_meta WHERE idx = ? AND key = 'generation'", (index,)
        ).fetchone()
        generation = int(row[0]) if row else 0
        with self._lock:
            cached = self._snapshots.get(index)
        if cached and cached.generation == generation and cached.settings == settings:
            return cached
        snapshot = self._load(connection, index, settings, generation)
        with self._lock:
            self._snapshots[index] = snapshot
        return snapshot

    def _load(
        self, connection: sqlite3.Connection, index: str, settings: IndexSettings, generation: int
    ) -> _Snapshot:
        rowids: dict[str, int] = {}
        popularity: dict[int, float] = {}
        sort_values: dict[str, dict[int, Any]] = {field: {} for field in settings.sortable}
        for rowid, document_id, body in connection.execute(
            f"SELECT rowid, id, body FROM {index}_docs"
        ):
            document = json.loads(body)
            rowids[document_id] = rowid
            if settings.popularity_field:
                popularity[rowid] = float(document.get(settings.popularity_field) or 0)
            for field in settings.sortable:
                value = document.get(field)
                sort_values[field][rowid] = normalize(value) if isinstance(value, str) else value
        facets: dict[str, dict[str, set[int]]] = {field: {} for field in settings.filterable}
        for rowid, field, value in connection.execute(
            f"SELECT rowid, field, value FROM {index}_facets"
        ):
            facets.setdefault(field, {}).setdefault(value, set()).add(rowid)
        vocabulary: dict[str, list[str]] = defaultdict(list)
        for (term,) in connection.execute(f"SELECT term FROM {index}_vocab"):
            vocabulary[term[0]].append(term)
        return _Snapshot(
            generation=generation,
            settings=settings,
            rowids=rowids,
            ids={rowid: document_id for document_id, rowid in rowids.items()},
            popularity=popularity,
            sort_values=sort_values,
            facets=facets,
            vocabulary=dict(vocabulary),
        )

    # -- search ----------------------------------------------------------------------------------

    def search(self, index: str, query: SearchQuery) -> SearchResult:
        with self._transaction(write=False) as connection:
            snapshot = self._snapshot(connection, index)
            settings = snapshot.settings
            self._check_fields(query, settings)
            allowed = self._filtered(snapshot, query.filters)
            parsed = query_parse(
                query.text,
                synonyms=settings.synonyms,
                stop_words=settings.stop_words,
                exact_words=settings.exact_words,
            )
            matcher = _Matcher(connection, index, snapshot, parsed)
            ranked = matcher.ranked(allowed, query)
            if query.distinct:
                ranked = self._distinct(snapshot, ranked, query.distinct)
            capped = ranked[: settings.max_total_hits]
            start = (query.page - 1) * query.per_page
            page_rowids = capped[start : start + query.per_page]
            bodies = self._bodies(connection, index, page_rowids)
        in_result = set(ranked)  # every match counts, as in Meilisearch, not only the capped
        facets = {
            field: facet_order(
                {v: len(rows & in_result) for v, rows in snapshot.facets[field].items()}
            )
            for field in query.facets
        }
        hits = [
            Hit(
                id=snapshot.ids[rowid],
                document=bodies[rowid],
                highlights=matcher.highlights(bodies[rowid], query) if query.highlight else {},
            )
            for rowid in page_rowids
        ]
        return SearchResult(
            hits=hits,
            total=len(capped),
            exact=len(ranked) <= settings.max_total_hits,
            facets=facets,
            page=query.page,
            per_page=query.per_page,
        )

    @staticmethod
    def _check_fields(query: SearchQuery, settings: IndexSettings) -> None:
        for field in (*query.filters, *query.facets, *([query.distinct] if query.distinct else [])):
            if field not in settings.filterable:
                raise SearchConfigError(f"{field!r} is not a filterable attribute")
        if query.sort and query.sort.field not in settings.sortable:
            raise SearchConfigError(f"{query.sort.field!r} is not a sortable attribute")

    @staticmethod
    def _filtered(snapshot: _Snapshot, filters: dict[str, tuple[str, ...]]) -> set[int]:
        allowed = set(snapshot.ids)
        for field, values in filters.items():
            matching: set[int] = set()
            for value in values:
                matching |= snapshot.facets[field].get(normalize(value).strip(), set())
            allowed &= matching
        return allowed

    @staticmethod
    def _distinct(snapshot: _Snapshot, ranked: list[int], field: str) -> list[int]:
        value_of: dict[int, str] = {}
        for value, rows in snapshot.facets[field].items():
            for rowid in rows:
                value_of.setdefault(rowid, value)
        seen: set[str] = set()
        kept = []
        for rowid in ranked:
            key = value_of.get(rowid, f"\x00{rowid}")
            if key not in seen:
                seen.add(key)
                kept.append(rowid)
        return kept

    @staticmethod
    def _bodies(
        connection: sqlite3.Connection, index: str, rowids: list[int]
    ) -> dict[int, dict[str, Any]]:
        if not rowids:
            return {}
        marks = ", ".join("?" for _ in rowids)
        rows = connection.execute(
            f"SELECT rowid, body FROM {index}_docs WHERE rowid IN ({marks})", rowids
        )
        return {rowid: json.loads(body) for rowid, body in rows}


class _Matcher:
    """Evaluates one parsed query against one index snapshot inside a read transaction."""

    def __init__(
        self, connection: sqlite3.Connection, index: str, snapshot: _Snapshot, parsed: ParsedQuery
    ) -> None:
        self.connection = connection
        self.index = index
        self.snapshot = snapshot
        self.parsed = parsed
        self.matched_words: set[str] = set()
        self.prefixes: set[str] = set()
        self.stop_words = set(snapshot.settings.stop_words)
        searchable = snapshot.settings.searchable
        self.titles = [f for f in searchable if f in TITLE_FIELDS] or list(searchable[:1])
        self.middle = [
            f for f in searchable if f not in self.titles and not f.startswith("summary")
        ]

    def _rowids(self, expression: str, columns: list[str] | None = None) -> set[int]:
        if columns is not None:
            if not columns:
                return set()
            expression = "{" + " ".join(columns) + "} : (" + expression + ")"
        rows = self.connection.execute(
            f"SELECT rowid FROM {self.index}_fts WHERE {self.index}_fts MATCH ?", (expression,)
        )
        return {row[0] for row in rows}

    def _variants(self, term: Term) -> dict[int, list[str]]:
        """FTS5 expressions that satisfy `term`, grouped by their typo cost."""
        by_cost: dict[int, list[str]] = defaultdict(list)
        for number, alternative in enumerate(term.alternatives):
            if len(alternative) > 1:
                by_cost[0].append(_quote(" ".join(alternative)))
                self.matched_words.update(set(alternative) - self.stop_words)
                continue
            word = alternative[0]
            original = number == 0
            if term.prefix and original:
                by_cost[0].append(_quote(word) + "*")
                self.prefixes.add(word)
            else:
                by_cost[0].append(_quote(word))
                self.matched_words.add(word)
            if not original or term.exact:
                continue
            budget = typo_budget(word)
            if budget == 0:
                continue
            for cost, candidates in self._typo_candidates(word, budget, term.prefix).items():
                for candidate in candidates:
                    by_cost[cost].append(_quote(candidate) + ("*" if term.prefix else ""))
                    (self.prefixes if term.prefix else self.matched_words).add(candidate)
        return by_cost

    def _typo_candidates(self, word: str, budget: int, prefix: bool) -> dict[int, list[str]]:
        exact_words = set(self.snapshot.settings.exact_words)
        found: dict[int, list[str]] = defaultdict(list)
        # A changed first letter costs two, so other first letters only matter with a budget of 2.
        letters = [word[0]] if budget < 2 else list(self.snapshot.vocabulary)
        for letter in letters:
            for candidate in self.snapshot.vocabulary.get(letter, []):
                if candidate in exact_words or candidate.isdigit():
                    continue
                compared = candidate[: len(word)] if prefix else candidate
                if abs(len(compared) - len(word)) > budget:
                    continue
                cost = typo_cost(word, compared, budget)
                if cost:
                    found[cost].append(candidate[: len(word)] if prefix else candidate)
        return {cost: sorted(set(words)) for cost, words in found.items()}

    def _attribute_ranks(self, expression: str, rowids: Iterable[int]) -> dict[int, int]:
        """0 for a match in a title, 1 in keywords or names, 2 only in summaries."""
        in_titles = self._rowids(expression, self.titles)
        in_middle = self._rowids(expression, self.middle)
        return {r: 0 if r in in_titles else 1 if r in in_middle else 2 for r in rowids}

    def ranked(self, allowed: set[int], query: SearchQuery) -> list[int]:
        candidates = set(allowed)
        attribute: dict[int, int] = dict.fromkeys(candidates, 2)
        for phrase in self.parsed.phrases:  # phrases are required, never dropped
            expression = _quote(" ".join(phrase))
            candidates &= self._rowids(expression)
            self.matched_words.update(phrase)
            for rowid, rank in self._attribute_ranks(expression, candidates).items():
                attribute[rowid] = min(attribute[rowid], rank)
        words_matched: dict[int, int] = dict.fromkeys(candidates, 0)
        typos: dict[int, int] = dict.fromkeys(candidates, 0)
        if self.parsed.terms:
            still: set[int] = set(candidates)
            reached: set[int] = set()
            for position, term in enumerate(self.parsed.terms):
                variants = self._variants(term)
                expression = " OR ".join(e for group in variants.values() for e in group)
                cost_of: dict[int, int] = {}
                for cost in sorted(variants):
                    for rowid in self._rowids(" OR ".join(variants[cost])) & still:
                        cost_of.setdefault(rowid, cost)
                still = set(cost_of)
                if position == 0:
                    reached = set(still)
                for rowid, rank in self._attribute_ranks(expression, still).items():
                    words_matched[rowid] = position + 1
                    typos[rowid] += cost_of[rowid]
                    attribute[rowid] = min(attribute[rowid], rank) if position else rank
                if not still:
                    break
            candidates &= reached
        ranks = self.snapshot.ranks(query.sort)
        if self.parsed.placeholder:  # nothing typed: the sort order alone
            return sorted(candidates, key=ranks.__getitem__)
        return sorted(
            candidates,
            key=lambda r: (-words_matched[r], typos[r], attribute[r], ranks[r]),
        )

    def highlights(self, document: dict[str, Any], query: SearchQuery) -> dict[str, str]:
        settings = self.snapshot.settings
        marked: dict[str, str] = {}
        for field in settings.highlightable:
            value = document.get(field)
            if isinstance(value, str):
                marked[field] = highlight(value, self.matched_words, self.prefixes)
        for field in settings.croppable:
            value = document.get(field)
            if isinstance(value, str):
                marked[field] = crop(value, self.matched_words, self.prefixes)
        return marked
