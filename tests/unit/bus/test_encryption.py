"""The end-to-end encryption of spec §10: sealed for one key, opened only by it, tamper-evident."""

import base64
import textwrap
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from portal.bus.govesb import (
    DecryptionFailed,
    decrypt,
    encrypt,
    private_key_generate,
)

KEY = private_key_generate()
PLAINTEXT = '{"NIN":"19900101123450000126","jina":"Zuhura Mkwawa ✓"}'


@pytest.mark.parametrize("curve", ["secp256k1", "P-256", "P-384", "P-521"])
def test_a_sealed_text_opens_with_the_recipient_key(curve: str) -> None:
    key = private_key_generate(curve)
    sealed = encrypt(PLAINTEXT, key.public_key())
    assert set(sealed) == {"ephemeralKey", "iv", "encryptedData"}
    assert len(base64.b64decode(sealed["iv"])) == 12
    assert len(base64.b64decode(sealed["encryptedData"])) == 16 + len(PLAINTEXT.encode())
    assert decrypt(sealed, key) == PLAINTEXT


def test_the_ephemeral_key_is_base64_of_pem_text_on_the_recipient_curve() -> None:
    key = private_key_generate("P-256")
    pem = base64.b64decode(encrypt(PLAINTEXT, key.public_key())["ephemeralKey"])
    assert pem.startswith(b"-----BEGIN PUBLIC KEY-----\n")
    public = serialization.load_pem_public_key(pem)
    assert public.curve.name == "secp256r1"  # type: ignore[attr-defined]


def test_sealing_twice_gives_different_ciphertexts() -> None:
    key = private_key_generate()
    first, second = encrypt(PLAINTEXT, key.public_key()), encrypt(PLAINTEXT, key.public_key())
    assert first["ephemeralKey"] != second["ephemeralKey"]
    assert first["encryptedData"] != second["encryptedData"]


def test_a_one_line_pem_ephemeral_key_is_accepted() -> None:
    key = private_key_generate()
    sealed = encrypt(PLAINTEXT, key.public_key())
    pem = base64.b64decode(sealed["ephemeralKey"]).decode()
    body = "".join(line for line in pem.splitlines() if not line.startswith("-----"))
    one_line = f"-----BEGIN PUBLIC KEY-----\n{body}\n-----END PUBLIC KEY-----"
    assert "\n".join(textwrap.wrap(body, 64)) in pem
    sealed["ephemeralKey"] = base64.b64encode(one_line.encode()).decode()
    assert decrypt(sealed, key) == PLAINTEXT


def test_another_key_cannot_open_it() -> None:
    sealed = encrypt(PLAINTEXT, private_key_generate().public_key())
    with pytest.raises(DecryptionFailed):
        decrypt(sealed, private_key_generate())


def test_a_key_on_another_curve_cannot_open_it() -> None:
    sealed = encrypt(PLAINTEXT, private_key_generate().public_key())
    with pytest.raises(DecryptionFailed, match="curve"):
        decrypt(sealed, private_key_generate("P-256"))


def _flip(b64: str, index: int) -> str:
    raw = bytearray(base64.b64decode(b64))
    raw[index] ^= 1
    return base64.b64encode(bytes(raw)).decode()


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda s: {**s, "encryptedData": _flip(s["encryptedData"], 0)}, id="tag"),
        pytest.param(lambda s: {**s, "encryptedData": _flip(s["encryptedData"], 20)}, id="data"),
        pytest.param(lambda s: {**s, "iv": _flip(s["iv"], 0)}, id="iv"),
        pytest.param(
            lambda s: {**s, "ephemeralKey": encrypt("x", KEY.public_key())["ephemeralKey"]},
            id="ephemeral",
        ),
    ],
)
def test_tampering_is_detected(change: Any) -> None:
    with pytest.raises(DecryptionFailed):
        decrypt(change(encrypt(PLAINTEXT, KEY.public_key())), KEY)


@pytest.mark.parametrize(
    "sealed",
    [
        {},
        {"iv": "AAAA", "encryptedData": "AAAA"},
        {"ephemeralKey": 5, "iv": "AAAA", "encryptedData": "AAAA"},
        {"ephemeralKey": "!!!", "iv": "AAAA", "encryptedData": "AAAA"},
        {"ephemeralKey": base64.b64encode(b"not a key").decode(), "iv": "", "encryptedData": ""},
    ],
)
def test_malformed_sealed_bodies_are_refused(sealed: dict[str, Any]) -> None:
    with pytest.raises(DecryptionFailed):
        decrypt(sealed, KEY)


def test_short_iv_or_data_is_refused() -> None:
    sealed = encrypt(PLAINTEXT, KEY.public_key())
    with pytest.raises(DecryptionFailed, match="length"):
        decrypt({**sealed, "iv": base64.b64encode(bytes(8)).decode()}, KEY)
    with pytest.raises(DecryptionFailed, match="length"):
        decrypt({**sealed, "encryptedData": base64.b64encode(bytes(15)).decode()}, KEY)
