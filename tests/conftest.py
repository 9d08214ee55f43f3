"""Shared fixtures: settings, the test database (migrated and seeded once), app and clients.

Each test that asks for `db` (directly, or through `client` and `pages`) works inside one
transaction on one connection that is rolled back when it ends: what it writes is gone, so no
test restores shared state by hand and no test sees another's rows. Pass `db` wherever a `Bind`
is expected (`unit_of_work(db)`); every unit of work is then a savepoint of that transaction.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection, Engine

from portal.app import create_app
from portal.catalogue.seed import seed_load
from portal.catalogue.services import catalogue_seed
from portal.config import (
    PROJECT_ROOT,
    DatabaseSettings,
    Environment,
    SearchSettings,
    Settings,
)
from portal.db import database_migrate, engine_create, unit_of_work
from portal.search.backend import SearchBackend, backend_create
from portal.search.services import index_rebuild
from tests.page_client import PageClient

SEED_TIME = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


def _database_url(tmp_root: Path) -> str:
    return os.environ.get("MLANGO_TEST_DATABASE_URL") or f"sqlite:///{tmp_root / 'test.db'}"


def _reset(engine: Engine) -> None:
    """Drop what an earlier run left (whatever its schema), so migrations start from empty."""
    found = MetaData()
    found.reflect(engine)
    found.drop_all(engine)


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    folder = tmp_path_factory.mktemp("data")
    return Settings(
        environment=Environment.test,
        database=DatabaseSettings(url=_database_url(folder)),
        search=SearchSettings(path=folder / "search.db"),
        base_url="http://testserver",
    )


@pytest.fixture(scope="session")
def engine(settings: Settings) -> Iterator[Engine]:
    """The test database: emptied, migrated to head and seeded from seed_data/."""
    engine = engine_create(settings.database.url)
    _reset(engine)
    database_migrate(settings.database.url)
    bundle = seed_load(directory=PROJECT_ROOT / "seed_data")
    with unit_of_work(engine) as session:
        catalogue_seed(session=session, bundle=bundle, now=SEED_TIME)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def search_backend(settings: Settings, engine: Engine) -> SearchBackend:
    """The configured (embedded) engine, rebuilt from the seeded database."""
    backend = backend_create(settings)
    index_rebuild(bind=engine, backend=backend)
    return backend


@pytest.fixture(scope="session")
def app(settings: Settings, engine: Engine, search_backend: SearchBackend) -> FastAPI:
    return create_app(settings)


@pytest.fixture
def db(engine: Engine) -> Iterator[Connection]:
    """One connection in a transaction that is rolled back after the test."""
    with engine.connect() as connection:
        transaction = connection.begin()
        if engine.dialect.name == "sqlite":
            # pysqlite starts a transaction only before a write, and a savepoint released
            # outside one would commit: open the real transaction now.
            connection.exec_driver_sql("BEGIN")
        try:
            yield connection
        finally:
            transaction.rollback()


_client_numbers = itertools.count(1)


def client_address() -> tuple[str, int]:
    """A client address of its own for each test (documentation range), so per-client rate
    limits never carry over from one test to the next."""
    return (f"2001:db8::{next(_client_numbers):x}", 50000)


@pytest.fixture
def bound_app(app: FastAPI, db: Connection) -> Iterator[FastAPI]:
    """The app, its requests' sessions bound to this test's transaction."""
    app.state.bind = db
    try:
        yield app
    finally:
        app.state.bind = app.state.engine


@pytest.fixture
def client(bound_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(bound_app, client=client_address()) as test_client:
        yield test_client


@pytest.fixture
def pages(client: TestClient) -> PageClient:
    return PageClient(client)


@pytest.fixture
def raw_client(bound_app: FastAPI) -> Iterator[TestClient]:
    """A client that gets the 500 response instead of the server's exception."""
    with TestClient(
        bound_app, raise_server_exceptions=False, client=client_address()
    ) as test_client:
        yield test_client
