"""The sandbox provider served for real on a free loopback port, and a relying party's side:
its keys and a tiny HTTP receiver (its JWKS, its back-channel logout endpoint).

One provider serves the whole folder (`sandbox`); tests that need another configuration start
their own with `start_sandbox`. The provider's clock is the real time plus an offset that tests
move and that is put back after each test, with the injected faults.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi import FastAPI

from portal.sandbox.idp import (
    ClientRegistration,
    IdpConfig,
    SandboxClock,
    create_idp_app,
)
from tests.functional.sandbox.rp import (
    Browser,
    RelyingParty,
    ec_key,
    http_client,
    public_jwks,
    rsa_key,
)
from tests.servers import address_of, free_socket, served

# Demo citizens (see portal/sandbox/idp/citizens.yaml), by what the tests use them for.
NEEMA = "19880314-51101-00042-17"  # the usual citizen
NEEMA_DIGITS = NEEMA.replace("-", "")
BARAKA = "19751102-25207-00318-64"  # a second citizen in the same browser
DAUDI = "19840411-34106-00276-40"  # locked out by the lockout test
IMANI = "20210903-22301-01402-93"  # a child
MWANAISHA = "19410615-81302-00014-08"  # born 1941
MWANAISHA_PIN = "7043"


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """The relying party's own server: serves `jwks` at /jwks, records every request."""

    url: str = ""
    jwks: dict[str, Any] = field(default_factory=dict)
    requests: list[Received] = field(default_factory=list)

    def posts(self, path: str) -> list[Received]:
        return [r for r in self.requests if r.method == "POST" and r.path == path]


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _record(self, body: bytes) -> None:
            receiver.requests.append(
                Received(
                    self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body
                )
            )

        def do_GET(self) -> None:
            self._record(b"")
            payload = json.dumps(receiver.jwks).encode()
            self.send_response(200 if self.path == "/jwks" else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_POST(self) -> None:
            self._record(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
            self.send_response(200)
            self.send_header("Cache-Control", "no-store")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture(scope="session")
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(found))
    found.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield found
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextmanager
def serve(build: Callable[[str], FastAPI]) -> Iterator[tuple[str, FastAPI]]:
    """Serve the app `build(issuer)` makes on a free loopback port, in a thread."""
    sock = free_socket()
    issuer = address_of(sock)
    app = build(issuer)
    with served(app, sock):
        yield issuer, app


@dataclass
class RpKeys:
    ec: Any
    rsa: Any
    signed: Any  # the key of the client whose JWKS is fetched from its jwks_uri


@pytest.fixture(scope="session")
def rp_keys() -> RpKeys:
    return RpKeys(ec=ec_key("rp-ec-1"), rsa=rsa_key("rp-rsa-1"), signed=ec_key("rp-signed-1"))


def clients(receiver: Receiver, keys: RpKeys) -> tuple[ClientRegistration, ...]:
    base = receiver.url
    return (
        ClientRegistration(
            client_id="portal",
            name="Mlango",
            redirect_uris=(f"{base}/auth/callback",),
            post_logout_redirect_uris=(f"{base}/signed-out",),
            backchannel_logout_uri=f"{base}/backchannel",
            jwks=public_jwks(keys.ec, keys.rsa),
        ),
        ClientRegistration(
            client_id="portal-signed",
            name="Mlango (signed userinfo)",
            redirect_uris=(f"{base}/signed/callback",),
            jwks_uri=f"{base}/jwks",
            userinfo_signed=True,
            sector_identifier="portal",  # the same sector as "portal": the same sub
        ),
        ClientRegistration(
            client_id="tra",
            name="TRA",
            redirect_uris=(f"{base}/tra/callback",),
            token_endpoint_auth_method="client_secret_basic",
            client_secret="tra-sandbox-secret",
            backchannel_logout_uri=f"{base}/tra/backchannel",
        ),
    )


@dataclass
class Sandbox:
    issuer: str
    app: FastAPI
    config: IdpConfig
    clock: SandboxClock
    receiver: Receiver
    keys: RpKeys

    def rp(self, client_id: str = "portal", **extra: str) -> RelyingParty:
        client = self.config.client(client_id)
        assert client is not None
        key = {"portal": self.keys.ec, "portal-signed": self.keys.signed}.get(client_id)
        return RelyingParty(
            issuer=self.issuer,
            client_id=client_id,
            redirect_uri=client.redirect_uris[0],
            key=key,
            clock=self.clock,
            secret=client.client_secret,
            extra=dict(extra),
        )

    def browser(self) -> Browser:
        return Browser(self.issuer)

    def jwks(self) -> dict[str, Any]:
        with http_client() as http:
            response = http.get(f"{self.issuer}/jwks.json")
        assert response.status_code == 200
        jwks: dict[str, Any] = response.json()
        return jwks

    def now(self) -> int:
        return int(self.clock().timestamp())

    def faults(self, **values: Any) -> None:
        with http_client() as http:
            response = http.post(f"{self.issuer}/dev/faults", json=values)
        assert response.status_code == 200, response.text


StartSandbox = Callable[..., Any]


@pytest.fixture(scope="session")
def start_sandbox(receiver: Receiver, rp_keys: RpKeys) -> StartSandbox:
    """`with start_sandbox(**overrides) as running:` a provider with the test clients and
    those `IdpConfig` fields overridden, stopped when the block ends."""

    @contextmanager
    def start(**overrides: Any) -> Iterator[Sandbox]:
        clock = SandboxClock()
        base = IdpConfig(
            environment="test",
            clients=clients(receiver, rp_keys),
            clock=clock,
            otp_echo=True,
            max_address_attempts=1000,
        )
        holder: dict[str, IdpConfig] = {}

        def build(issuer: str) -> FastAPI:
            holder["config"] = replace(base, issuer=issuer, **overrides)
            return create_idp_app(holder["config"])

        with serve(build) as (issuer, app):
            yield Sandbox(issuer, app, holder["config"], clock, receiver, rp_keys)

    return start


@pytest.fixture(scope="session")
def sandbox(start_sandbox: StartSandbox, rp_keys: RpKeys, receiver: Receiver) -> Iterator[Sandbox]:
    receiver.jwks = public_jwks(rp_keys.signed)
    with start_sandbox() as running:
        yield running


@pytest.fixture(autouse=True)
def _sandbox_reset(request: pytest.FixtureRequest) -> Iterator[None]:
    """Put the shared provider's clock and faults back after each test that used it."""
    yield
    if "sandbox" in request.fixturenames:
        running: Sandbox = request.getfixturevalue("sandbox")
        running.clock.reset()
        running.faults()


@pytest.fixture
def citizen(sandbox: Sandbox) -> Iterator[Browser]:
    opened = sandbox.browser()
    try:
        yield opened
    finally:
        opened.close()
