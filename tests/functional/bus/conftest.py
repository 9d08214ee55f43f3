"""A portal with a bus configured, served in-process; the bus's and the institutions' keys.

The bus address is a closed port: these tests play GovESB themselves (deliveries signed with
the bus's key), or check what the portal does when the bus cannot be reached at all.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator, Mapping

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Connection, Engine
from sqlmodel import select

from portal.app import create_app
from portal.bus.models import Application
from portal.catalogue.models import Service
from portal.config import BusSettings, Settings
from portal.db import unit_of_work
from portal.identity import services as identity_services
from portal.identity.dependencies import SESSION_COOKIE
from portal.identity.models import User
from portal.sandbox.world import Credentials, bus_world, credentials_load
from tests.conftest import client_address
from tests.servers import address_of, free_socket

RITA_SERVICE = "rita-cheti-cha-kuzaliwa"
NOW = dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.UTC)
_people = itertools.count(1)


@pytest.fixture(scope="module")
def credentials() -> Mapping[str, Credentials]:
    return credentials_load(None)


@pytest.fixture(scope="module")
def bus_app(
    settings: Settings,
    engine: Engine,
    search_backend: object,
    credentials: Mapping[str, Credentials],
) -> Iterator[FastAPI]:
    closed = free_socket()  # bound, never listening: connections to it are refused
    world = bus_world(
        portal_url=settings.base_url,
        esb_url=address_of(closed),
        credentials=credentials,
        environment="test",
    )
    app = create_app(
        settings.model_copy(update={"bus": BusSettings.model_validate(world.portal_bus_settings)})
    )
    yield app
    closed.close()  # held until now, so that nothing else takes the port


@pytest.fixture
def bus_client(bus_app: FastAPI, db: Connection) -> Iterator[TestClient]:
    bus_app.state.bind = db
    try:
        with TestClient(bus_app, client=client_address()) as client:
            yield client
    finally:
        bus_app.state.bind = bus_app.state.engine


def person(db: Connection) -> int:
    """A person of their own, signed in nowhere yet; returns their id."""
    number = next(_people)
    with unit_of_work(db) as session:
        user = identity_services.user_signed_in(
            session=session,
            issuer="https://id.example.test",
            sub=f"bus-test-{number}",
            name=f"Mtu {number}",
            nin_digest=None,
            now=NOW,
        )
        assert user.id is not None
        return user.id


def signed_in(client: TestClient, db: Connection, attributes: Mapping[str, str]) -> int:
    """Sign a new person into `client` at the substantial level, carrying `attributes`;
    returns their id."""
    user_id = person(db)
    with unit_of_work(db) as session:
        user = session.get(User, user_id)
        assert user is not None
        token = identity_services.session_start(
            session=session,
            user=user,
            acr="urn:tz:nida:loa:substantial",
            id_token="x.y.z",
            provider_sid=None,
            attributes=attributes,
            now=dt.datetime.now(dt.UTC),
            lifetime=dt.timedelta(hours=1),
        )
    client.cookies.set(SESSION_COOKIE, token)
    return user_id


def application_opened(db: Connection, *, user_id: int, reference: str) -> Application:
    """An application RITA opened for the person, as a hand-off would have recorded it."""
    with unit_of_work(db) as session:
        service = session.exec(select(Service).where(Service.slug == RITA_SERVICE)).one()
        assert service.id is not None
        row = Application(
            public_id=f"pub-{reference}",
            user_id=user_id,
            service_id=service.id,
            institution_id=service.institution_id,
            reference=reference,
            push_code="RITA-STATUS",
            status="received",
            started_at=NOW,
            updated_at=NOW,
        )
        session.add(row)
    return row
