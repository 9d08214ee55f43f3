"""The `SearchBackend` protocol: the one interface the portal uses to talk to a search engine."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

from portal.config import Settings
from portal.search.errors import SearchConfigError
from portal.search.schemas import IndexSettings, SearchQuery, SearchResult


class SearchBackend(Protocol):
    """A search engine behind the portal. Every method raises only `portal.search.errors`."""

    def configure(self, index: str, settings: IndexSettings) -> None:
        """Apply settings; call before the first documents. Identical settings change nothing."""

    def replace_all(
        self,
        index: str,
        documents: Iterable[dict[str, Any]],
        *,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Swap in a whole new corpus atomically; searches see the old or the new, never a mix."""

    def upsert(self, index: str, documents: Sequence[dict[str, Any]]) -> None:
        """Add or replace documents by id."""

    def delete(self, index: str, ids: Sequence[str]) -> None:
        """Remove documents by id; unknown ids are ignored."""

    def search(self, index: str, query: SearchQuery) -> SearchResult:
        """Run one query."""

    def count(self, index: str) -> int:
        """How many documents the index holds."""

    def document_ids(self, index: str) -> set[str]:
        """Every document id in the index (for consistency checks and rebuild reports)."""


def backend_create(settings: Settings) -> SearchBackend:
    """Meilisearch when a URL is configured, otherwise the embedded engine. No I/O here."""
    if settings.meilisearch.url:
        from portal.search.meili import MeiliBackend

        search_key, admin_key = settings.meilisearch.search_key, settings.meilisearch.admin_key
        if search_key is None or admin_key is None:
            raise SearchConfigError("Meilisearch needs a search key and an admin key")
        return MeiliBackend(
            settings.meilisearch.url,
            search_key=search_key.get_secret_value(),
            admin_key=admin_key.get_secret_value(),
            timeout=settings.meilisearch.timeout,
        )
    from portal.search.embedded import EmbeddedBackend

    return EmbeddedBackend(settings.search.path)
