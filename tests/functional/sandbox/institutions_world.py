"""The world around a demo institution in its tests, with no sandbox bus: the test plays the bus.

`FakeEngine` is a tiny GovESB engine over real HTTP: a token endpoint and /push-request, which
verifies the institution's envelope, records the push and answers as the test asks (success, a
signed failure, or a 503). `InstitutionWorld` serves one institution next to it and builds the
bus's signed deliveries to its hand-off endpoint; `Browser` is a citizen's browser.
"""

from __future__ import annotations

import base64
import secrets
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qs

import httpx2
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from portal.bus.govesb.client import ClientConfig
from portal.bus.govesb.envelope import (
    EnvelopeRejected,
    Reply,
    delivery_data,
    envelope,
    envelope_open,
    esb_response_data,
    reply_open,
)
from portal.bus.govesb.keys import PrivateKey, PublicKey, private_key_generate
from portal.sandbox.idp import SandboxClock
from portal.sandbox.institutions import InstitutionConfig, create_institution_app, demo_institution
from tests.servers import address_of, free_socket, served

# A made-up citizen, as the portal would send her verified details.
NIN = "19880314511010004217"
CITIZEN = {
    "nin": NIN,
    "givenName": "Neema",
    "familyName": "Mwakyusa",
    "birthDate": "1988-03-14",
    "phoneNumber": "+255754000042",
}
RETURN_URL = "http://127.0.0.1:8000/maombi-yangu"
CLIENT_SECRET = "sandbox secret of the demo institution"

Outcome = Literal["success", "failure", "down"]


@dataclass
class Push:
    client_id: str
    data: dict[str, Any]
    outcome: Outcome

    @property
    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = self.data["esbBody"]
        return body


@dataclass
class FakeEngine:
    """The bus's token endpoint and /push-request. `outcomes` answers the next pushes in turn
    ("success" once they run out); `failing` answers every push with a signed failure."""

    esb_key: PrivateKey
    clients: dict[str, PublicKey] = field(default_factory=dict)
    outcomes: deque[Outcome] = field(default_factory=deque)
    failing: bool = False
    pushes: list[Push] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def delivered(self, client_id: str) -> list[dict[str, Any]]:
        """The bodies of the pushes from `client_id` that were answered with success."""
        with self.lock:
            return [
                p.body for p in self.pushes if p.client_id == client_id and p.outcome == "success"
            ]

    def _outcome(self) -> Outcome:
        with self.lock:
            if self.outcomes:
                return self.outcomes.popleft()
            return "failure" if self.failing else "success"

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/gw/govesb-uaa/oauth/token")
        async def token(request: Request) -> Response:
            form = parse_qs((await request.body()).decode())
            scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
            client_id, _, secret = base64.b64decode(encoded).decode().partition(":")
            if (
                scheme != "Basic"
                or form.get("grant_type") != ["client_credentials"]
                or client_id not in self.clients
                or secret != CLIENT_SECRET
            ):
                return JSONResponse({"error": "invalid_client"}, status_code=401)
            return JSONResponse(
                {"access_token": f"token-{client_id}", "token_type": "bearer", "expires_in": 3600}
            )

        @app.post("/engine/esb/push-request")
        async def push_request(request: Request) -> Response:
            scheme, _, token = request.headers.get("authorization", "").partition(" ")
            client_id = token.removeprefix("token-")
            if scheme != "Bearer" or client_id not in self.clients:
                return Response(status_code=401)
            try:
                data = envelope_open(await request.body(), self.clients[client_id])
            except EnvelopeRejected:
                return Response(status_code=400)
            outcome = self._outcome()
            with self.lock:
                self.pushes.append(Push(client_id, data, outcome))
            if outcome == "down":
                return Response(status_code=503)
            answer = esb_response_data(
                success=outcome == "success",
                request_id=uuid.uuid4().hex,
                message="Success" if outcome == "success" else "unknown_reference",
                esb_body=None,
            )
            return Response(envelope(answer, self.esb_key), media_type="application/json")

        return app


@contextmanager
def engine_started(esb_key: PrivateKey) -> Iterator[tuple[str, FakeEngine]]:
    engine = FakeEngine(esb_key=esb_key)
    sock = free_socket()
    with served(engine.app(), sock):
        yield address_of(sock), engine


def http_client(base_url: str = "") -> httpx2.Client:
    return httpx2.Client(base_url=base_url, follow_redirects=False, timeout=10, trust_env=False)


def open_body(api_code: str = "RITA-BIRTH-REG", **changes: Any) -> dict[str, Any]:
    """A valid "open" hand-off under a fresh idempotency key; `changes` replace members (None
    removes one)."""
    body: dict[str, Any] = {
        "operation": "open",
        "idempotencyKey": secrets.token_urlsafe(24),
        "service": "rita-usajili-wa-kizazi",
        "apiCode": api_code,
        "locale": "sw",
        "purpose": "Kusajili kizazi cha mtoto",
        "citizen": dict(CITIZEN),
        "returnUrl": RETURN_URL,
    }
    body.update(changes)
    return {name: value for name, value in body.items() if value is not None}


@dataclass
class InstitutionWorld:
    url: str
    config: InstitutionConfig
    clock: SandboxClock
    engine: FakeEngine
    esb_key: PrivateKey
    key: PrivateKey  # the institution's
    http: httpx2.Client

    @property
    def slug(self) -> str:
        return self.config.slug

    def post_raw(self, body: bytes) -> httpx2.Response:
        return self.http.post(
            "/esb/hand-off", content=body, headers={"Content-Type": "application/json"}
        )

    def signed_delivery(
        self, esb_body: Any, *, api_code: str | None = None, key: PrivateKey | None = None
    ) -> bytes:
        code = api_code or self.config.services[0].api_code
        data = delivery_data(request_id=uuid.uuid4().hex, code=code, esb_body=esb_body)
        return envelope(data, key or self.esb_key)

    def deliver(
        self, esb_body: Any, *, api_code: str | None = None, key: PrivateKey | None = None
    ) -> httpx2.Response:
        return self.post_raw(self.signed_delivery(esb_body, api_code=api_code, key=key))

    def reply(self, answer: httpx2.Response) -> Reply:
        """The institution's answer, verified with its public key."""
        assert answer.headers["content-type"].startswith("application/json")
        return reply_open(answer.content, self.key.public_key())

    def open(self, **changes: Any) -> dict[str, Any]:
        """Open an application; its success answer's esbBody, plus the key it was opened with."""
        body = open_body(self.config.services[0].api_code, **changes)
        answer = self.deliver(body, api_code=body["apiCode"])
        assert answer.status_code == 200, answer.text
        reply = self.reply(answer)
        assert reply.success, reply.message
        return {**reply.esb_body, "idempotencyKey": body["idempotencyKey"]}

    def find(self, idempotency_key: str, *, api_code: str | None = None) -> Reply:
        answer = self.deliver(
            {"operation": "find", "idempotencyKey": idempotency_key}, api_code=api_code
        )
        assert answer.status_code == 200, answer.text
        return self.reply(answer)


@contextmanager
def institution_started(
    slug: str, engine_url: str, engine: FakeEngine, esb_key: PrivateKey, **overrides: Any
) -> Iterator[InstitutionWorld]:
    """Serve the demo institution `slug` on a free port, its pushes going to `engine`."""
    key = private_key_generate("P-256")
    engine.clients[slug] = key.public_key()
    bus = ClientConfig(
        base_url=engine_url,
        client_id=slug,
        client_secret=CLIENT_SECRET,
        private_key=key,
        esb_public_key=esb_key.public_key(),
        timeout=5,
    )
    clock = SandboxClock()
    sock = free_socket()
    url = address_of(sock)
    settings: dict[str, Any] = {"retry_first": 0.05, "retry_max": 0.2, **overrides}
    config = demo_institution(
        slug, bus=bus, base_url=url, environment="test", clock=clock, **settings
    )
    with served(create_institution_app(config), sock), http_client(url) as http:
        yield InstitutionWorld(url, config, clock, engine, esb_key, key, http)


class Browser:
    """A citizen's browser: its own cookies, no redirect followed by itself."""

    def __init__(self, world: InstitutionWorld) -> None:
        self.world = world
        self.http = http_client(world.url)

    def close(self) -> None:
        self.http.close()

    def launch(self, launch_url: str) -> httpx2.Response:
        return self.http.get(launch_url)

    def arrive(self, launch_url: str) -> str:
        """Follow the launch link to the application page; its path."""
        answer = self.launch(launch_url)
        assert answer.status_code == 303, answer.text
        location: str = answer.headers["location"]
        return location

    def get(self, path: str) -> httpx2.Response:
        return self.http.get(path)

    def post_form(self, path: str, fields: dict[str, str]) -> httpx2.Response:
        return self.http.post(path, data=fields)


def csrf_of(page: httpx2.Response) -> str:
    marker = 'name="csrf_token" value="'
    start = page.text.index(marker) + len(marker)
    return page.text[start : page.text.index('"', start)]


def wait_until(check: Callable[[], bool], *, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("the condition did not come true in time")
        time.sleep(0.02)
