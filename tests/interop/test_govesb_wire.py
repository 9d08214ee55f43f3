"""Our GovESB wire format against Node's own crypto, as the JS helpers use it (spec §4, §10):
signatures both ways (ECDSA-SHA256, DER, base64) and the end-to-end encryption both ways.

Node runs tests/interop/govesb/wire.mjs (built-in modules only). Without Node the tests skip
with the reason; under CI=true they fail, because CI installs it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from typing import Any

import pytest

from portal.bus.govesb import (
    compact,
    decrypt,
    encrypt,
    envelope,
    envelope_open,
    private_key_generate,
    private_key_text,
    public_key_text,
    reply_open,
)
from portal.config import PROJECT_ROOT
from tests.unit.bus.test_vectors import PAYLOAD

SCRIPT = PROJECT_ROOT / "tests" / "interop" / "govesb" / "wire.mjs"
CURVES = ["secp256k1", "P-256", "P-521"]


@pytest.fixture(scope="module")
def node_binary() -> str:
    found = shutil.which("node")
    if found is None:
        message = "node not found on PATH; the GovESB wire interop tests run Node's crypto"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return found


def _node(node_binary: str, request: dict[str, Any]) -> dict[str, Any]:
    finished = subprocess.run(
        [node_binary, str(SCRIPT)],
        input=json.dumps(request).encode(),
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr.decode(errors="replace")
    answer: dict[str, Any] = json.loads(finished.stdout)
    return answer


def _signature(sealed: bytes) -> str:
    signature: str = json.loads(sealed)["signature"]
    return signature


@pytest.mark.parametrize("curve", CURVES)
def test_node_verifies_our_envelope_signature(node_binary: str, curve: str) -> None:
    key = private_key_generate(curve)
    sealed = envelope(PAYLOAD, key)
    text = compact(PAYLOAD)
    public = public_key_text(key)
    answer = _node(
        node_binary,
        {
            "verify": [
                {"text": text, "signature": _signature(sealed), "publicKey": public},
                {"text": text + " ", "signature": _signature(sealed), "publicKey": public},
            ]
        },
    )
    assert answer["verified"] == [True, False]


@pytest.mark.parametrize("curve", CURVES)
def test_we_verify_what_node_signs(node_binary: str, curve: str) -> None:
    key = private_key_generate(curve)
    text = compact(PAYLOAD)
    # The JS helpers sign and send JSON.stringify's text: lower-case \u escapes.
    stringified = json.dumps(PAYLOAD, separators=(",", ":"), ensure_ascii=False)
    assert stringified != text
    answer_text = compact({"success": True, "esbBody": {"reference": "RITA-2026-000123"}})
    signed = _node(
        node_binary,
        {
            "sign": [
                {"text": t, "privateKey": private_key_text(key)}
                for t in (text, stringified, answer_text)
            ]
        },
    )["signatures"]
    public = key.public_key()
    for data_text, signature in zip((text, stringified), signed[:2], strict=True):
        body = f'{{"data":{data_text},"signature":"{signature}"}}'.encode()
        assert envelope_open(body, public) == PAYLOAD
    reply = reply_open(f'{{"data":{answer_text},"signature":"{signed[2]}"}}'.encode(), public)
    assert reply.success
    assert reply.esb_body == {"reference": "RITA-2026-000123"}


@pytest.mark.parametrize("curve", CURVES)
def test_node_opens_what_we_encrypt(node_binary: str, curve: str) -> None:
    key = private_key_generate(curve)
    plaintext = compact(PAYLOAD)
    sealed = encrypt(plaintext, key.public_key())
    answer = _node(
        node_binary, {"decrypt": [{"sealed": sealed, "privateKey": private_key_text(key)}]}
    )
    assert answer["decrypted"] == [plaintext]


@pytest.mark.parametrize("curve", CURVES)
def test_we_open_what_node_encrypts(node_binary: str, curve: str) -> None:
    key = private_key_generate(curve)
    plaintext = compact(PAYLOAD)
    answer = _node(
        node_binary, {"encrypt": [{"plaintext": plaintext, "publicKey": public_key_text(key)}]}
    )
    (sealed,) = answer["sealed"]
    assert decrypt(sealed, key) == plaintext
