"""Keeping the index equal to the catalogue, and recording search insights."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlmodel import Session

from portal.catalogue import selectors as catalogue_selectors
from portal.catalogue import services as catalogue_services
from portal.db import unit_of_work
from portal.outbox import (
    outbox_clear_through,
    outbox_done,
    outbox_due,
    outbox_last_id,
    outbox_retry_later,
)
from portal.search.backend import SearchBackend
from portal.search.documents import SERVICES, service_document, services_settings, synonym_table
from portal.search.errors import SearchError
from portal.search.models import SearchLog
from portal.search.semantics import words

SYNC_BATCH = 500


@dataclass(frozen=True)
class SyncReport:
    applied: int
    failed: int
    error: str | None = None


def index_configure(*, session: Session, backend: SearchBackend) -> None:
    """Apply the services index settings, with today's synonyms and acronyms."""
    settings = services_settings(
        synonym_table(catalogue_selectors.synonym_list(session=session)),
        (a.lower() for a in catalogue_selectors.institution_acronyms(session=session)),
    )
    backend.configure(SERVICES, settings)


def index_sync(*, engine: Engine, backend: SearchBackend, now: dt.datetime) -> SyncReport:
    """Apply due outbox rows to the index; rows that fail wait for a later attempt."""
    with unit_of_work(engine) as session:
        entries = outbox_due(
            session=session, topic=catalogue_services.SERVICE_CHANGED, now=now, limit=SYNC_BATCH
        )
        if not entries:
            return SyncReport(applied=0, failed=0)
        slugs = {entry.key for entry in entries}
        services = catalogue_selectors.service_list_full(session=session, slugs=slugs)
        gone = slugs - {service.slug for service in services}
        try:
            index_configure(session=session, backend=backend)
            if services:
                backend.upsert(SERVICES, [service_document(s) for s in services])
            if gone:
                backend.delete(SERVICES, sorted(gone))
        except SearchError as error:
            outbox_retry_later(session=session, entries=entries, error=str(error), now=now)
            return SyncReport(applied=0, failed=len(entries), error=str(error))
        outbox_done(session=session, entries=entries)
        return SyncReport(applied=len(entries), failed=0)


def index_rebuild(
    *, engine: Engine, backend: SearchBackend, progress: Callable[[int], None] | None = None
) -> int:
    """Rebuild the index from the database and swap it in atomically; returns the count."""
    with unit_of_work(engine) as session:
        last_id = outbox_last_id(session=session)
        services = catalogue_selectors.service_list_full(session=session)
        index_configure(session=session, backend=backend)
        count = backend.replace_all(
            SERVICES, (service_document(s) for s in services), progress=progress
        )
        outbox_clear_through(
            session=session, topic=catalogue_services.SERVICE_CHANGED, last_id=last_id
        )
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
