"""The portal and the sandbox national-ID provider, each served for real on a loopback port,
registered with each other: what sign-in tests, functional and in the browser, run against.

The provider fetches the portal's public keys from /.well-known/jwks.json and posts back-channel
logout tokens to it, so both are real sockets. The portal uses the shared test database.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from joserfc.jwk import ECKey
from pydantic import SecretStr
from sqlalchemy.engine import Engine

from portal.app import create_app
from portal.config import IdentitySettings, Settings
from portal.sandbox.idp import ClientRegistration, IdpConfig, SandboxClock, create_idp_app
from portal.web.ratelimit import RateLimiter
from tests.servers import address_of, free_socket, served

UNLIMITED = {"feedback": (10_000, 60.0), "sign_in": (10_000, 60.0)}


@dataclass
class World:
    portal: str
    issuer: str
    engine: Engine


@contextmanager
def world_served(settings: Settings, engine: Engine) -> Iterator[World]:
    """The portal (signing in with a key of its own) and the provider that knows it."""
    portal_sock, idp_sock = free_socket(), free_socket()
    portal, issuer = address_of(portal_sock), address_of(idp_sock)
    key = ECKey.generate_key("P-256", parameters={"kid": "mlango-test-1"}, private=True)
    idp = create_idp_app(
        IdpConfig(
            issuer=issuer,
            environment="test",
            clock=SandboxClock(),
            max_address_attempts=1000,
            clients=(
                ClientRegistration(
                    client_id="mlango",
                    name="Mlango",
                    redirect_uris=(f"{portal}/ingia/mwisho",),
                    post_logout_redirect_uris=(f"{portal}/toka/mwisho",),
                    backchannel_logout_uri=f"{portal}/ingia/backchannel",
                    jwks_uri=f"{portal}/.well-known/jwks.json",
                    userinfo_signed=True,
                ),
            ),
        )
    )
    app = create_app(
        settings.model_copy(
            update={
                "base_url": portal,
                "identity": IdentitySettings(
                    discovery_url=f"{issuer}/.well-known/openid-configuration",
                    client_key=SecretStr(json.dumps(key.as_dict(private=True))),
                ),
            }
        )
    )
    app.state.rate_limiter = RateLimiter(UNLIMITED)
    with served(idp, idp_sock), served(app, portal_sock):
        yield World(portal=portal, issuer=issuer, engine=engine)
