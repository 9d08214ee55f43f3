"""Pure mapping from the catalogue to search documents and index settings (no I/O)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from portal.catalogue.models import Service, Synonym
from portal.search.schemas import IndexSettings
from portal.search.semantics import normalize, words

SERVICES = "services"
SEARCHABLE = (
    "title_sw",
    "title_en",
    "keywords",
    "institution_name",
    "life_event_labels",
    "summary_sw",
    "summary_en",
)
FACETS = ("institution", "category", "life_events", "audience", "channels")
FILTERABLE = (*FACETS, "status", "service_key")
SORTABLE = ("popularity", "title_sw", "title_en")
# Short, so that no meaningful word is lost: Swahili connectives and English function words.
STOP_WORDS = (
    "ya", "wa", "la", "za", "cha", "vya", "kwa", "na", "katika",
    "the", "a", "an", "of", "for", "to", "and", "how", "my",
)  # fmt: skip
CHANNELS = ("online_url", "ussd", "sms", "app", "office")


def service_document(service: Service) -> dict[str, Any]:
    """The search document of one published service (its institution and links loaded)."""
    institution = service.institution
    alternative = service.alternative_names
    channels = service.channels
    return {
        "id": service.slug,
        "service_key": service.slug,
        "title_sw": service.name["sw"],
        "title_en": service.name["en"],
        "keywords": [*alternative.get("sw", []), *alternative.get("en", []), institution.acronym],
        "institution_name": [institution.name["sw"], institution.name["en"]],
        "life_event_labels": [
            label for event in service.life_events for label in (event.name["sw"], event.name["en"])
        ],
        "summary_sw": service.summary["sw"],
        "summary_en": service.summary["en"],
        "institution": institution.slug,
        "institution_acronym": institution.acronym,
        "category": [category.slug for category in service.categories],
        "life_events": [event.slug for event in service.life_events],
        "audience": list(service.audience),
        "channels": [channel.removesuffix("_url") for channel in CHANNELS if channels.get(channel)],
        "status": service.status,
        "popularity": service.popularity,
    }


def synonym_table(entries: Iterable[Synonym]) -> dict[str, list[str]]:
    """Meilisearch's synonym shape: each term maps to what it also finds."""
    table: dict[str, list[str]] = {}
    for entry in entries:
        terms = [" ".join(words(term)) for term in entry.terms]
        terms = [t for t in dict.fromkeys(terms) if t]
        sources = terms[:1] if entry.one_way else terms
        for source in sources:
            others = [t for t in terms if t != source]
            table[source] = list(dict.fromkeys([*table.get(source, []), *others]))
    return table


def services_settings(synonyms: dict[str, list[str]], exact_words: Iterable[str]) -> IndexSettings:
    """Settings of the services index; `exact_words` are acronyms that must not typo-match."""
    return IndexSettings(
        searchable=SEARCHABLE,
        filterable=FILTERABLE,
        sortable=SORTABLE,
        synonyms=synonyms,
        stop_words=STOP_WORDS,
        exact_words=tuple(sorted({normalize(w) for w in exact_words})),
        popularity_field="popularity",
        highlightable=("title_sw", "title_en"),
        croppable=("summary_sw", "summary_en"),
    )
