"""The index follows the catalogue through the outbox, and loses nothing while search is down."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from portal.catalogue import selectors as catalogue_selectors
from portal.catalogue.models import Category, Institution, LifeEvent, Service
from portal.catalogue.schemas import ServiceIn
from portal.catalogue.seed import seed_load
from portal.catalogue.services import catalogue_seed, service_upsert
from portal.config import PROJECT_ROOT
from portal.db import unit_of_work
from portal.outbox import OutboxEntry
from portal.search.documents import SERVICES, service_document
from portal.search.embedded import EmbeddedBackend
from portal.search.schemas import SearchQuery
from portal.search.services import index_rebuild, index_sync

NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)
NEW_SLUG = "rita-huduma-ya-majaribio"


def _index_equals_database(engine: Engine, backend: EmbeddedBackend) -> None:
    with Session(engine) as session:
        expected = {
            s.slug: service_document(s)
            for s in catalogue_selectors.service_list_full(session=session)
        }
    assert backend.documents(SERVICES) == expected


@pytest.fixture
def restore_catalogue(engine: Engine) -> Iterator[None]:
    """This test changes the shared catalogue; put it back as the seed says afterwards."""
    yield
    with unit_of_work(engine) as session:
        for service in session.exec(select(Service).where(Service.slug == NEW_SLUG)):
            session.delete(service)
        session.flush()
        catalogue_seed(
            session=session, bundle=seed_load(directory=PROJECT_ROOT / "seed_data"), now=NOW
        )
        for entry in session.exec(select(OutboxEntry)):
            session.delete(entry)


def _change_services(engine: Engine, base: ServiceIn) -> None:
    with unit_of_work(engine) as session:
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


@pytest.mark.usefixtures("restore_catalogue")
def test_changes_made_while_search_is_down_arrive_when_it_is_back(
    engine: Engine, tmp_path: Path
) -> None:
    live, down = tmp_path / "search", tmp_path / "search-down"
    live.mkdir()
    index_rebuild(engine=engine, backend=EmbeddedBackend(live / "search.db"))

    live.rename(down)  # the engine is down: its file cannot be reached
    base = next(
        r
        for r in seed_load(directory=PROJECT_ROOT / "seed_data").services
        if r.institution == "rita"
    )
    _change_services(engine, base)
    report = index_sync(engine=engine, backend=EmbeddedBackend(live / "search.db"), now=NOW)
    assert report.failed == 2
    assert report.applied == 0
    with Session(engine) as session:
        waiting = session.exec(select(OutboxEntry)).all()
        assert {e.key for e in waiting} == {base.slug, NEW_SLUG}
        assert all(e.attempts == 1 and e.available_at > NOW for e in waiting)
        assert all("cannot open" in (e.last_error or "") for e in waiting)

    # Retried too early: nothing is due yet, so nothing is attempted.
    assert (
        index_sync(engine=engine, backend=EmbeddedBackend(live / "search.db"), now=NOW).applied == 0
    )

    down.rename(live)  # the engine is back
    backend = EmbeddedBackend(live / "search.db")
    later = NOW + dt.timedelta(minutes=5)
    assert index_sync(engine=engine, backend=backend, now=later).applied == 2
    with Session(engine) as session:
        assert session.exec(select(OutboxEntry)).all() == []
    _index_equals_database(engine, backend)
    assert backend.search(SERVICES, SearchQuery(text="jipya kabisa")).hits[0].id == base.slug


def test_a_rebuild_equals_the_database_and_clears_the_outbox(
    engine: Engine, tmp_path: Path
) -> None:
    backend = EmbeddedBackend(tmp_path / "search.db")
    count = index_rebuild(engine=engine, backend=backend)
    with Session(engine) as session:
        assert count == len(session.exec(select(Service)).all())
    _index_equals_database(engine, backend)
