"""Typed search shapes shared by every backend: settings, documents, queries and results."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

DOCUMENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,511}$")
Language = Literal["sw", "en"]


@dataclass(frozen=True)
class IndexSettings:
    """What an index needs from any engine, in the order the engine should apply it."""

    searchable: tuple[str, ...]  # most important first
    filterable: tuple[str, ...]
    sortable: tuple[str, ...]
    synonyms: dict[str, list[str]] = field(default_factory=dict)  # term -> what it also finds
    stop_words: tuple[str, ...] = ()
    exact_words: tuple[str, ...] = ()  # words that never match by typo (acronyms, codes)
    popularity_field: str | None = "popularity"  # a last ranking rule, descending
    max_total_hits: int = 5000
    max_facet_values: int = 500
    highlightable: tuple[str, ...] = ()
    croppable: tuple[str, ...] = ()


@dataclass(frozen=True)
class Sort:
    field: str
    descending: bool = False


@dataclass(frozen=True)
class SearchQuery:
    """One search. Filters are AND across fields and OR within a field's values."""

    text: str = ""
    filters: dict[str, tuple[str, ...]] = field(default_factory=dict)
    facets: tuple[str, ...] = ()
    sort: Sort | None = None
    page: int = 1
    per_page: int = 20
    highlight: bool = True
    distinct: str | None = None
    language: Language = "sw"


@dataclass(frozen=True)
class Hit:
    id: str
    document: dict[str, Any]
    highlights: dict[str, str]  # field -> escaped HTML with <mark> around matches


@dataclass(frozen=True)
class SearchResult:
    hits: list[Hit]
    total: int
    exact: bool  # False when the engine's total is an estimate or capped
    facets: dict[str, dict[str, int]]  # field -> value -> count, by count desc then value
    page: int
    per_page: int

    @property
    def page_count(self) -> int:
        return max(1, -(-self.total // self.per_page))


def facet_order(counts: dict[str, int]) -> dict[str, int]:
    """Facet values by count, most first, then by value, with zero counts dropped."""
    return dict(sorted(((v, c) for v, c in counts.items() if c > 0), key=lambda i: (-i[1], i[0])))


def document_id_check(value: str) -> str:
    """Ids reach no engine unless they are 1-511 characters of A-Z a-z 0-9 - _."""
    if not DOCUMENT_ID.match(value):
        raise ValueError(f"invalid search document id: {value[:40]!r}")
    return value
