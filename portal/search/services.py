"""Keeping the index equal to the catalogue, and recording search insights."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlmodel import Session

from portal.catalogue import selectors as catalogue_selectors
from portal.catalogue import services as catalogue_services
from portal.catalogue.models import Service
from portal.db import Bind, unit_of_work
from portal.outbox import selectors as outbox_selectors
from portal.outbox import services as outbox_services
from portal.outbox.dispatcher import Handler, dispatch_drain, utc_now
from portal.search.backend import SearchBackend
from portal.search.documents import SERVICES, service_document, services_settings, synonym_table
from portal.search.errors import IndexNotConfigured, SearchError
from portal.search.models import SearchLog
from portal.search.schemas import IndexSettings
from portal.search.semantics import words

# The outbox topics the index follows: a service changed (key: its slug), or what the index
# settings are made of did (synonyms, institution acronyms).
SEARCH_TOPICS = (catalogue_services.SERVICE_CHANGED, catalogue_services.SEARCH_SETTINGS_CHANGED)


@dataclass(frozen=True)
class SyncReport:
    """One sync: rows applied and failed in it, then what is left waiting for a retry or dead."""

    applied: int
    failed: int
    waiting: int = 0
    dead: int = 0


def index_settings(*, session: Session) -> IndexSettings:
    """The services index settings, with today's synonyms and acronyms."""
    return services_settings(
        synonym_table(catalogue_selectors.synonym_list(session=session)),
        (a.lower() for a in catalogue_selectors.institution_acronyms(session=session)),
    )


def index_configure(*, session: Session, backend: SearchBackend) -> None:
    """Apply the services index settings, with today's synonyms and acronyms."""
    backend.configure(SERVICES, index_settings(session=session))


class _IndexHandlers:
    """The outbox handlers of one backend. The settings are applied before the first document
    is written, not before every one: once per process, again after the engine failed (it may
    have come back empty), or when the engine says this process has not applied them yet."""

    def __init__(self, backend: SearchBackend) -> None:
        self._backend = backend
        self._configured = False

    def _configure(self, session: Session) -> None:
        index_configure(session=session, backend=self._backend)
        self._configured = True

    def settings_changed(self, *, session: Session, key: str) -> None:
        """Synonyms or acronyms changed: re-apply the index settings."""
        try:
            self._configure(session)
        except SearchError:
            self._configured = False
            raise

    def service_changed(self, *, session: Session, key: str) -> None:
        """Write the service's document, or delete it when the service is gone."""
        found = catalogue_selectors.service_list_full(session=session, slugs={key})
        try:
            if not self._configured:
                self._configure(session)
            try:
                self._write(key, found)
            except IndexNotConfigured:
                self._configure(session)
                self._write(key, found)
        except SearchError:
            self._configured = False
            raise

    def _write(self, key: str, found: list[Service]) -> None:
        if found:
            self._backend.upsert(SERVICES, [service_document(found[0])])
        else:
            self._backend.delete(SERVICES, [key])


def outbox_handlers(*, backend: SearchBackend) -> dict[str, Handler]:
    """The outbox topics the search index follows, each with its handler on `backend`."""
    handlers = _IndexHandlers(backend)
    return {
        catalogue_services.SERVICE_CHANGED: handlers.service_changed,
        catalogue_services.SEARCH_SETTINGS_CHANGED: handlers.settings_changed,
    }


def index_sync(*, bind: Bind, backend: SearchBackend, now: dt.datetime | None = None) -> SyncReport:
    """Apply every search row of the outbox that is due, one by one; those that fail wait for
    a retry (or become dead letters). `now` fixes the clock (tests)."""
    clock = (lambda: now) if now is not None else utc_now
    report = dispatch_drain(bind=bind, handlers=outbox_handlers(backend=backend), clock=clock)
    with unit_of_work(bind) as session:
        backlog = outbox_selectors.outbox_backlog(session=session, topics=SEARCH_TOPICS)
    return SyncReport(
        applied=report.applied, failed=report.failed, waiting=backlog.waiting, dead=backlog.dead
    )


def index_rebuild(
    *, bind: Bind, backend: SearchBackend, progress: Callable[[int], None] | None = None
) -> int:
    """Rebuild the index from the database and swap it in atomically; returns the count.

    Deletes the search rows the rebuild has applied, and no others. Those are the rows present
    before the catalogue is read: a row committed later (on PostgreSQL, even one with a smaller
    id, from a transaction that began earlier) is left for the next sync. Rows of a key that a
    worker is handling when the new index is written are kept too, because that worker may have
    read the catalogue before the rebuild did and write its document after the swap.
    """
    with unit_of_work(bind) as session:
        covered = outbox_selectors.outbox_keys(session=session, topics=SEARCH_TOPICS)
        documents = [
            service_document(s) for s in catalogue_selectors.service_list_full(session=session)
        ]
        settings = index_settings(session=session)
    backend.configure(SERVICES, settings)
    with unit_of_work(bind) as session:
        busy = outbox_selectors.outbox_claimed(session=session, topics=SEARCH_TOPICS, now=utc_now())
    count = backend.replace_all(SERVICES, documents, progress=progress)
    applied = [entry_id for entry_id, about in covered.items() if about not in busy]
    with unit_of_work(bind) as session:
        outbox_services.outbox_delete(session=session, ids=applied)
    return count


def search_log_record(*, session: Session, text: str, results: int, today: dt.date) -> SearchLog:
    """Keep the normalised words of a query and its result count; nothing about the person."""
    entry = SearchLog(query=" ".join(words(text))[:200], results=results, day=today)
    session.add(entry)
    session.flush()
    return entry


def search_log_click(*, session: Session, log_id: int) -> None:
    entry = session.get(SearchLog, log_id)
    if entry is not None and not entry.clicked:
        entry.clicked = True
        session.add(entry)
