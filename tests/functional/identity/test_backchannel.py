"""A back-channel logout token ends the session it names, once: the same token again is refused.

The provider is the in-test one of the relying-party tests (signed tokens over a mock
transport), on the real clock, so the portal's replay store keeps the token's `jti` for real.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import httpx2
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from joserfc.jwk import ECKey, KeySet
from sqlalchemy.engine import Connection
from sqlmodel import Session

from portal.db import unit_of_work
from portal.identity import selectors, services
from portal.identity.oidc import ClientConfig, ClientKey, RelyingParty, client_key_load
from tests.conftest import client_address
from tests.unit.identity.provider_fake import (
    CLIENT_ID,
    ISSUER,
    POST_LOGOUT_URI,
    REDIRECT_URI,
    SUB,
    Clock,
    FakeProvider,
)

SID = "op-session-1"


@pytest.fixture
def client_key() -> ClientKey:
    return client_key_load(json.dumps(ECKey.generate_key("P-256").as_dict(private=True)))


@pytest.fixture
def provider(client_key: ClientKey) -> FakeProvider:
    public = KeySet([ECKey.import_key(client_key.public_jwk())])
    return FakeProvider(Clock(dt.datetime.now(dt.UTC)), client_keys=public)


@pytest.fixture
def portal(
    bound_app: FastAPI, provider: FakeProvider, client_key: ClientKey
) -> Iterator[TestClient]:
    http = httpx2.Client(transport=provider.transport)
    config = ClientConfig(
        issuer=ISSUER,
        client_id=CLIENT_ID,
        redirect_uri=REDIRECT_URI,
        post_logout_redirect_uri=POST_LOGOUT_URI,
        client_keys=(client_key,),
    )
    saved = bound_app.state.relying_party
    bound_app.state.relying_party = RelyingParty(config, http=http, clock=provider.clock)
    try:
        with TestClient(bound_app, client=client_address()) as client:
            yield client
    finally:
        bound_app.state.relying_party = saved
        http.close()


def _signed_in(db: Connection) -> str:
    now = dt.datetime.now(dt.UTC)
    with unit_of_work(db) as session:
        user = services.user_signed_in(
            session=session, issuer=ISSUER, sub=SUB, name="Test", nin_digest=None, now=now
        )
        return services.session_start(
            session=session,
            user=user,
            acr="urn:tz:nida:loa:substantial",
            id_token="x.y.z",
            provider_sid=SID,
            attributes={},
            now=now,
            lifetime=dt.timedelta(hours=1),
        )


def _live(db: Connection, token: str) -> bool:
    with Session(db) as session:
        found = selectors.session_by_token(
            session=session, token=token, now=dt.datetime.now(dt.UTC), idle=dt.timedelta(hours=1)
        )
    return found is not None


def test_a_logout_token_ends_its_session_once_and_its_replay_is_refused(
    portal: TestClient, provider: FakeProvider, db: Connection
) -> None:
    token = _signed_in(db)
    logout = provider.logout_token(sid=SID)
    first = portal.post("/ingia/backchannel", data={"logout_token": logout})
    assert first.status_code == 200
    assert first.headers["cache-control"] == "no-store"
    assert not _live(db, token)

    again = _signed_in(db)  # signed in anew; the old token must not end this session
    replay = portal.post("/ingia/backchannel", data={"logout_token": logout})
    assert replay.status_code == 400
    assert _live(db, again)


def test_a_logout_token_with_a_nonce_ends_nothing(
    portal: TestClient, provider: FakeProvider, db: Connection
) -> None:
    token = _signed_in(db)
    refused = portal.post(
        "/ingia/backchannel", data={"logout_token": provider.logout_token(sid=SID, nonce="n")}
    )
    assert refused.status_code == 400
    assert _live(db, token)
