"""Signed GovESB JSON envelopes: `{"data":<compact JSON>,"signature":"<base64 DER ECDSA>"}`.

The signature covers the UTF-8 bytes of the `data` value in Jackson's compact form (spec §5).
We serialise `data` once, sign those bytes and send the same bytes. A receiver checks the raw
`data` text of the envelope first, then its compact re-serialisation, as senders differ.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NoReturn

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from portal.bus.govesb.keys import PrivateKey, PublicKey

MAX_ENVELOPE_BYTES = 1_048_576
# The DER signature on P-521 is at most 139 bytes.
_MAX_SIGNATURE_BYTES = 160
_MAX_CODE_LENGTH = 64

RejectReason = Literal["too_large", "malformed", "unsigned", "bad_signature", "incomplete"]
_SENTENCES: dict[str, str] = {
    "too_large": "The envelope is larger than allowed.",
    "malformed": "The envelope is not a JSON object with an object data member.",
    "unsigned": "The envelope carries no signature.",
    "bad_signature": "The envelope's signature does not verify.",
    "incomplete": "The envelope's data lacks a required member.",
}


class EnvelopeRejected(ValueError):
    """An envelope we will not act on. `str()` is a short sentence with no body content."""

    reason: RejectReason

    def __init__(self, reason: RejectReason, sentence: str | None = None) -> None:
        super().__init__(sentence or _SENTENCES[reason])
        self.reason = reason


# --- Jackson-compatible compact JSON ---------------------------------------------------------

_ESCAPED = re.compile(r'["\\\x00-\x1f]')
_SHORT_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\t": "\\t",
    "\n": "\\n",
    "\r": "\\r",
    "\b": "\\b",
    "\f": "\\f",
}
_SURROGATE = re.compile("[\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return _SHORT_ESCAPES.get(char) or f"\\u{ord(char):04X}"


def _string(text: str) -> str:
    if _SURROGATE.search(text):
        raise ValueError("a string holds a lone surrogate, which UTF-8 cannot carry")
    return '"' + _ESCAPED.sub(_escape, text) + '"'


def _write(value: Any, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(_string(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(int.__repr__(value))
    elif isinstance(value, float):
        raise TypeError("floats are not allowed in signed data; send amounts as strings")
    elif isinstance(value, Mapping):
        out.append("{")
        for index, (key, member) in enumerate(value.items()):
            if not isinstance(key, str):
                raise TypeError("JSON object keys must be strings")
            if index:
                out.append(",")
            out.append(_string(key))
            out.append(":")
            _write(member, out)
        out.append("}")
    elif isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _write(item, out)
        out.append("]")
    else:
        raise TypeError(f"{type(value).__name__} cannot be written as signed JSON")


def compact(value: Any) -> str:
    """`value` as Jackson writes it compactly: no spaces, key order kept, non-ASCII raw, `/`
    unescaped, control characters other than the short escapes as upper-case `\\u00XX`.

    Floats raise TypeError (their text differs between Java and Python); so do non-string keys
    and values JSON has no form for. A lone surrogate raises ValueError.
    """
    out: list[str] = []
    _write(value, out)
    return "".join(out)


# --- signatures ------------------------------------------------------------------------------

_NOT_BASE64 = re.compile(r"[^A-Za-z0-9+/=]")
_ECDSA_SHA256 = ec.ECDSA(hashes.SHA256())


def sign(text: str, key: PrivateKey) -> str:
    """ECDSA-SHA256 over the UTF-8 of `text`, DER, standard base64 with padding, one line."""
    der = key.sign(text.encode("utf-8"), _ECDSA_SHA256)
    return base64.b64encode(der).decode("ascii")


def _verifies(message: bytes, signature: str, key: PublicKey) -> bool:
    try:
        der = base64.b64decode(_NOT_BASE64.sub("", signature), validate=True)
    except (binascii.Error, ValueError):
        return False
    if not der or len(der) > _MAX_SIGNATURE_BYTES:
        return False
    try:
        key.verify(der, message, _ECDSA_SHA256)
    except (InvalidSignature, ValueError):
        return False
    return True


def signature_valid(text: str, signature: str, key: PublicKey) -> bool:
    """Whether `signature` is `key`'s ECDSA-SHA256 over `text`. Like Java's MIME decoder, every
    character outside the base64 alphabet (quotes, CR/LF, spaces) is dropped before decoding."""
    try:
        message = text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return _verifies(message, signature, key)


def envelope(data: Mapping[str, Any], key: PrivateKey) -> bytes:
    """The signed envelope of `data`: the bytes sent are the bytes signed."""
    text = compact(data)
    return b'{"data":%s,"signature":"%s"}' % (
        text.encode("utf-8"),
        sign(text, key).encode("ascii"),
    )


# --- reading an envelope ---------------------------------------------------------------------

_WHITESPACE = re.compile(r"[ \t\n\r]*")


def _skip_whitespace(text: str, index: int) -> int:
    match = _WHITESPACE.match(text, index)
    return match.end() if match else index


def _refuse_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("an object repeats a member name")
    return result


_DECODER = json.JSONDecoder(
    object_pairs_hook=_object_without_duplicates, parse_constant=_refuse_constant
)


def _members(text: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The top-level object's members, and the raw text of each member's value."""
    index = _skip_whitespace(text, 0)
    if text[index : index + 1] != "{":
        raise ValueError("not an object")
    members: dict[str, Any] = {}
    raw: dict[str, str] = {}
    index = _skip_whitespace(text, index + 1)
    if text[index : index + 1] == "}":
        index = _skip_whitespace(text, index + 1)
    else:
        while True:
            if text[index : index + 1] != '"':
                raise ValueError("a member name must be a string")
            name, index = _DECODER.raw_decode(text, index)
            index = _skip_whitespace(text, index)
            if text[index : index + 1] != ":":
                raise ValueError("a member name must be followed by a colon")
            start = _skip_whitespace(text, index + 1)
            value, index = _DECODER.raw_decode(text, start)
            if name in members:
                raise ValueError("the envelope repeats a member name")
            members[name] = value
            raw[name] = text[start:index]
            index = _skip_whitespace(text, index)
            separator = text[index : index + 1]
            index = _skip_whitespace(text, index + 1)
            if separator == "}":
                break
            if separator != ",":
                raise ValueError("members must be separated by commas")
    if index != len(text):
        raise ValueError("text follows the object")
    return members, raw


def envelope_open(body: bytes, key: PublicKey) -> dict[str, Any]:
    """The verified `data` of an envelope signed by `key`; otherwise EnvelopeRejected.

    The size is checked before parsing. The signature is checked over the raw `data` text
    first, then over its compact form (skipped when `data` holds floats).
    """
    if len(body) > MAX_ENVELOPE_BYTES:
        raise EnvelopeRejected("too_large")
    try:
        members, raw = _members(body.decode("utf-8"))
    except (ValueError, RecursionError):
        raise EnvelopeRejected("malformed") from None
    data = members.get("data")
    if not isinstance(data, dict):
        raise EnvelopeRejected("malformed")
    signature = members.get("signature")
    if signature is None or signature == "":
        raise EnvelopeRejected("unsigned")
    if not isinstance(signature, str):
        raise EnvelopeRejected("malformed", "The envelope's signature is not a string.")
    raw_data = raw["data"]
    if _verifies(raw_data.encode("utf-8"), signature, key):
        return data
    try:
        rebuilt = compact(data)
    except (TypeError, ValueError, RecursionError):
        raise EnvelopeRejected("bad_signature") from None
    if rebuilt != raw_data and _verifies(rebuilt.encode("utf-8"), signature, key):
        return data
    raise EnvelopeRejected("bad_signature")


# --- what travels in `data` ------------------------------------------------------------------


def request_data(api_code: str, body: Any | None) -> dict[str, Any]:
    """A consumer's pull: `{"apiCode", "esbBody"}`, the body left out when None."""
    data: dict[str, Any] = {"apiCode": api_code}
    if body is not None:
        data["esbBody"] = body
    return data


def nida_request_data(api_code: str, user_id: str, body: Any) -> dict[str, Any]:
    """A NIDA pull: `{"apiCode", "userId", "esbBody": {"Payload": body}}`."""
    return {"apiCode": api_code, "userId": user_id, "esbBody": {"Payload": body}}


def push_data(push_code: str, body: Any | None) -> dict[str, Any]:
    """A producer's push: `{"pushCode", "esbBody"}`, the body left out when None."""
    data: dict[str, Any] = {"pushCode": push_code}
    if body is not None:
        data["esbBody"] = body
    return data


def delivery_data(
    *, request_id: str, code: str, esb_body: Any, user_id: str | None = None
) -> dict[str, Any]:
    """What the ESB delivers to a provider or subscriber: `{"esbBody", "requestId", "apiCode"
    [, "userId"]}`; a push's code travels in "apiCode" too."""
    data: dict[str, Any] = {"esbBody": esb_body, "requestId": request_id, "apiCode": code}
    if user_id is not None:
        data["userId"] = user_id
    return data


def esb_response_data(
    *, success: bool, request_id: str, message: str, esb_body: Any | None
) -> dict[str, Any]:
    """What the ESB answers a consumer: `{"success", "requestId", "message", "esbBody"}`."""
    data: dict[str, Any] = {"success": success, "requestId": request_id, "message": message}
    if esb_body is not None:
        data["esbBody"] = esb_body
    return data


@dataclass(frozen=True)
class Delivery:
    """A verified request or push the ESB delivered to us."""

    request_id: str
    code: str
    esb_body: Any
    user_id: str | None


def _code(value: Any) -> str | None:
    if isinstance(value, str) and 0 < len(value) <= _MAX_CODE_LENGTH:
        return value
    return None


def delivery_open(body: bytes, esb_key: PublicKey) -> Delivery:
    """A delivery signed by the ESB, with its requestId and apiCode (or pushCode)."""
    data = envelope_open(body, esb_key)
    request_id = _code(data.get("requestId"))
    code = _code(data["apiCode"] if "apiCode" in data else data.get("pushCode"))
    user_id = data.get("userId")
    if request_id is None or code is None or not isinstance(user_id, str | None):
        raise EnvelopeRejected("incomplete")
    return Delivery(request_id=request_id, code=code, esb_body=data.get("esbBody"), user_id=user_id)


def _answer_data(*, success: bool, esb_body: Any | None, message: str | None) -> dict[str, Any]:
    if not success and not message:
        raise ValueError("a failure needs a message")
    data: dict[str, Any] = {"success": success}
    if esb_body is not None:
        data["esbBody"] = esb_body
    if message is not None:
        data["message"] = message
    return data


def response(
    *, success: bool, key: PrivateKey, esb_body: Any | None = None, message: str | None = None
) -> bytes:
    """A provider's (or subscriber's) signed answer: data `{"success", "esbBody", "message"}`,
    members left out when None. A failure needs a message (ValueError)."""
    return envelope(_answer_data(success=success, esb_body=esb_body, message=message), key)


@dataclass(frozen=True)
class Reply:
    """A verified answer: a provider's to the ESB, or the ESB's to a consumer."""

    success: bool
    request_id: str | None
    message: str | None
    esb_body: Any


def reply_open(body: bytes, key: PublicKey) -> Reply:
    """An answer signed by `key`, its members in any order; "success" must be a boolean."""
    data = envelope_open(body, key)
    success = data.get("success")
    request_id = data.get("requestId")
    message = data.get("message")
    if (
        not isinstance(success, bool)
        or not isinstance(request_id, str | None)
        or not isinstance(message, str | None)
    ):
        raise EnvelopeRejected("incomplete")
    return Reply(
        success=success, request_id=request_id, message=message, esb_body=data.get("esbBody")
    )


def async_response_data(
    *, request_id: str, success: bool, esb_body: Any | None = None, message: str | None = None
) -> dict[str, Any]:
    """A provider's late answer for `/async`: `{"success", "esbBody", "message", "requestId"}`,
    requestId always (the PHP variant). A failure needs a message (ValueError)."""
    data = _answer_data(success=success, esb_body=esb_body, message=message)
    data["requestId"] = request_id
    return data
