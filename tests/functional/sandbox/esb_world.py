"""The sandbox GovESB served for real on a free loopback port, with the institution systems behind
it: one small app holding each provider's and subscriber's endpoint and the consumer's callback.

Every endpoint checks what the bus delivers with the bus's public key (`delivery_open`, or
`reply_open` for a callback) and answers signed with its own key (`response`). What a provider
answers is chosen by the request's esbBody: {"answer": "echo" | "fail" | "sleep" | "missign" |
"garbage" | "float" | "accept", "seconds": n}.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx2
from fastapi import FastAPI, Request
from fastapi.responses import Response

from portal.bus.govesb import (
    ClientConfig,
    Delivery,
    EnvelopeRejected,
    GovesbClient,
    PrivateKey,
    Reply,
    delivery_open,
    private_key_generate,
    reply_open,
    response,
    sign,
)
from portal.sandbox.esb import (
    ApiCode,
    EsbClient,
    EsbConfig,
    EsbFaults,
    PushCode,
    SandboxClock,
    create_esb_app,
)
from portal.sandbox.esb.engine import Engine
from tests.servers import address_of, free_socket, served

NIN = "19880314511010004217"
NIDA_USER = "MLANGO"
SECRETS = {
    "portal": "portal-sandbox-secret-0123456789ab",
    "rita": "rita-sandbox-secret-0123456789abcd",
    "tra": "tra-sandbox-secret-0123456789abcde",
    "nida": "nida-sandbox-secret-0123456789abcd",
    "kiosk": "kiosk-sandbox-secret-0123456789abc",
}
# Client ids, by what they stand for
PORTAL = "portal"  # the consumer, with a callback, allowed NIDA requests
KIOSK = "kiosk"  # a second consumer with no callback and no NIDA user
RITA = "rita"  # provider of RITA-BIRTH-REG, publisher of RITA-STATUS
TRA = "tra"  # provider of TRA-TIN-INDIVIDUAL, publisher of TRA-STATUS, a failing subscriber
NIDA = "nida"  # provider of the NIDA code

RITA_CODE = "RITA-BIRTH-REG"
TRA_CODE = "TRA-TIN-INDIVIDUAL"
TRA_CLEARANCE = "TRA-TAX-CLEARANCE"  # registered, but the portal may not call it
NIDA_CODE = "0KG8y54T"
DEAD_CODE = "DEAD-SRV"  # its provider URL has nobody listening
RITA_STATUS = "RITA-STATUS"  # to the portal (success) and TRA (failure), in that order
TRA_STATUS = "TRA-STATUS"  # to the portal only


@dataclass
class Received:
    """What an institution endpoint got: the verified delivery, or why it refused it."""

    endpoint: str
    delivery: Delivery | None = None
    reply: Reply | None = None
    refused: str | None = None


@dataclass
class Institutions:
    """The systems behind the bus, their keys, and everything they received."""

    esb_key: PrivateKey
    keys: dict[str, PrivateKey]
    url: str = ""
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def at(self, endpoint: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.endpoint == endpoint]

    def clear(self) -> None:
        with self.lock:
            self.received.clear()

    def keep(self, found: Received) -> None:
        with self.lock:
            self.received.append(found)


def _json(body: bytes, status: int = 200) -> Response:
    return Response(body, status_code=status, media_type="application/json")


def institutions_app(found: Institutions) -> FastAPI:
    app = FastAPI()
    esb_public = found.esb_key.public_key()

    def refuse(endpoint: str, owner: str, rejected: EnvelopeRejected) -> Response:
        found.keep(Received(endpoint, refused=rejected.reason))
        key = found.keys[owner]
        return _json(response(success=False, key=key, message="Signature Verification Failed"), 401)

    async def provide(endpoint: str, owner: str, request: Request) -> Response:
        try:
            delivery = delivery_open(await request.body(), esb_public)
        except EnvelopeRejected as rejected:
            return refuse(endpoint, owner, rejected)
        found.keep(Received(endpoint, delivery=delivery))
        key = found.keys[owner]
        body = delivery.esb_body if isinstance(delivery.esb_body, dict) else {}
        answer = body.get("answer", "echo")
        if answer == "fail":
            return _json(response(success=False, key=key, message="not_found"))
        if answer == "sleep":
            await asyncio.sleep(body["seconds"])
        if answer == "missign":
            return _json(response(success=True, key=private_key_generate(), esb_body={}))
        if answer == "garbage":
            return Response(b"Internal Server Error", status_code=500)
        if answer == "float":
            text = '{"success":true,"esbBody":{"amount":1.5}}'
            return _json(
                b'{"data":%s,"signature":"%s"}' % (text.encode(), sign(text, key).encode())
            )
        if answer == "accept":
            return _json(response(success=True, key=key, esb_body={"status": "pending"}))
        echoed = {"echo": delivery.esb_body, "userId": delivery.user_id, "by": owner}
        return _json(response(success=True, key=key, esb_body=echoed))

    for owner in (RITA, TRA, NIDA):

        async def endpoint(request: Request, owner: str = owner) -> Response:
            return await provide(f"/{owner}", owner, request)

        app.add_api_route(f"/{owner}", endpoint, methods=["POST"])

    @app.post("/portal/status")
    async def portal_status(request: Request) -> Response:
        try:
            delivery = delivery_open(await request.body(), esb_public)
        except EnvelopeRejected as rejected:
            return refuse("/portal/status", PORTAL, rejected)
        found.keep(Received("/portal/status", delivery=delivery))
        return _json(response(success=True, key=found.keys[PORTAL], esb_body={"seen": True}))

    @app.post("/tra/status")
    async def tra_status(request: Request) -> Response:
        try:
            delivery = delivery_open(await request.body(), esb_public)
        except EnvelopeRejected as rejected:
            return refuse("/tra/status", TRA, rejected)
        found.keep(Received("/tra/status", delivery=delivery))
        return _json(response(success=False, key=found.keys[TRA], message="unknown_reference"))

    @app.post("/portal/callback")
    async def portal_callback(request: Request) -> Response:
        body = await request.body()
        try:
            reply = reply_open(body, esb_public)
            delivery = delivery_open(body, esb_public)
        except EnvelopeRejected as rejected:
            return refuse("/portal/callback", PORTAL, rejected)
        found.keep(Received("/portal/callback", delivery=delivery, reply=reply))
        return _json(response(success=True, key=found.keys[PORTAL]))

    return app


def dead_url() -> str:
    """A loopback URL where nothing listens (the port was free a moment ago)."""
    sock = free_socket()
    url = address_of(sock)
    sock.close()
    return url + "/nobody"


def esb_config(found: Institutions, **overrides: Any) -> EsbConfig:
    """The test registry: five clients, four api codes (one dead), two push codes."""
    keys = found.keys
    base = found.url

    def client(client_id: str, **values: Any) -> EsbClient:
        return EsbClient(
            client_id=client_id,
            client_secret=SECRETS[client_id],
            public_key=keys[client_id].public_key(),
            **values,
        )

    values: dict[str, Any] = {
        "environment": "test",
        "private_key": found.esb_key,
        "clients": (
            client(
                PORTAL,
                api_codes=(RITA_CODE, TRA_CODE, NIDA_CODE, DEAD_CODE),
                nida_user_id=NIDA_USER,
                callback_url=f"{base}/portal/callback",
            ),
            client(KIOSK, api_codes=(RITA_CODE, TRA_CLEARANCE)),
            client(RITA, push_codes=(RITA_STATUS,)),
            client(TRA, push_codes=(TRA_STATUS,)),
            client(NIDA),
        ),
        "api_codes": (
            ApiCode(code=RITA_CODE, provider=RITA, url=f"{base}/rita"),
            ApiCode(code=TRA_CODE, provider=TRA, url=f"{base}/tra"),
            ApiCode(code=TRA_CLEARANCE, provider=TRA, url=f"{base}/tra"),
            ApiCode(code=NIDA_CODE, provider=NIDA, url=f"{base}/nida"),
            ApiCode(code=DEAD_CODE, provider=TRA, url=dead_url()),
        ),
        "push_codes": (
            PushCode(
                code=RITA_STATUS,
                publisher=RITA,
                subscribers=((PORTAL, f"{base}/portal/status"), (TRA, f"{base}/tra/status")),
            ),
            PushCode(
                code=TRA_STATUS,
                publisher=TRA,
                subscribers=((PORTAL, f"{base}/portal/status"),),
            ),
        ),
        "provider_timeout": 1.0,
    }
    values.update(overrides)
    return EsbConfig(**values)


@dataclass
class EsbWorld:
    url: str
    app: FastAPI
    config: EsbConfig
    clock: SandboxClock
    institutions: Institutions

    @property
    def engine(self) -> Engine:
        engine: Engine = self.app.state.esb
        return engine

    @property
    def faults(self) -> EsbFaults:
        faults: EsbFaults = self.app.state.faults
        return faults

    @contextmanager
    def client(self, client_id: str = PORTAL, **overrides: Any) -> Iterator[GovesbClient]:
        """A GovesbClient for the registered client `client_id`, closed after the block."""
        values: dict[str, Any] = {
            "base_url": self.url,
            "client_id": client_id,
            "client_secret": SECRETS[client_id],
            "private_key": self.institutions.keys[client_id],
            "esb_public_key": self.config.private_key.public_key(),
            "nida_user_id": NIDA_USER if client_id == PORTAL else None,
        }
        values.update(overrides)
        opened = GovesbClient(ClientConfig(**values))
        try:
            yield opened
        finally:
            opened.close()

    def token(self, client_id: str = PORTAL) -> str:
        """A fresh access token for `client_id`, fetched over HTTP."""
        with httpx2.Client(trust_env=False) as http:
            answer = http.post(
                self.url + "/gw/govesb-uaa/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=(client_id, SECRETS[client_id]),
            )
        assert answer.status_code == 200, answer.text
        token: str = answer.json()["access_token"]
        return token

    def post(
        self, path: str, body: bytes, *, token: str | None = None, authorization: str | None = None
    ) -> httpx2.Response:
        """POST `body` to an engine path with `Authorization: Bearer <token>` (or as given)."""
        headers = {"Content-Type": "application/json"}
        if authorization is None and token is not None:
            authorization = f"Bearer {token}"
        if authorization is not None:
            headers["Authorization"] = authorization
        with httpx2.Client(trust_env=False, timeout=15) as http:
            return http.post(self.url + "/engine/esb" + path, content=body, headers=headers)

    def reset(self) -> None:
        self.faults.reset()
        self.clock.reset()
        self.institutions.clear()
        self.engine.deliveries.clear()


def institution_keys() -> dict[str, PrivateKey]:
    return {client_id: private_key_generate() for client_id in SECRETS}


@contextmanager
def esb_world(**overrides: Any) -> Iterator[EsbWorld]:
    """The bus and the institutions behind it, served until the block ends; `overrides` replace
    EsbConfig fields."""
    found = Institutions(esb_key=private_key_generate(), keys=institution_keys())
    institutions_sock = free_socket()
    found.url = address_of(institutions_sock)
    esb_sock = free_socket()  # before dead_url(), which must not pick the bus's port
    clock = SandboxClock()
    config = esb_config(found, clock=clock, **overrides)
    app = create_esb_app(config)
    with served(institutions_app(found), institutions_sock), served(app, esb_sock):
        yield EsbWorld(address_of(esb_sock), app, config, clock, found)
