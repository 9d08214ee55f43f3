"""Shared fixtures: settings, the test database (migrated and seeded once), app and clients."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine

from portal.app import create_app
from portal.catalogue.seed import seed_load
from portal.catalogue.services import catalogue_seed
from portal.config import PROJECT_ROOT, Environment, Settings
from portal.db import database_migrate, engine_create, metadata, unit_of_work
from portal.search.backend import SearchBackend, backend_create
from portal.search.services import index_rebuild
from tests.page_client import PageClient

SEED_TIME = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


def _database_url(tmp_root: Path) -> str:
    return os.environ.get("MLANGO_TEST_DATABASE_URL") or f"sqlite:///{tmp_root / 'test.db'}"


def _reset(engine: Engine) -> None:
    """Drop what an earlier run left, so migrations start from an empty database."""
    metadata.drop_all(engine)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    folder = tmp_path_factory.mktemp("data")
    return Settings(
        environment=Environment.test,
        database_url=_database_url(folder),
        search_path=folder / "search.db",
        base_url="http://testserver",
    )


@pytest.fixture(scope="session")
def engine(settings: Settings) -> Iterator[Engine]:
    """The test database: emptied, migrated to head and seeded from seed_data/."""
    engine = engine_create(settings.database_url)
    _reset(engine)
    database_migrate(settings.database_url)
    bundle = seed_load(directory=PROJECT_ROOT / "seed_data")
    with unit_of_work(engine) as session:
        catalogue_seed(session=session, bundle=bundle, now=SEED_TIME)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def search_backend(settings: Settings, engine: Engine) -> SearchBackend:
    """The configured (embedded) engine, rebuilt from the seeded database."""
    backend = backend_create(settings)
    index_rebuild(engine=engine, backend=backend)
    return backend


@pytest.fixture(scope="session")
def app(settings: Settings, engine: Engine, search_backend: SearchBackend) -> FastAPI:
    return create_app(settings)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def pages(client: TestClient) -> PageClient:
    return PageClient(client)
