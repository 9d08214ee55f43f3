"""The index follows the catalogue through the outbox, and loses nothing while search is down."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, col, select

from portal.catalogue import selectors as catalogue_selectors
from portal.catalogue.models import Category, Institution, LifeEvent, Service
from portal.catalogue.schemas import InstitutionIn, ServiceIn, SynonymIn
from portal.catalogue.seed import seed_load
from portal.catalogue.services import (
    SEARCH_SETTINGS_CHANGED,
    SERVICE_CHANGED,
    institution_upsert,
    service_upsert,
    synonyms_replace,
)
from portal.cli import main
from portal.config import PROJECT_ROOT, SearchSettings, Settings
from portal.db import Bind, unit_of_work
from portal.outbox import selectors as outbox_selectors
from portal.outbox import services as outbox_services
from portal.outbox.models import OutboxEntry
from portal.search.documents import SERVICES, service_document
from portal.search.embedded import EmbeddedBackend
from portal.search.schemas import IndexSettings, SearchQuery
from portal.search.services import SEARCH_TOPICS, index_rebuild, index_sync

NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)
NEW_SLUG = "rita-huduma-ya-majaribio"
PASSPORT = "uhamiaji-pasipoti-mpya"
NEW_TERM = "zumbaruku"  # a word no service contains, nor anything one typo away


def _search_rows(bind: Bind) -> list[OutboxEntry]:
    with unit_of_work(bind) as session:
        statement = select(OutboxEntry).where(col(OutboxEntry.topic).in_(SEARCH_TOPICS))
        return list(session.exec(statement.order_by(col(OutboxEntry.id))).all())


@pytest.fixture
def quiet(db: Connection) -> Connection:
    """The test's transaction with no search row waiting (gone only inside it)."""
    with unit_of_work(db) as session:
        rows = outbox_selectors.outbox_keys(session=session, topics=SEARCH_TOPICS)
        outbox_services.outbox_delete(session=session, ids=rows)
    return db


def _index_equals_database(bind: Bind, backend: EmbeddedBackend) -> None:
    with unit_of_work(bind) as session:
        expected = {
            s.slug: service_document(s)
            for s in catalogue_selectors.service_list_full(session=session)
        }
    assert backend.documents(SERVICES) == expected


def _rita_record() -> ServiceIn:
    return next(
        r
        for r in seed_load(directory=PROJECT_ROOT / "seed_data").services
        if r.institution == "rita"
    )


def _change_services(bind: Bind, base: ServiceIn) -> None:
    with unit_of_work(bind) as session:
        institution = session.exec(select(Institution).where(Institution.slug == "rita")).one()
        category = session.exec(select(Category)).first()
        event = session.exec(select(LifeEvent)).first()
        assert category is not None
        assert event is not None
        renamed = base.model_copy(
            update={"name": base.name.model_copy(update={"sw": "Jina jipya kabisa"})}
        )
        added = base.model_copy(update={"slug": NEW_SLUG})
        for record in (renamed, added):
            service_upsert(
                session=session,
                record=record,
                institution=institution,
                categories=[category],
                life_events=[event],
                now=NOW,
            )


def test_changes_made_while_search_is_down_arrive_when_it_is_back(
    db: Connection, tmp_path: Path
) -> None:
    live, down = tmp_path / "search", tmp_path / "search-down"
    live.mkdir()
    index_rebuild(bind=db, backend=EmbeddedBackend(live / "search.db"))

    live.rename(down)  # the engine is down: its file cannot be reached
    base = _rita_record()
    _change_services(db, base)
    report = index_sync(bind=db, backend=EmbeddedBackend(live / "search.db"), now=NOW)
    assert (report.applied, report.failed, report.waiting, report.dead) == (0, 2, 2, 0)
    waiting = _search_rows(db)
    assert {e.key for e in waiting} == {base.slug, NEW_SLUG}
    assert all(e.attempts == 1 and e.available_at > NOW for e in waiting)
    assert all("cannot open" in (e.last_error or "") for e in waiting)

    # Retried too early: nothing is due yet, so nothing is attempted.
    early = index_sync(bind=db, backend=EmbeddedBackend(live / "search.db"), now=NOW)
    assert (early.applied, early.failed) == (0, 0)

    down.rename(live)  # the engine is back
    backend = EmbeddedBackend(live / "search.db")
    later = NOW + dt.timedelta(minutes=5)
    report = index_sync(bind=db, backend=backend, now=later)
    assert (report.applied, report.failed, report.waiting, report.dead) == (2, 0, 0, 0)
    assert _search_rows(db) == []
    _index_equals_database(db, backend)
    assert backend.search(SERVICES, SearchQuery(text="jipya kabisa")).hits[0].id == base.slug


def test_a_rebuild_equals_the_database_and_clears_the_outbox(
    db: Connection, tmp_path: Path
) -> None:
    _change_services(db, _rita_record())
    assert _search_rows(db) != []
    backend = EmbeddedBackend(tmp_path / "search.db")
    count = index_rebuild(bind=db, backend=backend)
    with unit_of_work(db) as session:
        assert count == len(session.exec(select(Service)).all())
    _index_equals_database(db, backend)
    assert _search_rows(db) == []


def test_a_rebuild_keeps_the_rows_of_a_key_a_worker_is_handling(
    quiet: Connection, tmp_path: Path
) -> None:
    now = dt.datetime.now(dt.UTC)
    with unit_of_work(quiet) as session:
        for key in (PASSPORT, PASSPORT, NEW_SLUG):
            outbox_services.outbox_add(session=session, topic=SERVICE_CHANGED, key=key, now=now)
    with unit_of_work(quiet) as session:
        claimed = outbox_services.outbox_claim(
            session=session, topics=SEARCH_TOPICS, token="a-worker", now=now
        )
    assert {entry.key for entry in claimed} == {PASSPORT}

    index_rebuild(bind=quiet, backend=EmbeddedBackend(tmp_path / "search.db"))

    # That worker may write what it read before the rebuild after the swap: its key stays due.
    assert [(e.key, e.claimed_by) for e in _search_rows(quiet)] == [(PASSPORT, "a-worker")] * 2


class _CountingBackend(EmbeddedBackend):
    """The embedded engine, counting how often it is given the settings."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.configured = 0

    def configure(self, index: str, settings: IndexSettings) -> None:
        self.configured += 1
        super().configure(index, settings)


def test_sync_writes_into_an_index_never_configured_and_configures_it_once(
    quiet: Connection, tmp_path: Path
) -> None:
    _change_services(quiet, _rita_record())
    with unit_of_work(quiet) as session:
        outbox_services.outbox_add(session=session, topic=SERVICE_CHANGED, key=PASSPORT, now=NOW)
    backend = _CountingBackend(tmp_path / "fresh.db")

    report = index_sync(bind=quiet, backend=backend, now=NOW)

    assert (report.applied, report.failed) == (3, 0)
    assert backend.configured == 1
    assert backend.document_ids(SERVICES) == {_rita_record().slug, NEW_SLUG, PASSPORT}


def test_a_new_synonym_reaches_the_index_through_sync_alone(
    quiet: Connection, tmp_path: Path
) -> None:
    backend = EmbeddedBackend(tmp_path / "search.db")
    index_rebuild(bind=quiet, backend=backend)
    assert backend.search(SERVICES, SearchQuery(text=NEW_TERM)).total == 0

    with unit_of_work(quiet) as session:
        entries = [
            SynonymIn(terms=row.terms, one_way=row.one_way, note=row.note)
            for row in catalogue_selectors.synonym_list(session=session)
        ]
        synonyms_replace(
            session=session, entries=[*entries, SynonymIn(terms=[NEW_TERM, "pasipoti"])], now=NOW
        )
    assert [(e.topic, e.key) for e in _search_rows(quiet)] == [
        (SEARCH_SETTINGS_CHANGED, "synonyms")
    ]

    report = index_sync(bind=quiet, backend=backend, now=NOW)

    assert (report.applied, report.failed) == (1, 0)
    hits = backend.search(SERVICES, SearchQuery(text=NEW_TERM)).hits
    assert PASSPORT in {hit.id for hit in hits}


def test_an_unchanged_synonym_list_writes_no_row(quiet: Connection) -> None:
    with unit_of_work(quiet) as session:
        entries = [
            SynonymIn(terms=row.terms, one_way=row.one_way, note=row.note)
            for row in catalogue_selectors.synonym_list(session=session)
        ]
        synonyms_replace(session=session, entries=entries, now=NOW)
    assert _search_rows(quiet) == []


def test_a_changed_acronym_asks_for_the_settings_again(quiet: Connection) -> None:
    record = next(
        r for r in seed_load(directory=PROJECT_ROOT / "seed_data").institutions if r.slug == "rita"
    )
    with unit_of_work(quiet) as session:
        institution_upsert(session=session, record=record, now=NOW)  # unchanged
    assert _search_rows(quiet) == []
    changed = InstitutionIn.model_validate(record.model_dump() | {"acronym": "RITAA"})
    with unit_of_work(quiet) as session:
        institution_upsert(session=session, record=changed, now=NOW)
    assert [(e.topic, e.key) for e in _search_rows(quiet)] == [
        (SEARCH_SETTINGS_CHANGED, "acronyms")
    ]


def test_search_sync_says_how_many_wait_and_fails_while_search_is_down(
    quiet: Connection, settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _change_services(quiet, _rita_record())
    down = settings.model_copy(
        update={"search": SearchSettings(path=tmp_path / "missing" / "search.db")}
    )

    assert main(["search", "sync"], settings=down, bind=quiet) == 1
    assert "2 change(s) wait for a retry, 0 dead" in capsys.readouterr().out

    up = settings.model_copy(update={"search": SearchSettings(path=tmp_path / "search.db")})
    with unit_of_work(quiet) as session:
        ids = [e.id for e in _search_rows(quiet) if e.id]
        outbox_services.outbox_retry(session=session, ids=ids, now=dt.datetime.now(dt.UTC))
    assert main(["search", "sync"], settings=up, bind=quiet) == 0
    assert "2 change(s) applied" in capsys.readouterr().out


# -- a rebuild while the catalogue changes: needs rows committed by another connection ---------

KEYS = ("test-rebuild-covered", "test-rebuild-gap")


@pytest.fixture
def committed_rows(engine: Engine) -> Iterator[dict[str, Any]]:
    """Rows committed for this test: one the rebuild covers, and the id of a deleted one below
    it (a late transaction's row will take that id). Removed afterwards, with the late row."""
    with unit_of_work(engine) as session:
        rows = [
            OutboxEntry(topic=SERVICE_CHANGED, key=key, created_at=NOW, available_at=NOW)
            for key in reversed(KEYS)
        ]
        session.add_all(rows)
        session.flush()
        gap, covered = rows
        session.delete(gap)
    state: dict[str, Any] = {"gap_id": gap.id, "covered_id": covered.id}
    assert state["gap_id"] < state["covered_id"]
    try:
        yield state
    finally:
        with unit_of_work(engine) as session:
            for entry in session.exec(
                select(OutboxEntry).where(
                    col(OutboxEntry.id).in_([state["gap_id"], state["covered_id"]])
                )
            ):
                session.delete(entry)


@pytest.mark.usefixtures("search_backend")
def test_a_rebuild_keeps_a_row_committed_while_it_ran(
    engine: Engine, committed_rows: dict[str, Any], tmp_path: Path
) -> None:
    late_id = committed_rows["gap_id"]

    def progress(_count: int) -> None:
        # A transaction that began before the rebuild read the catalogue commits now, with an
        # id smaller than a row the rebuild covers.
        if committed_rows.get("late"):
            return
        committed_rows["late"] = True
        with Session(engine) as other:
            other.add(
                OutboxEntry(
                    id=late_id,
                    topic=SERVICE_CHANGED,
                    key=PASSPORT,
                    created_at=NOW,
                    available_at=NOW,
                )
            )
            other.commit()

    backend = EmbeddedBackend(tmp_path / "search.db")
    index_rebuild(bind=engine, backend=backend, progress=progress)

    assert committed_rows.get("late")
    with Session(engine) as session:
        assert session.get(OutboxEntry, committed_rows["covered_id"]) is None
        late = session.get(OutboxEntry, late_id)
        assert late is not None
        assert late.key == PASSPORT

    report = index_sync(bind=engine, backend=backend, now=NOW)
    assert report.failed == 0
    with Session(engine) as session:
        assert session.get(OutboxEntry, late_id) is None
