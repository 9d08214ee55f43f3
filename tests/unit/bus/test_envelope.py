"""Envelopes: what we send verifies, what was tampered with or is malformed is refused with a
reason, and the data builders keep the member order the spec gives."""

import base64
import json
from typing import Any

import pytest

from portal.bus.govesb import (
    MAX_ENVELOPE_BYTES,
    Delivery,
    EnvelopeRejected,
    Reply,
    async_response_data,
    compact,
    delivery_data,
    delivery_open,
    envelope,
    envelope_open,
    esb_response_data,
    nida_request_data,
    private_key_generate,
    push_data,
    reply_open,
    request_data,
    response,
    sign,
    signature_valid,
)

KEY = private_key_generate()
PUBLIC = KEY.public_key()
OTHER = private_key_generate()
DATA = {"apiCode": "TRA-TIN-INDIVIDUAL", "esbBody": {"jina": "Zuhura Mkwawa", "namba": 2**64}}


def _sealed(data_text: str, signature: str) -> bytes:
    return ('{"data":' + data_text + ',"signature":"' + signature + '"}').encode()


def _rejected(body: bytes, reason: str) -> EnvelopeRejected:
    with pytest.raises(EnvelopeRejected) as caught:
        envelope_open(body, PUBLIC)
    assert caught.value.reason == reason
    assert "Zuhura" not in str(caught.value)
    return caught.value


def test_an_envelope_opens_to_its_data() -> None:
    assert envelope_open(envelope(DATA, KEY), PUBLIC) == DATA


def test_the_envelope_is_compact_data_first() -> None:
    sealed = envelope(DATA, KEY)
    parsed = json.loads(sealed)
    assert list(parsed) == ["data", "signature"]
    assert sealed.startswith(b'{"data":' + compact(DATA).encode() + b',"signature":"')


def test_a_signature_is_standard_base64_of_der() -> None:
    signature = sign("text", KEY)
    der = base64.b64decode(signature, validate=True)
    assert der[0] == 0x30
    assert base64.b64encode(der).decode() == signature


def test_signatures_are_randomised_and_all_verify() -> None:
    first, second = sign("text", KEY), sign("text", KEY)
    assert first != second
    assert signature_valid("text", first, PUBLIC)
    assert signature_valid("text", second, PUBLIC)


@pytest.mark.parametrize(
    "wrap",
    [
        pytest.param(lambda s: f'"{s}"', id="quoted"),
        pytest.param(lambda s: s[:20] + "\r\n" + s[20:], id="crlf"),
        pytest.param(lambda s: " " + s + "\n", id="spaces"),
    ],
)
def test_the_signature_is_decoded_leniently(wrap: Any) -> None:
    assert signature_valid("text", wrap(sign("text", KEY)), PUBLIC)


@pytest.mark.parametrize("signature", ["", "%%%", "AAAA", "A" * 5000, "not-base64-at-all"])
def test_junk_signatures_do_not_verify(signature: str) -> None:
    assert not signature_valid("text", signature, PUBLIC)


def test_a_lone_surrogate_text_does_not_verify() -> None:
    assert not signature_valid("\ud800", sign("x", KEY), PUBLIC)


def test_a_quoted_signature_in_the_envelope_is_accepted() -> None:
    text = compact(DATA)
    signature = sign(text, KEY)
    assert envelope_open(_sealed(text, '\\"' + signature + '\\"'), PUBLIC) == DATA
    assert envelope_open(_sealed(text, signature + "\\r\\n"), PUBLIC) == DATA


def test_tampered_data_is_refused() -> None:
    sealed = envelope(DATA, KEY).replace(b"Zuhura", b"Zuhra!")
    _rejected(sealed, "bad_signature")


def test_a_signature_swapped_in_from_another_envelope_is_refused() -> None:
    other = json.loads(envelope({"apiCode": "X"}, KEY))["signature"]
    _rejected(_sealed(compact(DATA), other), "bad_signature")


def test_a_signature_by_another_key_is_refused() -> None:
    _rejected(envelope(DATA, OTHER), "bad_signature")


def test_a_pretty_printed_envelope_verifies_over_its_compact_form() -> None:
    pretty = json.dumps(json.loads(envelope(DATA, KEY)), indent=2, ensure_ascii=True).encode()
    assert b"\n" in pretty
    assert envelope_open(pretty, PUBLIC) == DATA


def test_a_pretty_printed_data_text_that_was_signed_verifies_raw() -> None:
    text = json.dumps(DATA, indent=4)
    assert text != compact(DATA)
    sealed = ('{\n  "signature" : "' + sign(text, KEY) + '",\n  "data" : ' + text + "\n}").encode()
    assert envelope_open(sealed, PUBLIC) == DATA


def test_a_python_ascii_escaped_data_text_that_was_signed_verifies_raw() -> None:
    data = {"jina": "Ñ ✓", "x": "\x01"}
    text = json.dumps(data, separators=(",", ":"))
    assert text != compact(data)
    assert envelope_open(_sealed(text, sign(text, KEY)), PUBLIC) == data


def test_a_jackson_compact_signature_over_re_escaped_text_verifies() -> None:
    data = {"jina": "Ñ ✓", "x": "\x01"}
    text = json.dumps(data, separators=(",", ":"))
    assert envelope_open(_sealed(text, sign(compact(data), KEY)), PUBLIC) == data


def test_data_with_floats_verifies_raw_only() -> None:
    text = '{"amount":1.50}'
    assert envelope_open(_sealed(text, sign(text, KEY)), PUBLIC) == {"amount": 1.5}
    _rejected(_sealed('{"amount":1.5}', sign(text, KEY)), "bad_signature")


@pytest.mark.parametrize("data_text", ["[]", '"text"', "1", "null", "true", '[{"apiCode":"X"}]'])
def test_non_object_data_is_refused(data_text: str) -> None:
    _rejected(_sealed(data_text, sign(data_text, KEY)), "malformed")


@pytest.mark.parametrize(
    "body",
    [
        b'{"data":{"apiCode":"X"}}',
        b'{"data":{"apiCode":"X"},"signature":""}',
        b'{"data":{"apiCode":"X"},"signature":null}',
    ],
)
def test_a_missing_signature_is_unsigned(body: bytes) -> None:
    _rejected(body, "unsigned")


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"   ",
        b"[]",
        b'"data"',
        b"{",
        b'{"data":{"a":1},"signature":"x"',
        b'{"data":{"a":1},"signature":"x",}',
        b'{"data":{"a":1},"signature":"x"} trailing',
        b'{"data":{"a":1},"signature":"x"}{}',
        b'{"data":{"a":1} "signature":"x"}',
        b'{data:{"a":1},"signature":"x"}',
        b'{"data"{"a":1},"signature":"x"}',
        b'{"signature":"x"}',
        b"{}",
        b'{"data":{"a":NaN},"signature":"x"}',
        b'{"data":{"a":Infinity},"signature":"x"}',
        b'{"data":{"a":"\x01"},"signature":"x"}',
        b'{"data":{"a":1},"signature":42}',
        b'{"data":{"a":1},"signature":["x"]}',
        b"\xef\xbb\xbf{}",
        b'{"data":' + b"[" * 100_000 + b"]" * 100_000 + b',"signature":"x"}',
    ],
)
def test_malformed_envelopes_are_refused(body: bytes) -> None:
    _rejected(body, "malformed")


def test_non_utf8_is_malformed() -> None:
    text = compact(DATA)
    sealed = _sealed(text, sign(text, KEY)).replace(b"Zuhura", b"Zuh\xffra")
    _rejected(sealed, "malformed")
    _rejected(b'{"data":{"a":"\xc3"},"signature":"x"}', "malformed")


def test_duplicate_data_members_are_malformed() -> None:
    first, second = compact({"apiCode": "A"}), compact({"apiCode": "B"})
    sealed = '{"data":' + first + ',"data":' + second + ',"signature":"' + sign(first, KEY) + '"}'
    _rejected(sealed.encode(), "malformed")
    sealed = '{"data":' + first + ',"signature":"' + sign(first, KEY) + '","data":' + second + "}"
    _rejected(sealed.encode(), "malformed")


def test_duplicate_members_inside_data_are_malformed() -> None:
    text = '{"apiCode":"A","apiCode":"B"}'
    _rejected(_sealed(text, sign(text, KEY)), "malformed")


def test_duplicate_signatures_are_malformed() -> None:
    text = compact(DATA)
    signature = sign(text, KEY)
    body = '{"data":' + text + ',"signature":"' + signature + '","signature":"' + signature + '"}'
    _rejected(body.encode(), "malformed")


def test_an_oversized_body_is_refused_before_parsing() -> None:
    _rejected(b"{" * (MAX_ENVELOPE_BYTES + 1), "too_large")
    padded = {"apiCode": "X", "esbBody": "a" * (MAX_ENVELOPE_BYTES - 200)}
    assert len(envelope(padded, KEY)) <= MAX_ENVELOPE_BYTES
    assert envelope_open(envelope(padded, KEY), PUBLIC) == padded
    too_big = {"apiCode": "X", "esbBody": "a" * MAX_ENVELOPE_BYTES}
    _rejected(envelope(too_big, KEY), "too_large")


def test_unknown_top_level_members_are_ignored() -> None:
    text = compact(DATA)
    body = '{"data":' + text + ',"signature":"' + sign(text, KEY) + '","extra":[1]}'
    assert envelope_open(body.encode(), PUBLIC) == DATA


def test_a_rejection_is_a_value_error_with_a_sentence() -> None:
    rejected = _rejected(b"[]", "malformed")
    assert isinstance(rejected, ValueError)
    assert str(rejected).endswith(".")


# --- data builders -----------------------------------------------------------------------------


def test_request_data() -> None:
    assert list(request_data("i82CGfWI", {"a": 1})) == ["apiCode", "esbBody"]
    assert request_data("i82CGfWI", None) == {"apiCode": "i82CGfWI"}


def test_nida_request_data_wraps_the_body_in_payload() -> None:
    data = nida_request_data("0KG8y54T", "EGA", {"NIN": "19900101123450000126"})
    assert compact(data) == (
        '{"apiCode":"0KG8y54T","userId":"EGA","esbBody":{"Payload":{"NIN":"19900101123450000126"}}}'
    )


def test_push_data() -> None:
    assert (
        compact(push_data("RITA-STATUS", {"a": 1}))
        == '{"pushCode":"RITA-STATUS","esbBody":{"a":1}}'
    )
    assert push_data("RITA-STATUS", None) == {"pushCode": "RITA-STATUS"}


def test_delivery_data() -> None:
    data = delivery_data(request_id="r1", code="C", esb_body={"a": 1})
    assert list(data) == ["esbBody", "requestId", "apiCode"]
    data = delivery_data(request_id="r1", code="C", esb_body={"a": 1}, user_id="EGA")
    assert list(data) == ["esbBody", "requestId", "apiCode", "userId"]


def test_esb_response_data() -> None:
    data = esb_response_data(success=True, request_id="r", message="Success", esb_body={"a": 1})
    assert list(data) == ["success", "requestId", "message", "esbBody"]
    data = esb_response_data(success=False, request_id="r", message="no", esb_body=None)
    assert list(data) == ["success", "requestId", "message"]


def test_async_response_data_always_carries_the_request_id() -> None:
    ok = async_response_data(request_id="r", success=True, esb_body={"a": 1})
    assert list(ok) == ["success", "esbBody", "requestId"]
    failed = async_response_data(request_id="r", success=False, message="busy")
    assert list(failed) == ["success", "message", "requestId"]
    with pytest.raises(ValueError, match="message"):
        async_response_data(request_id="r", success=False)


# --- deliveries and replies --------------------------------------------------------------------

REQUEST_ID = "6475958642c911ec989ab747256646aa"


def test_a_delivery_opens() -> None:
    body = envelope(delivery_data(request_id=REQUEST_ID, code="C1", esb_body={"a": 1}), KEY)
    assert delivery_open(body, PUBLIC) == Delivery(
        request_id=REQUEST_ID, code="C1", esb_body={"a": 1}, user_id=None
    )
    body = envelope(
        delivery_data(request_id=REQUEST_ID, code="C1", esb_body=None, user_id="EGA"), KEY
    )
    assert delivery_open(body, PUBLIC).user_id == "EGA"


def test_a_push_delivery_may_carry_its_code_as_push_code() -> None:
    body = envelope({"esbBody": [], "requestId": REQUEST_ID, "pushCode": "P1"}, KEY)
    assert delivery_open(body, PUBLIC).code == "P1"


@pytest.mark.parametrize(
    "data",
    [
        {"esbBody": {}, "apiCode": "C1"},
        {"esbBody": {}, "requestId": "", "apiCode": "C1"},
        {"esbBody": {}, "requestId": "r" * 65, "apiCode": "C1"},
        {"esbBody": {}, "requestId": 7, "apiCode": "C1"},
        {"esbBody": {}, "requestId": REQUEST_ID},
        {"esbBody": {}, "requestId": REQUEST_ID, "apiCode": ""},
        {"esbBody": {}, "requestId": REQUEST_ID, "apiCode": "c" * 65},
        {"esbBody": {}, "requestId": REQUEST_ID, "apiCode": None, "pushCode": "P"},
        {"esbBody": {}, "requestId": REQUEST_ID, "apiCode": "C1", "userId": 5},
    ],
)
def test_an_incomplete_delivery_is_refused(data: dict[str, Any]) -> None:
    with pytest.raises(EnvelopeRejected) as caught:
        delivery_open(envelope(data, KEY), PUBLIC)
    assert caught.value.reason == "incomplete"


def test_a_delivery_signed_by_another_key_is_refused() -> None:
    body = envelope(delivery_data(request_id=REQUEST_ID, code="C1", esb_body={}), OTHER)
    with pytest.raises(EnvelopeRejected) as caught:
        delivery_open(body, PUBLIC)
    assert caught.value.reason == "bad_signature"


def test_responses_open_as_replies() -> None:
    assert reply_open(response(success=True, key=KEY, esb_body={"a": 1}), PUBLIC) == Reply(
        success=True, request_id=None, message=None, esb_body={"a": 1}
    )
    failed = response(success=False, key=KEY, message="not_found")
    assert json.loads(failed)["data"] == {"success": False, "message": "not_found"}
    assert reply_open(failed, PUBLIC).message == "not_found"


def test_a_failure_response_needs_a_message() -> None:
    with pytest.raises(ValueError, match="message"):
        response(success=False, key=KEY)
    with pytest.raises(ValueError, match="message"):
        response(success=False, key=KEY, message="")


def test_a_response_keeps_the_jh_member_order() -> None:
    body = response(success=False, key=KEY, esb_body={}, message="m")
    assert body.startswith(b'{"data":{"success":false,"esbBody":{},"message":"m"},"signature":"')


@pytest.mark.parametrize(
    "data",
    [
        {"success": True, "requestId": REQUEST_ID, "message": "Success", "esbBody": {"a": 1}},
        {"esbBody": {"a": 1}, "success": True, "message": "Success", "requestId": REQUEST_ID},
    ],
)
def test_an_esb_reply_opens_in_any_member_order(data: dict[str, Any]) -> None:
    assert reply_open(envelope(data, KEY), PUBLIC) == Reply(
        success=True, request_id=REQUEST_ID, message="Success", esb_body={"a": 1}
    )


@pytest.mark.parametrize(
    "data",
    [
        {"esbBody": {}},
        {"success": "true"},
        {"success": 1},
        {"success": None},
        {"success": True, "requestId": 5},
        {"success": False, "message": {"en": "x"}},
    ],
)
def test_a_reply_without_a_boolean_success_is_incomplete(data: dict[str, Any]) -> None:
    with pytest.raises(EnvelopeRejected) as caught:
        reply_open(envelope(data, KEY), PUBLIC)
    assert caught.value.reason == "incomplete"
