"""The sandbox GovESB over real HTTP, driven by the GovESB client as a consumer, a producer and
a provider would, with institution systems behind it that verify what it delivers and sign
what they answer."""

from __future__ import annotations

import base64
import json
import logging
import re
import time
from collections.abc import Iterator

import httpx2
import pytest

from portal.bus.govesb import (
    MAX_ENVELOPE_BYTES,
    BusError,
    envelope,
    envelope_open,
    nida_request_data,
    public_key_text,
    reply_open,
    request_data,
    sign,
)
from tests.functional.sandbox.esb_world import (
    DEAD_CODE,
    KIOSK,
    NIDA_CODE,
    NIDA_USER,
    NIN,
    PORTAL,
    RITA,
    RITA_CODE,
    RITA_STATUS,
    SECRETS,
    TRA,
    TRA_CLEARANCE,
    TRA_STATUS,
    EsbWorld,
    esb_world,
)

TOKEN_PATH = "/gw/govesb-uaa/oauth/token"
REQUEST_ID = re.compile(r"[0-9a-f]{32}")


@pytest.fixture(scope="module")
def esb() -> Iterator[EsbWorld]:
    with esb_world() as world:
        yield world


@pytest.fixture(autouse=True)
def _esb_reset(esb: EsbWorld) -> Iterator[None]:
    yield
    esb.reset()


def _token_post(
    esb: EsbWorld, *, auth: tuple[str, str] | None = None, data: dict[str, str] | None = None
) -> httpx2.Response:
    with httpx2.Client(trust_env=False, auth=auth) as http:
        return http.post(esb.url + TOKEN_PATH, data=data)


def _signed_failure(esb: EsbWorld, answer: httpx2.Response) -> str:
    """The message of a failure the bus signed; asserts it verifies and says success false."""
    reply = reply_open(answer.content, esb.config.private_key.public_key())
    assert reply.success is False
    assert reply.request_id is not None
    assert REQUEST_ID.fullmatch(reply.request_id)
    assert reply.message
    return reply.message


# ----- the token endpoint


def test_token_with_basic_and_form_credentials_has_exactly_four_members(esb: EsbWorld) -> None:
    answer = _token_post(
        esb,
        auth=(PORTAL, SECRETS[PORTAL]),
        data={
            "client_id": PORTAL,
            "client_secret": SECRETS[PORTAL],
            "grant_type": "client_credentials",
        },
    )
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "no-store"
    token = answer.json()
    assert set(token) == {"access_token", "token_type", "expires_in", "scope"}
    assert token["token_type"] == "bearer"
    assert token["expires_in"] == 3600
    assert isinstance(token["scope"], str)
    assert len(token["access_token"]) >= 32


def test_token_with_basic_only(esb: EsbWorld) -> None:
    answer = _token_post(esb, auth=(RITA, SECRETS[RITA]), data={"grant_type": "client_credentials"})
    assert answer.status_code == 200


def test_token_with_basic_and_the_client_id_alone_in_the_form(esb: EsbWorld) -> None:
    form = {"client_id": RITA, "grant_type": "client_credentials"}
    answer = _token_post(esb, auth=(RITA, SECRETS[RITA]), data=form)
    assert answer.status_code == 200


def test_token_with_form_only(esb: EsbWorld) -> None:
    data = {"client_id": RITA, "client_secret": SECRETS[RITA], "grant_type": "client_credentials"}
    answer = _token_post(esb, data=data)
    assert answer.status_code == 200
    assert answer.json()["token_type"] == "bearer"


def test_tokens_are_fresh_each_time(esb: EsbWorld) -> None:
    assert esb.token() != esb.token()


@pytest.mark.parametrize(
    ("auth", "form"),
    [
        pytest.param((PORTAL, "wrong"), {}, id="wrong secret"),
        pytest.param(("nobody", "secret"), {}, id="unknown client"),
        pytest.param(None, {}, id="no credentials"),
        pytest.param(None, {"client_id": PORTAL, "client_secret": "wrong"}, id="wrong form secret"),
        pytest.param(
            (PORTAL, SECRETS[PORTAL]),
            {"client_id": RITA, "client_secret": SECRETS[RITA]},
            id="basic and form disagree",
        ),
    ],
)
def test_token_refused_for_bad_credentials(
    esb: EsbWorld, auth: tuple[str, str] | None, form: dict[str, str]
) -> None:
    answer = _token_post(esb, auth=auth, data={**form, "grant_type": "client_credentials"})
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_client"
    assert "error_description" in answer.json()


def test_token_refused_for_a_malformed_basic_header(esb: EsbWorld) -> None:
    with httpx2.Client(trust_env=False) as http:
        answer = http.post(
            esb.url + TOKEN_PATH,
            data={"grant_type": "client_credentials"},
            headers={"Authorization": "Basic not-base64!"},
        )
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_client"


def test_token_refused_for_another_grant_type(esb: EsbWorld) -> None:
    answer = _token_post(esb, auth=(PORTAL, SECRETS[PORTAL]), data={"grant_type": "password"})
    assert answer.status_code == 400
    assert answer.json()["error"] == "unsupported_grant_type"
    missing = _token_post(esb, auth=(PORTAL, SECRETS[PORTAL]), data={})
    assert missing.status_code == 400
    assert missing.json()["error"] == "invalid_request"


# ----- engine authentication


def test_engine_refuses_a_missing_unknown_or_bare_token(esb: EsbWorld) -> None:
    body = envelope(request_data(RITA_CODE, {}), esb.institutions.keys[PORTAL])
    token = esb.token()
    for authorization in ("", "Bearer not-a-token", token, f"Basic {token}"):
        answer = esb.post("/request", body, authorization=authorization or None)
        assert answer.status_code == 401, authorization
        assert answer.json()["error"] in {"unauthorized", "invalid_token"}
        assert "www-authenticate" in answer.headers
    assert esb.institutions.received == []


def test_engine_refuses_an_expired_token(esb: EsbWorld) -> None:
    body = envelope(request_data(RITA_CODE, {}), esb.institutions.keys[PORTAL])
    token = esb.token()
    assert esb.post("/request", body, token=token).status_code == 200
    esb.clock.advance(3601)
    answer = esb.post("/request", body, token=token)
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_token"


def test_client_fetches_a_new_token_after_expiry(esb: EsbWorld) -> None:
    with esb.client() as portal:
        assert portal.request(RITA_CODE, {"n": 1}).success
        esb.clock.advance(3601)
        assert portal.request(RITA_CODE, {"n": 2}).success
    assert len(esb.institutions.at("/rita")) == 2


# ----- pulls


def test_pull_end_to_end_with_signatures_checked_both_ways(esb: EsbWorld) -> None:
    body = {"nin": NIN, "note": "Habari / ümlaut\n"}
    with esb.client() as portal:
        reply = portal.request(RITA_CODE, body)
    assert reply.success is True
    assert reply.message == "Success"
    assert reply.request_id is not None
    assert REQUEST_ID.fullmatch(reply.request_id)
    assert reply.esb_body == {"echo": body, "userId": None, "by": RITA}
    (received,) = esb.institutions.at("/rita")
    assert received.delivery is not None
    assert received.delivery.request_id == reply.request_id
    assert received.delivery.code == RITA_CODE
    assert received.delivery.esb_body == body
    assert received.delivery.user_id is None
    (record,) = esb.engine.deliveries.entries()
    assert (record.kind, record.code, record.request_id) == ("request", RITA_CODE, reply.request_id)
    assert (record.target, record.outcome) == (RITA, "success")


def test_pull_answer_is_compact_with_data_first_in_the_fixture_order(esb: EsbWorld) -> None:
    body = envelope(request_data(RITA_CODE, {"a": 1}), esb.institutions.keys[PORTAL])
    answer = esb.post("/request", body, token=esb.token())
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    assert answer.content.startswith(b'{"data":{"success":true,"requestId":"')
    assert b'},"signature":"' in answer.content
    data = envelope_open(answer.content, esb.config.private_key.public_key())
    assert list(data) == ["success", "requestId", "message", "esbBody"]


def test_pull_without_esb_body_delivers_a_null_body(esb: EsbWorld) -> None:
    with esb.client() as portal:
        reply = portal.request(RITA_CODE, None)
    assert reply.success
    (received,) = esb.institutions.at("/rita")
    assert received.delivery is not None
    assert received.delivery.esb_body is None


def test_nida_request_carries_user_id_and_payload_to_the_provider(esb: EsbWorld) -> None:
    with esb.client() as portal:
        reply = portal.nida_request(NIDA_CODE, {"NIN": NIN})
    assert reply.success
    assert reply.esb_body == {"echo": {"Payload": {"NIN": NIN}}, "userId": NIDA_USER, "by": "nida"}
    (received,) = esb.institutions.at("/nida")
    assert received.delivery is not None
    assert received.delivery.user_id == NIDA_USER
    assert esb.engine.deliveries.entries()[0].kind == "nida"


def test_nida_request_without_payload_is_a_bad_envelope(esb: EsbWorld) -> None:
    key = esb.institutions.keys[PORTAL]
    no_payload = {"apiCode": NIDA_CODE, "userId": NIDA_USER, "esbBody": {"NIN": NIN}}
    no_user = {"apiCode": NIDA_CODE, "esbBody": {"Payload": {"NIN": NIN}}}
    token = esb.token()
    for data in (no_payload, no_user):
        answer = esb.post("/nida-request", envelope(data, key), token=token)
        assert answer.status_code == 400
        assert "required" in _signed_failure(esb, answer)
    assert esb.institutions.received == []


def test_nida_request_with_another_user_id_or_client_is_refused(esb: EsbWorld) -> None:
    key = esb.institutions.keys[PORTAL]
    body = envelope(nida_request_data(NIDA_CODE, "SOMEONE", {"NIN": NIN}), key)
    answer = esb.post("/nida-request", body, token=esb.token())
    assert answer.status_code == 200
    assert "userId" in _signed_failure(esb, answer)
    with esb.client(KIOSK, nida_user_id=NIDA_USER) as kiosk:
        reply = kiosk.nida_request(RITA_CODE, {"NIN": NIN})
    assert reply.success is False
    assert reply.message == "this client is not registered for NIDA requests"
    assert esb.institutions.received == []


def test_unknown_and_unauthorised_api_codes_are_refused_signed(esb: EsbWorld) -> None:
    with esb.client() as portal:
        unknown = portal.request("NO-SUCH", {})
        unauthorised = portal.request(TRA_CLEARANCE, {})
    assert unknown.success is False
    assert unknown.message == "unknown apiCode"
    assert unauthorised.success is False
    assert unauthorised.message == "this client may not call this apiCode"
    assert unknown.request_id != unauthorised.request_id
    assert esb.institutions.received == []
    assert esb.engine.deliveries.entries() == []


def test_a_provider_may_not_pull_its_own_code_unless_allowed(esb: EsbWorld) -> None:
    with esb.client(RITA) as rita:
        reply = rita.request(RITA_CODE, {})
    assert reply.success is False


def test_tampered_consumer_envelope_is_refused_with_a_signed_failure(esb: EsbWorld) -> None:
    body = envelope(request_data(RITA_CODE, {"amount": "100"}), esb.institutions.keys[PORTAL])
    tampered = body.replace(b'"100"', b'"900"')
    answer = esb.post("/request", tampered, token=esb.token())
    assert answer.status_code == 400
    assert _signed_failure(esb, answer) == "signature verification failed"
    assert esb.institutions.received == []


def test_envelope_signed_by_another_key_is_refused(esb: EsbWorld) -> None:
    body = envelope(request_data(RITA_CODE, {}), esb.institutions.keys[RITA])
    answer = esb.post("/request", body, token=esb.token())
    assert answer.status_code == 400
    assert _signed_failure(esb, answer) == "signature verification failed"


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"not json", id="not json"),
        pytest.param(b"[1, 2]", id="an array"),
        pytest.param(b'{"data": {"apiCode": "RITA-BIRTH-REG"}}', id="unsigned"),
        pytest.param(b'{"data": "x", "signature": "MEUCIQ=="}', id="data not an object"),
    ],
)
def test_malformed_envelopes_are_refused_signed(esb: EsbWorld, body: bytes) -> None:
    answer = esb.post("/request", body, token=esb.token())
    assert answer.status_code == 400
    _signed_failure(esb, answer)


def test_envelope_without_api_code_is_refused(esb: EsbWorld) -> None:
    body = envelope({"esbBody": {}}, esb.institutions.keys[PORTAL])
    answer = esb.post("/request", body, token=esb.token())
    assert answer.status_code == 400
    assert _signed_failure(esb, answer) == "apiCode is required"


def test_pretty_printed_envelope_signed_over_its_raw_text_is_accepted(esb: EsbWorld) -> None:
    data_text = json.dumps(request_data(RITA_CODE, {"a": 1}), indent=2)
    signature = sign(data_text, esb.institutions.keys[PORTAL])
    body = f'{{\n  "data": {data_text},\n  "signature": "{signature}"\n}}'.encode()
    answer = esb.post("/request", body, token=esb.token())
    assert answer.status_code == 200
    assert reply_open(answer.content, esb.config.private_key.public_key()).success


def test_unknown_members_such_as_authorization_are_ignored(esb: EsbWorld) -> None:
    token = esb.token()
    data = {"apiCode": RITA_CODE, "authorization": token, "esbBody": {}}
    answer = esb.post("/request", envelope(data, esb.institutions.keys[PORTAL]), token=token)
    assert reply_open(answer.content, esb.config.private_key.public_key()).success


def test_oversized_body_is_refused_with_413_before_parsing(esb: EsbWorld) -> None:
    token = esb.token()
    answer = esb.post("/request", b"{" + b" " * MAX_ENVELOPE_BYTES + b"}", token=token)
    assert answer.status_code == 413
    assert "1 MiB" in _signed_failure(esb, answer)
    unauthenticated = esb.post("/request", b" " * (MAX_ENVELOPE_BYTES + 1))
    assert unauthenticated.status_code == 401
    assert esb.institutions.received == []


def test_provider_failure_is_relayed_as_a_signed_failure(esb: EsbWorld) -> None:
    with esb.client() as portal:
        reply = portal.request(RITA_CODE, {"answer": "fail"})
    assert reply.success is False
    assert reply.message == "not_found"
    assert esb.engine.deliveries.entries()[0].outcome == "failed"


def test_provider_answer_with_a_bad_signature_is_a_failure(esb: EsbWorld) -> None:
    with esb.client() as portal:
        reply = portal.request(RITA_CODE, {"answer": "missign"})
    assert reply.success is False
    assert reply.message is not None
    assert "failed verification" in reply.message
    assert reply.esb_body is None
    assert esb.engine.deliveries.entries()[0].outcome == "bad_reply"


def test_provider_answer_that_is_no_envelope_is_a_failure(esb: EsbWorld) -> None:
    with esb.client() as portal:
        reply = portal.request(RITA_CODE, {"answer": "garbage"})
    assert reply.success is False
    assert reply.message is not None
    assert "HTTP 500" in reply.message


def test_floats_the_bus_cannot_sign_on_are_refused(esb: EsbWorld) -> None:
    text = f'{{"apiCode":"{RITA_CODE}","esbBody":{{"amount":1.5}}}}'
    signature = sign(text, esb.institutions.keys[PORTAL])
    body = f'{{"data":{text},"signature":"{signature}"}}'.encode()
    answer = esb.post("/request", body, token=esb.token())
    assert answer.status_code == 400
    assert "float" in _signed_failure(esb, answer)
    assert esb.institutions.received == []
    with esb.client() as portal:
        reply = portal.request(RITA_CODE, {"answer": "float"})
    assert reply.success is False
    assert reply.message is not None
    assert "float" in reply.message
    assert esb.engine.deliveries.entries()[0].outcome == "bad_reply"


def test_slow_provider_times_out_with_a_signed_failure_in_bounded_time(esb: EsbWorld) -> None:
    started = time.monotonic()
    with esb.client() as portal:
        reply = portal.request(RITA_CODE, {"answer": "sleep", "seconds": 3})
    assert time.monotonic() - started < 2.5
    assert reply.success is False
    assert reply.message == "the provider did not answer within 1 s"
    assert esb.engine.deliveries.entries()[0].outcome == "timeout"


def test_unreachable_provider_is_a_signed_failure(esb: EsbWorld) -> None:
    with esb.client() as portal:
        reply = portal.request(DEAD_CODE, {})
    assert reply.success is False
    assert reply.message == "the provider could not be reached"
    assert esb.engine.deliveries.entries()[0].outcome == "unreachable"


# ----- pushes


def test_push_fans_out_in_order_and_fails_if_one_subscriber_fails(esb: EsbWorld) -> None:
    status = {"reference": "RITA-1", "sequence": 2, "status": "in_review"}
    with esb.client(RITA) as rita:
        reply = rita.push(RITA_STATUS, status)
    assert reply.success is False
    assert reply.message == "delivered to 1 of 2 subscribers; failed: tra"
    assert reply.esb_body == [
        {"subscriber": PORTAL, "success": True, "message": "Success"},
        {"subscriber": TRA, "success": False, "message": "unknown_reference"},
    ]
    (portal_got,) = esb.institutions.at("/portal/status")
    (tra_got,) = esb.institutions.at("/tra/status")
    for received in (portal_got, tra_got):
        assert received.delivery is not None
        assert received.delivery.code == RITA_STATUS
        assert received.delivery.request_id == reply.request_id
        assert received.delivery.esb_body == status
    assert [r.endpoint for r in esb.institutions.received] == ["/portal/status", "/tra/status"]
    assert [(r.kind, r.target, r.outcome) for r in esb.engine.deliveries.entries()] == [
        ("push", PORTAL, "success"),
        ("push", TRA, "failed"),
    ]


def test_push_to_subscribers_that_all_answer_succeeds(esb: EsbWorld) -> None:
    with esb.client(TRA) as tra:
        reply = tra.push(TRA_STATUS, {"reference": "TIN-1"})
    assert reply.success is True
    assert reply.message == "delivered to 1 of 1 subscribers"


def test_push_with_a_code_the_client_may_not_push_is_refused(esb: EsbWorld) -> None:
    with esb.client() as portal:
        not_allowed = portal.push(RITA_STATUS, {})
        unknown = portal.push("NO-SUCH", {})
    assert not_allowed.message == "this client may not push this pushCode"
    assert unknown.message == "unknown pushCode"
    assert esb.institutions.received == []


def test_push_without_push_code_is_a_bad_envelope(esb: EsbWorld) -> None:
    body = envelope(request_data(RITA_STATUS, {}), esb.institutions.keys[RITA])
    answer = esb.post("/push-request", body, token=esb.token(RITA))
    assert answer.status_code == 400
    assert _signed_failure(esb, answer) == "pushCode is required"


# ----- async results


def test_async_result_is_kept_and_delivered_to_the_consumer_callback(esb: EsbWorld) -> None:
    with esb.client() as portal:
        inline = portal.request(RITA_CODE, {"answer": "accept"})
    assert inline.success
    assert inline.esb_body == {"status": "pending"}
    assert inline.request_id is not None
    with esb.client(RITA) as rita:
        ack = rita.async_response(
            request_id=inline.request_id, success=True, esb_body={"reference": "RITA-7"}
        )
    assert ack.success is True
    assert ack.request_id == inline.request_id
    assert ack.message == "result delivered to the consumer"
    (callback,) = esb.institutions.at("/portal/callback")
    assert callback.reply is not None
    assert callback.reply.success is True
    assert callback.reply.request_id == inline.request_id
    assert callback.reply.esb_body == {"reference": "RITA-7"}
    assert callback.delivery is not None
    assert callback.delivery.code == RITA_CODE
    kept = esb.engine.async_result_of(inline.request_id)
    assert kept is not None
    assert (kept.consumer, kept.provider, kept.callback) == (PORTAL, RITA, "success")
    assert esb.engine.deliveries.entries()[-1].kind == "callback"


def test_async_failure_through_the_other_path_reaches_the_callback(esb: EsbWorld) -> None:
    with esb.client() as portal:
        inline = portal.request(RITA_CODE, {"answer": "accept"})
    assert inline.request_id is not None
    with esb.client(RITA, async_path="/async-response") as rita:
        ack = rita.async_response(request_id=inline.request_id, success=False, message="rejected")
    assert ack.success
    (callback,) = esb.institutions.at("/portal/callback")
    assert callback.reply is not None
    assert (callback.reply.success, callback.reply.message) == (False, "rejected")


def test_async_result_for_a_consumer_without_callback_is_kept(esb: EsbWorld) -> None:
    with esb.client(KIOSK) as kiosk:
        inline = kiosk.request(RITA_CODE, {"answer": "accept"})
    assert inline.request_id is not None
    with esb.client(RITA) as rita:
        ack = rita.async_response(request_id=inline.request_id, success=True, esb_body={})
    assert ack.success
    assert ack.message == "result kept; the consumer has no callback"
    kept = esb.engine.async_result_of(inline.request_id)
    assert kept is not None
    assert kept.callback is None
    assert esb.institutions.at("/portal/callback") == []


def test_async_result_must_match_a_request_delivered_to_that_provider(esb: EsbWorld) -> None:
    with esb.client() as portal:
        inline = portal.request(RITA_CODE, {"answer": "accept"})
    assert inline.request_id is not None
    with esb.client(TRA) as tra:
        stranger = tra.async_response(request_id=inline.request_id, success=True, esb_body={})
        unknown = tra.async_response(request_id="0" * 32, success=True, esb_body={})
    assert stranger.success is False
    assert stranger.message == "no request with this requestId was delivered to this client"
    assert unknown.success is False
    with esb.client(RITA) as rita:
        first = rita.async_response(request_id=inline.request_id, success=True, esb_body={})
        again = rita.async_response(request_id=inline.request_id, success=True, esb_body={})
    assert first.success
    assert again.success is False
    assert again.message == "a result for this requestId was already received"
    assert len(esb.institutions.at("/portal/callback")) == 1


def test_async_result_without_request_id_is_a_bad_envelope(esb: EsbWorld) -> None:
    body = envelope({"success": True, "esbBody": {}}, esb.institutions.keys[RITA])
    answer = esb.post("/async", body, token=esb.token(RITA))
    assert answer.status_code == 400
    assert _signed_failure(esb, answer) == "requestId is required"


# ----- sandbox endpoints and logs


def test_public_key_endpoint_gives_the_bus_key(esb: EsbWorld) -> None:
    with httpx2.Client(trust_env=False) as http:
        answer = http.get(esb.url + "/sandbox/public-key")
    assert answer.json() == {"publicKey": public_key_text(esb.config.private_key)}


def test_deliveries_endpoint_lists_what_was_delivered_without_bodies(esb: EsbWorld) -> None:
    with esb.client() as portal:
        reply = portal.request(RITA_CODE, {"nin": NIN})
    with httpx2.Client(trust_env=False) as http:
        listed = http.get(esb.url + "/sandbox/deliveries").json()
    assert listed == [
        {
            "kind": "request",
            "code": RITA_CODE,
            "request_id": reply.request_id,
            "target": RITA,
            "outcome": "success",
        }
    ]


def test_logs_carry_no_body_token_or_secret(
    esb: EsbWorld, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="portal.sandbox.esb")
    token = esb.token()
    body = envelope(request_data(RITA_CODE, {"nin": NIN}), esb.institutions.keys[PORTAL])
    assert esb.post("/request", body, token=token).status_code == 200
    esb.post("/request", body.replace(NIN.encode(), b"0" * 20), token=token)
    with esb.client(RITA) as rita:
        rita.push(RITA_STATUS, {"nin": NIN})
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name == "portal.sandbox.esb")
    assert "token issued to client portal" in logged
    assert RITA_CODE in logged
    for secret in (NIN, token, SECRETS[PORTAL], SECRETS[RITA]):
        assert secret not in logged
    basic = base64.b64encode(f"{PORTAL}:{SECRETS[PORTAL]}".encode()).decode()
    assert basic not in logged


def test_client_errors_stay_bus_errors(esb: EsbWorld) -> None:
    with esb.client(client_secret="wrong-secret") as impostor, pytest.raises(BusError) as raised:
        impostor.request(RITA_CODE, {})
    assert raised.value.reason == "token_refused"
    assert raised.value.maybe_delivered is False
