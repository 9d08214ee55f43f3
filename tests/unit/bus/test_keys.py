"""Institution keys: every form e-GA, OpenSSL and the helpers write loads; nothing else does,
and no error quotes the key."""

import base64
import textwrap

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from portal.bus.govesb import (
    KeyInvalid,
    curve_name,
    private_key_generate,
    private_key_load,
    private_key_text,
    public_key_load,
    public_key_text,
)
from tests.unit.bus.test_vectors import SECP256K1_PKCS8, SECP256K1_SEC1, SECP256K1_SPKI


def _pem(label: str, body: str, width: int = 64) -> str:
    lines = "\n".join(textwrap.wrap(body, width))
    return f"-----BEGIN {label}-----\n{lines}\n-----END {label}-----\n"


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(SECP256K1_PKCS8, id="bare-pkcs8"),
        pytest.param(SECP256K1_SEC1, id="bare-sec1"),
        pytest.param(_pem("PRIVATE KEY", SECP256K1_PKCS8), id="pem-pkcs8"),
        pytest.param(_pem("EC PRIVATE KEY", SECP256K1_SEC1), id="pem-sec1"),
        # PHP wraps the bare PKCS#8 in an EC PRIVATE KEY armour (spec §4).
        pytest.param(_pem("EC PRIVATE KEY", SECP256K1_PKCS8), id="php-mislabelled"),
        pytest.param(_pem("PRIVATE KEY", SECP256K1_PKCS8).replace("\n", "\r\n"), id="crlf"),
        pytest.param("  " + SECP256K1_PKCS8[:40] + "\n" + SECP256K1_PKCS8[40:] + "\n", id="split"),
        pytest.param(SECP256K1_PKCS8.encode(), id="bytes"),
    ],
)
def test_a_private_key_loads_from_every_form(text: str | bytes) -> None:
    assert private_key_text(private_key_load(text)) == SECP256K1_PKCS8


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(SECP256K1_SPKI, id="bare"),
        pytest.param(_pem("PUBLIC KEY", SECP256K1_SPKI), id="pem"),
        pytest.param(_pem("PUBLIC KEY", SECP256K1_SPKI, width=1000), id="pem-one-line"),
        pytest.param(SECP256K1_SPKI.encode() + b"\n", id="bytes"),
    ],
)
def test_a_public_key_loads_from_every_form(text: str | bytes) -> None:
    assert public_key_text(public_key_load(text)) == SECP256K1_SPKI


@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        ("secp256k1", "secp256k1"),
        ("P-256", "P-256"),
        ("prime256v1", "P-256"),
        ("secp256r1", "P-256"),
        ("P-384", "P-384"),
        ("P-521", "P-521"),
        ("secp521r1", "P-521"),
    ],
)
def test_a_generated_key_is_on_the_named_curve_and_round_trips(name: str, canonical: str) -> None:
    key = private_key_generate(name)
    assert curve_name(key) == canonical
    text = private_key_text(key)
    assert "\n" not in text
    assert private_key_text(private_key_load(text)) == text
    assert curve_name(public_key_load(public_key_text(key))) == canonical


def test_the_default_curve_is_secp256k1() -> None:
    assert curve_name(private_key_generate()) == "secp256k1"


def test_an_unknown_curve_name_is_refused() -> None:
    with pytest.raises(KeyInvalid):
        private_key_generate("brainpoolP256r1")


AnyPrivateKey = rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey


def _der_b64(key: AnyPrivateKey, public: bool) -> str:
    if public:
        der = key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    else:
        der = key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    return base64.b64encode(der).decode()


@pytest.mark.parametrize(
    "key",
    [
        pytest.param(rsa.generate_private_key(public_exponent=65537, key_size=2048), id="rsa"),
        pytest.param(ed25519.Ed25519PrivateKey.generate(), id="ed25519"),
        pytest.param(ec.generate_private_key(ec.SECP224R1()), id="p224"),
        pytest.param(ec.generate_private_key(ec.BrainpoolP256R1()), id="brainpool"),
    ],
)
def test_keys_that_are_not_ec_on_an_accepted_curve_are_refused(key: AnyPrivateKey) -> None:
    with pytest.raises(KeyInvalid):
        private_key_load(_der_b64(key, public=False))
    with pytest.raises(KeyInvalid):
        public_key_load(_der_b64(key, public=True))


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n",
        "not base64 at all!",
        SECP256K1_PKCS8[:-8],
        base64.b64encode(b"\x30\x03\x02\x01\x00").decode(),
        "é" + SECP256K1_PKCS8,
        b"\xff\xfe" + SECP256K1_PKCS8.encode(),
        "A" * 10_000,
    ],
)
def test_unreadable_private_key_text_is_refused_without_quoting_it(text: str | bytes) -> None:
    with pytest.raises(KeyInvalid) as caught:
        private_key_load(text)
    assert SECP256K1_PKCS8[30:50] not in str(caught.value)
    assert caught.value.__cause__ is None


def test_a_public_key_is_not_a_private_key_and_the_other_way_round() -> None:
    with pytest.raises(KeyInvalid):
        private_key_load(SECP256K1_SPKI)
    with pytest.raises(KeyInvalid):
        public_key_load(SECP256K1_PKCS8)


def test_an_encrypted_pem_is_refused() -> None:
    encrypted = private_key_load(SECP256K1_PKCS8).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.BestAvailableEncryption(b"secret"),
    )
    with pytest.raises(KeyInvalid, match="encrypted"):
        private_key_load(encrypted)


def test_an_encrypted_pkcs8_is_refused() -> None:
    encrypted = private_key_load(SECP256K1_PKCS8).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret"),
    )
    with pytest.raises(KeyInvalid):
        private_key_load(encrypted)
