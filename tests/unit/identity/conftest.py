"""A relying party wired to the in-test provider, with one clock for both."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import httpx2
import pytest
from joserfc.jwk import ECKey, KeySet

from portal.identity.oidc import ClientConfig, ClientKey, RelyingParty, client_key_load
from tests.unit.identity.provider_fake import (
    CLIENT_ID,
    ISSUER,
    POST_LOGOUT_URI,
    REDIRECT_URI,
    Clock,
    FakeProvider,
)


@pytest.fixture(scope="session")
def client_key() -> ClientKey:
    key = ECKey.generate_key("P-256", parameters={"kid": "mlango-2026-1"})
    return client_key_load(json.dumps(key.as_dict(private=True)))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def provider(clock: Clock, client_key: ClientKey) -> FakeProvider:
    return FakeProvider(clock, client_keys=KeySet([ECKey.import_key(client_key.public_jwk())]))


@pytest.fixture
def config(client_key: ClientKey) -> ClientConfig:
    return ClientConfig(
        issuer=ISSUER,
        client_id=CLIENT_ID,
        redirect_uri=REDIRECT_URI,
        post_logout_redirect_uri=POST_LOGOUT_URI,
        client_keys=(client_key,),
    )


RpFactory = Callable[..., RelyingParty]


@pytest.fixture
def make_rp(provider: FakeProvider, clock: Clock, config: ClientConfig) -> Iterator[RpFactory]:
    """A relying party over the fake provider; keyword arguments change its configuration."""
    clients: list[httpx2.Client] = []

    def make(**changes: Any) -> RelyingParty:
        http = httpx2.Client(transport=provider.transport)
        clients.append(http)
        return RelyingParty(replace(config, **changes), http=http, clock=clock)

    yield make
    for http in clients:
        http.close()


@pytest.fixture
def rp(make_rp: RpFactory) -> RelyingParty:
    return make_rp()
