"""The portal and the sandbox national-ID provider, each served for real on a loopback port,
registered with each other: what sign-in tests, functional and in the browser, run against.

The provider fetches the portal's public keys from /.well-known/jwks.json and posts back-channel
logout tokens to it, so both are real sockets. The portal uses the shared test database.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn
from fastapi import FastAPI
from joserfc.jwk import ECKey
from pydantic import SecretStr
from sqlalchemy.engine import Engine

from portal.app import create_app
from portal.config import IdentitySettings, Settings
from portal.sandbox.idp import ClientRegistration, IdpConfig, SandboxClock, create_idp_app
from portal.web.ratelimit import RateLimiter

UNLIMITED = {"feedback": (10_000, 60.0), "sign_in": (10_000, 60.0)}


def free_socket() -> socket.socket:
    """A listening TCP socket on a free loopback port (IPPROTO_TCP: see portal.cli)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextmanager
def served(app: FastAPI, sock: socket.socket) -> Iterator[None]:
    """Serve `app` on `sock` in a thread until the block ends."""
    server = uvicorn.Server(uvicorn.Config(app, log_level="error", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("a server did not start")
        time.sleep(0.01)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@dataclass
class World:
    portal: str
    issuer: str
    engine: Engine


@contextmanager
def world_served(settings: Settings, engine: Engine) -> Iterator[World]:
    """The portal (signing in with a key of its own) and the provider that knows it."""
    portal_sock, idp_sock = free_socket(), free_socket()
    portal = f"http://127.0.0.1:{portal_sock.getsockname()[1]}"
    issuer = f"http://127.0.0.1:{idp_sock.getsockname()[1]}"
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
