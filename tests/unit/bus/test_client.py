"""The GovESB client against a tiny fake engine served over real HTTP on loopback.

The fake issues tokens and counts the fetches, verifies every envelope with the client's public
key, and answers signed with the ESB key. Tests bend it through plain attributes: a 401 for the
next N calls, a status, a delay past the client's timeout, a reply signed by the wrong key.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI, Request, Response

from portal.bus.govesb import (
    BusError,
    ClientConfig,
    EnvelopeRejected,
    GovesbClient,
    compact,
    envelope,
    envelope_open,
    esb_response_data,
    private_key_generate,
    response,
    signature_valid,
)
from tests.servers import address_of, free_socket, served

CLIENT_ID = "5b0c6e1e-91f5-11ef-9c1e-0242ac120002"
CLIENT_SECRET = "Zq4XkR8mN2pW7tYc9vB3hL6sD1fG5jAe"
NIN = "19900101123450000126"
CLIENT_KEY = private_key_generate()
ESB_KEY = private_key_generate()
WRONG_KEY = private_key_generate()
REQUEST_ID = "6475958642c911ec989ab747256646aa"
TIMEOUT = 0.5


@dataclass
class Call:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class FakeEngine:
    token_lifetime: int | None = 3600
    token_status: int = 200
    token_fetches: int = 0
    token_requests: list[Call] = field(default_factory=list)
    form: list[dict[str, str]] = field(default_factory=list)
    tokens: set[str] = field(default_factory=set)
    unauthorised_calls: int = 0
    status: int = 200
    delay: float = 0.0
    mis_signed: bool = False
    success: bool = True
    oversized: bool = False
    calls: list[Call] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class Served:
    """The fake's address, and the fake it serves now (each test gets a fresh one)."""

    url: str
    engine: FakeEngine


def _engine_app(served: Served) -> FastAPI:
    app = FastAPI()

    @app.post("/gw/govesb-uaa/oauth/token")
    async def token(request: Request) -> Response:
        engine = served.engine
        form = await request.form()
        with engine.lock:
            engine.token_fetches += 1
            engine.token_requests.append(Call("token", dict(request.headers), b""))
            engine.form.append({name: str(value) for name, value in form.items()})
            value = f"token-{engine.token_fetches}-{time.monotonic_ns()}"
            engine.tokens.add(value)
        if engine.token_status != 200:
            error = {"error": "invalid_client", "error_description": "Bad client credentials"}
            return Response(json.dumps(error), engine.token_status, media_type="application/json")
        answer: dict[str, Any] = {"access_token": value, "token_type": "bearer", "scope": "read"}
        if engine.token_lifetime is not None:
            answer["expires_in"] = engine.token_lifetime
        return Response(json.dumps(answer), media_type="application/json")

    @app.post("/engine/esb/{path:path}")
    async def engine_call(path: str, request: Request) -> Response:
        engine = served.engine
        body = await request.body()
        engine.calls.append(Call("/" + path, dict(request.headers), body))
        if engine.delay:
            await asyncio.sleep(engine.delay)
        authorization = request.headers.get("authorization", "")
        token = authorization.removeprefix("Bearer ")
        if engine.unauthorised_calls or token not in engine.tokens:
            engine.unauthorised_calls = max(0, engine.unauthorised_calls - 1)
            return Response(b'{"error":"invalid_token"}', 401, media_type="application/json")
        if engine.status != 200:
            return Response(b"<html>Bad Gateway</html>", engine.status, media_type="text/html")
        try:
            data = envelope_open(body, CLIENT_KEY.public_key())
        except EnvelopeRejected:
            return Response(response(success=False, key=ESB_KEY, message="bad signature"), 401)
        esb_body: Any = {"echo": data.get("esbBody"), "padding": "x" * 2_000_000}
        if not engine.oversized:
            esb_body = data.get("esbBody")
        answer = esb_response_data(
            success=engine.success,
            request_id=REQUEST_ID,
            message="Success" if engine.success else "provider failed",
            esb_body=esb_body,
        )
        signed = envelope(answer, WRONG_KEY if engine.mis_signed else ESB_KEY)
        return Response(signed, media_type="application/json")

    return app


@pytest.fixture(scope="module")
def served_engine() -> Iterator[Served]:
    sock = free_socket()
    running = Served(address_of(sock), FakeEngine())
    with served(_engine_app(running), sock):
        yield running


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def engine(served_engine: Served) -> FakeEngine:
    served_engine.engine = FakeEngine()
    return served_engine.engine


@pytest.fixture
def clock() -> Clock:
    return Clock()


def _config(base_url: str, **changes: Any) -> ClientConfig:
    settings: dict[str, Any] = {
        "base_url": base_url,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "private_key": CLIENT_KEY,
        "esb_public_key": ESB_KEY.public_key(),
        "nida_user_id": "EGA",
        "timeout": TIMEOUT,
    }
    return ClientConfig(**{**settings, **changes})


@pytest.fixture
def make_client(served_engine: Served, engine: FakeEngine, clock: Clock) -> Iterator[Any]:
    made: list[GovesbClient] = []

    def make(**changes: Any) -> GovesbClient:
        client = GovesbClient(_config(served_engine.url, **changes), clock=clock)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


BODY = {"operation": "find", "idempotencyKey": "k" * 22, "citizen": {"nin": NIN}}


def test_a_request_comes_back_as_a_verified_reply(make_client: Any, engine: FakeEngine) -> None:
    reply = make_client().request("RITA-BIRTH-REG", BODY)
    assert reply.success is True
    assert reply.request_id == REQUEST_ID
    assert reply.message == "Success"
    assert reply.esb_body == BODY
    assert [call.path for call in engine.calls] == ["/request"]


def test_the_bytes_posted_are_the_bytes_signed(make_client: Any, engine: FakeEngine) -> None:
    make_client().request("RITA-BIRTH-REG", BODY)
    (call,) = engine.calls
    text = compact({"apiCode": "RITA-BIRTH-REG", "esbBody": BODY})
    head = b'{"data":' + text.encode() + b',"signature":"'
    assert call.body.startswith(head)
    assert call.body.endswith(b'"}')
    signature = call.body[len(head) : -2].decode()
    assert signature_valid(text, signature, CLIENT_KEY.public_key())
    assert call.headers["content-type"] == "application/json"


def test_a_nida_request_and_a_push_carry_their_data(make_client: Any, engine: FakeEngine) -> None:
    client = make_client()
    assert client.nida_request("0KG8y54T", {"NIN": NIN}).esb_body == {"Payload": {"NIN": NIN}}
    assert client.push("RITA-STATUS", {"reference": "R-1"}).success
    nida, push = (envelope_open(call.body, CLIENT_KEY.public_key()) for call in engine.calls)
    assert nida == {"apiCode": "0KG8y54T", "userId": "EGA", "esbBody": {"Payload": {"NIN": NIN}}}
    assert push == {"pushCode": "RITA-STATUS", "esbBody": {"reference": "R-1"}}
    assert [call.path for call in engine.calls] == ["/nida-request", "/push-request"]


def test_a_nida_request_needs_a_nida_user_id(make_client: Any, engine: FakeEngine) -> None:
    with pytest.raises(ValueError, match="nida_user_id"):
        make_client(nida_user_id=None).nida_request("0KG8y54T", {"NIN": NIN})
    assert engine.calls == []


@pytest.mark.parametrize("path", ["/async", "/async-response"])
def test_the_async_path_comes_from_the_config(
    make_client: Any, engine: FakeEngine, path: str
) -> None:
    make_client(async_path=path).async_response(
        request_id=REQUEST_ID, success=True, esb_body={"a": 1}
    )
    (call,) = engine.calls
    assert call.path == path
    assert envelope_open(call.body, CLIENT_KEY.public_key()) == {
        "success": True,
        "esbBody": {"a": 1},
        "requestId": REQUEST_ID,
    }


def test_a_verified_failure_is_returned_not_raised(make_client: Any, engine: FakeEngine) -> None:
    engine.success = False
    reply = make_client().request("RITA-BIRTH-REG", BODY)
    assert reply.success is False
    assert reply.message == "provider failed"


def test_the_token_request_carries_basic_and_form_credentials(
    make_client: Any, engine: FakeEngine
) -> None:
    make_client().request("RITA-BIRTH-REG", BODY)
    (token_call,) = engine.token_requests
    basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    assert token_call.headers["authorization"] == f"Basic {basic}"
    assert token_call.headers["content-type"] == "application/x-www-form-urlencoded"
    assert engine.form == [
        {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "grant_type": "client_credentials",
        }
    ]


@pytest.mark.parametrize(("bearer", "prefix"), [(True, "Bearer "), (False, "")])
def test_the_token_is_sent_bearer_or_bare(
    make_client: Any, engine: FakeEngine, bearer: bool, prefix: str
) -> None:
    make_client(bearer=bearer).request("RITA-BIRTH-REG", BODY)
    (token,) = engine.tokens
    assert engine.calls[0].headers["authorization"] == prefix + token


def test_the_token_is_cached_until_the_margin(
    make_client: Any, engine: FakeEngine, clock: Clock
) -> None:
    engine.token_lifetime = 120
    client = make_client(token_margin=60)
    client.request("A", None)
    clock.now += 59.9
    client.request("A", None)
    assert engine.token_fetches == 1
    clock.now += 0.1
    client.request("A", None)
    assert engine.token_fetches == 2
    tokens = [call.headers["authorization"] for call in engine.calls]
    assert tokens[0] == tokens[1] != tokens[2]


def test_without_expires_in_a_token_lasts_an_hour(
    make_client: Any, engine: FakeEngine, clock: Clock
) -> None:
    engine.token_lifetime = None
    client = make_client()
    client.request("A", None)
    clock.now += 3600 - 60 - 1
    client.request("A", None)
    assert engine.token_fetches == 1
    clock.now += 1
    client.request("A", None)
    assert engine.token_fetches == 2


def test_a_token_shorter_than_the_margin_is_used_once(make_client: Any, engine: FakeEngine) -> None:
    engine.token_lifetime = 30
    client = make_client()
    assert client.request("A", None).success
    assert client.request("A", None).success
    assert engine.token_fetches == 2


def test_a_401_fetches_a_new_token_and_retries_once(make_client: Any, engine: FakeEngine) -> None:
    client = make_client()
    client.request("A", None)
    engine.unauthorised_calls = 1
    assert client.request("A", {"x": 1}).success
    assert engine.token_fetches == 2
    assert len(engine.calls) == 3
    assert engine.calls[1].body == engine.calls[2].body
    assert engine.calls[1].headers["authorization"] != engine.calls[2].headers["authorization"]


def test_a_token_the_engine_revoked_is_replaced(make_client: Any, engine: FakeEngine) -> None:
    client = make_client()
    client.request("A", None)
    engine.tokens.clear()
    assert client.request("A", None).success
    assert engine.token_fetches == 2


def test_a_second_401_is_unauthorised_and_not_delivered(
    make_client: Any, engine: FakeEngine
) -> None:
    engine.unauthorised_calls = 2
    with pytest.raises(BusError) as caught:
        make_client().request("A", None)
    assert caught.value.reason == "unauthorised"
    assert caught.value.maybe_delivered is False
    assert len(engine.calls) == 2
    assert engine.token_fetches == 2


@pytest.mark.parametrize(("status", "reason"), [(401, "token_refused"), (503, "server_error")])
def test_a_token_refusal_is_not_delivered(
    make_client: Any, engine: FakeEngine, status: int, reason: str
) -> None:
    engine.token_status = status
    with pytest.raises(BusError) as caught:
        make_client().request("A", None)
    assert caught.value.reason == reason
    assert caught.value.maybe_delivered is False
    assert engine.calls == []


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_5xx_is_a_server_error_that_may_have_been_delivered(
    make_client: Any, engine: FakeEngine, status: int
) -> None:
    engine.status = status
    with pytest.raises(BusError) as caught:
        make_client().request("A", None)
    assert caught.value.reason == "server_error"
    assert caught.value.maybe_delivered is True


def test_a_slow_engine_times_out_in_bounded_time(make_client: Any, engine: FakeEngine) -> None:
    engine.delay = TIMEOUT * 4
    started = time.monotonic()
    with pytest.raises(BusError) as caught:
        make_client().request("A", None)
    elapsed = time.monotonic() - started
    assert caught.value.reason == "timeout"
    assert caught.value.maybe_delivered is True
    assert TIMEOUT * 0.9 < elapsed < TIMEOUT * 3


def test_a_closed_port_is_unreachable_and_not_delivered() -> None:
    sock = free_socket()
    closed = address_of(sock)
    sock.close()
    client = GovesbClient(_config(closed))
    started = time.monotonic()
    with pytest.raises(BusError) as caught:
        client.request("A", None)
    client.close()
    assert caught.value.reason == "unreachable"
    assert caught.value.maybe_delivered is False
    assert time.monotonic() - started < 2


def test_a_mis_signed_reply_is_a_bad_reply(make_client: Any, engine: FakeEngine) -> None:
    engine.mis_signed = True
    with pytest.raises(BusError) as caught:
        make_client().request("A", None)
    assert caught.value.reason == "bad_reply"
    assert caught.value.maybe_delivered is True


def test_an_oversized_reply_is_a_bad_reply(make_client: Any, engine: FakeEngine) -> None:
    engine.oversized = True
    with pytest.raises(BusError) as caught:
        make_client().request("A", None)
    assert caught.value.reason == "bad_reply"


def test_concurrent_calls_share_one_token(make_client: Any, engine: FakeEngine) -> None:
    client = make_client()
    errors: list[BaseException] = []

    def call() -> None:
        try:
            client.request("A", None)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=call) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert engine.token_fetches == 1
    assert len(engine.calls) == 8


def test_logs_carry_no_body_token_or_secret(
    make_client: Any, engine: FakeEngine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = make_client()
    client.request("RITA-BIRTH-REG", BODY)
    engine.unauthorised_calls = 1
    client.request("RITA-BIRTH-REG", BODY)
    engine.mis_signed = True
    with pytest.raises(BusError):
        client.request("RITA-BIRTH-REG", BODY)
    engine.mis_signed, engine.status = False, 502
    with pytest.raises(BusError):
        client.request("RITA-BIRTH-REG", BODY)
    logged = caplog.text
    assert "RITA-BIRTH-REG" in logged
    assert "bad_reply" in logged
    for secret in [NIN, CLIENT_SECRET, "idempotencyKey", '"signature"', *engine.tokens]:
        assert secret not in logged
    basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    assert basic not in logged


def test_the_config_repr_hides_the_secret_and_keys() -> None:
    text = repr(_config("https://esbdemo.gov.go.tz"))
    assert CLIENT_SECRET not in text
    assert "private_key" not in text


@pytest.mark.parametrize(
    "changes",
    [
        {"base_url": "ftp://esb"},
        {"base_url": "esbdemo.gov.go.tz"},
        {"timeout": 0},
        {"token_margin": -1},
        {"async_path": "async"},
        {"client_secret": ""},
    ],
)
def test_a_bad_config_is_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"must|required"):
        _config(**{"base_url": "https://esbdemo.gov.go.tz", **changes})
