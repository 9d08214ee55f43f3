"""The sandbox GovESB's fault switches, set directly (`app.state.faults`) and over HTTP
(/sandbox/faults), each seen from the consumer and the provider."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest

from portal.bus.govesb import BusError, envelope, request_data
from tests.functional.sandbox.esb_world import (
    PORTAL,
    RITA,
    RITA_CODE,
    RITA_STATUS,
    EsbWorld,
    esb_world,
)

ALL_OFF = {
    "bad_signature": False,
    "provider_delay": 0.0,
    "provider_failing": False,
    "server_error": None,
}


@pytest.fixture(scope="module")
def esb() -> Iterator[EsbWorld]:
    with esb_world() as world:
        yield world


@pytest.fixture(autouse=True)
def _esb_reset(esb: EsbWorld) -> Iterator[None]:
    yield
    esb.reset()


def _faults(esb: EsbWorld, method: str, json: Any = None) -> httpx2.Response:
    with httpx2.Client(trust_env=False) as http:
        return http.request(method, esb.url + "/sandbox/faults", json=json)


def test_bad_signature_spoils_the_answer_and_the_delivery(esb: EsbWorld) -> None:
    esb.faults.set(bad_signature=True)
    with esb.client() as portal, pytest.raises(BusError) as raised:
        portal.request(RITA_CODE, {})
    assert raised.value.reason == "bad_reply"
    assert raised.value.maybe_delivered is True
    (received,) = esb.institutions.at("/rita")
    assert received.refused == "bad_signature"
    # The provider refused the delivery with a signed failure, which the bus verified.
    assert esb.engine.deliveries.entries()[0].outcome == "failed"


def test_tokens_expire_makes_every_issued_token_fail(esb: EsbWorld) -> None:
    body = envelope(request_data(RITA_CODE, {}), esb.institutions.keys[PORTAL])
    token = esb.token()
    with esb.client() as portal:
        assert portal.request(RITA_CODE, {}).success
        esb.faults.tokens_expire()
        assert esb.post("/request", body, token=token).status_code == 401
        # The client is answered 401, fetches a new token and retries once.
        assert portal.request(RITA_CODE, {}).success
    assert esb.post("/request", body, token=esb.token()).status_code == 200


def test_provider_delay_within_the_timeout_slows_the_answer(esb: EsbWorld) -> None:
    esb.faults.set(provider_delay=0.3)
    started = time.monotonic()
    with esb.client() as portal:
        reply = portal.request(RITA_CODE, {})
    assert reply.success
    assert time.monotonic() - started >= 0.3


def test_provider_delay_past_the_timeout_is_a_signed_timeout(esb: EsbWorld) -> None:
    esb.faults.set(provider_delay=5)
    started = time.monotonic()
    with esb.client() as portal:
        reply = portal.request(RITA_CODE, {})
    assert time.monotonic() - started < 2.5
    assert reply.success is False
    assert reply.message == "the provider did not answer within 1 s"
    assert esb.institutions.received == []
    assert esb.engine.deliveries.entries()[0].outcome == "timeout"


def test_provider_failing_answers_failure_without_calling_the_provider(esb: EsbWorld) -> None:
    esb.faults.set(provider_failing=True)
    with esb.client() as portal:
        reply = portal.request(RITA_CODE, {})
    assert reply.success is False
    assert reply.message == "the provider failed (sandbox fault provider_failing)"
    assert reply.request_id is not None
    assert esb.institutions.received == []
    with esb.client(RITA) as rita:
        pushed = rita.push(RITA_STATUS, {})
    assert pushed.message == "delivered to 0 of 2 subscribers; failed: portal, tra"


def test_server_error_answers_the_status_with_no_envelope(esb: EsbWorld) -> None:
    esb.faults.set(server_error=503)
    body = envelope(request_data(RITA_CODE, {}), esb.institutions.keys[PORTAL])
    answer = esb.post("/request", body)
    assert answer.status_code == 503
    assert answer.content == b""
    with esb.client() as portal, pytest.raises(BusError) as raised:
        portal.request(RITA_CODE, {})
    assert raised.value.reason == "server_error"
    assert esb.institutions.received == []
    # The token endpoint is not an engine call.
    assert esb.token()


def test_faults_over_http_set_read_and_clear(esb: EsbWorld) -> None:
    assert _faults(esb, "GET").json() == ALL_OFF
    answer = _faults(esb, "POST", {"provider_failing": True, "provider_delay": 0.1})
    assert answer.status_code == 200
    assert answer.json() == {**ALL_OFF, "provider_failing": True, "provider_delay": 0.1}
    # Switches not named stay as they are.
    assert _faults(esb, "POST", {"server_error": 502}).json()["provider_failing"] is True
    assert esb.faults.switches.server_error == 502
    assert _faults(esb, "DELETE").json() == ALL_OFF
    assert esb.faults.switches.provider_failing is False


def test_faults_over_http_expire_tokens(esb: EsbWorld) -> None:
    token = esb.token()
    body = envelope(request_data(RITA_CODE, {}), esb.institutions.keys[PORTAL])
    assert _faults(esb, "POST", {"tokens_expire": True}).json() == ALL_OFF
    assert esb.post("/request", body, token=token).status_code == 401


@pytest.mark.parametrize(
    "values",
    [
        pytest.param({"no_such_switch": True}, id="unknown switch"),
        pytest.param({"server_error": 404}, id="not a 5xx"),
        pytest.param({"server_error": True}, id="server_error a bool"),
        pytest.param({"provider_delay": -1}, id="negative delay"),
        pytest.param({"provider_delay": "2"}, id="delay a string"),
        pytest.param({"bad_signature": 1}, id="switch not a bool"),
        pytest.param({"tokens_expire": "yes"}, id="tokens_expire not a bool"),
        pytest.param([1], id="not an object"),
    ],
)
def test_faults_over_http_refuse_bad_values(esb: EsbWorld, values: Any) -> None:
    answer = _faults(esb, "POST", values)
    assert answer.status_code == 400
    assert answer.json()["error"]
    assert esb.faults.as_dict() == ALL_OFF


def test_faults_set_directly_refuses_bad_values(esb: EsbWorld) -> None:
    with pytest.raises(ValueError, match="5xx"):
        esb.faults.set(server_error=200)
    with pytest.raises(TypeError):
        esb.faults.set(no_such_switch=True)
    assert esb.faults.as_dict() == ALL_OFF
