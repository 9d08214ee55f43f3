"""Institution EC keys in the forms e-GA hands out: bare base64 DER (PKCS#8, SPKI) or PEM.

Only EC keys on secp256k1, P-256, P-384 and P-521 load. Errors name what is wrong with a key,
never its content, so they may be logged.
"""

from __future__ import annotations

import base64
import binascii
import re

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

PrivateKey = ec.EllipticCurvePrivateKey
PublicKey = ec.EllipticCurvePublicKey

_CURVES: dict[str, type[ec.EllipticCurve]] = {
    "secp256k1": ec.SECP256K1,
    "P-256": ec.SECP256R1,
    "P-384": ec.SECP384R1,
    "P-521": ec.SECP521R1,
}
_ALIASES = {
    "secp256k1": "secp256k1",
    "p-256": "P-256",
    "p256": "P-256",
    "prime256v1": "P-256",
    "secp256r1": "P-256",
    "p-384": "P-384",
    "p384": "P-384",
    "secp384r1": "P-384",
    "p-521": "P-521",
    "p521": "P-521",
    "secp521r1": "P-521",
}
# A P-521 PKCS#8 with its public key is under 300 characters of base64; PEM adds armour.
_MAX_KEY_TEXT = 8192
_ARMOUR = re.compile(r"-----[A-Z0-9 ]+-----")


class KeyInvalid(ValueError):
    """A key that cannot be used: unreadable, not EC, or on a curve we do not accept."""


def _der(text: str | bytes) -> bytes:
    """The DER bytes inside PEM armour (any label) or bare base64, whitespace dropped."""
    if isinstance(text, bytes):
        try:
            text = text.decode("ascii")
        except UnicodeDecodeError:
            raise KeyInvalid("a key must be base64 or PEM text") from None
    if len(text) > _MAX_KEY_TEXT:
        raise KeyInvalid("the key text is too long")
    if "Proc-Type:" in text:
        raise KeyInvalid("encrypted PEM keys are not supported")
    body = "".join(_ARMOUR.sub("", text).split())
    try:
        der = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise KeyInvalid("a key must be base64 or PEM text") from None
    if not der:
        raise KeyInvalid("the key is empty")
    return der


def private_key_load(text: str | bytes) -> PrivateKey:
    """An EC private key from PKCS#8 or SEC1, as PEM (any label) or bare base64 DER."""
    der = _der(text)
    try:
        key = serialization.load_der_private_key(der, password=None)
    except (ValueError, TypeError):
        raise KeyInvalid("not a readable unencrypted PKCS#8 or SEC1 private key") from None
    except UnsupportedAlgorithm:
        raise KeyInvalid("not a supported private key") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise KeyInvalid("not an EC private key")
    curve_name(key)
    return key


def public_key_load(text: str | bytes) -> PublicKey:
    """An EC public key from SubjectPublicKeyInfo, as PEM or bare base64 DER."""
    der = _der(text)
    try:
        key = serialization.load_der_public_key(der)
    except (ValueError, TypeError):
        raise KeyInvalid("not a readable SubjectPublicKeyInfo public key") from None
    except UnsupportedAlgorithm:
        raise KeyInvalid("not a supported public key") from None
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise KeyInvalid("not an EC public key")
    curve_name(key)
    return key


def private_key_generate(curve: str = "secp256k1") -> PrivateKey:
    """A fresh key on `curve`: secp256k1, P-256 (prime256v1, secp256r1), P-384 or P-521."""
    name = _ALIASES.get(curve.lower())
    if name is None:
        raise KeyInvalid(f"unsupported curve {curve!r}")
    return ec.generate_private_key(_CURVES[name]())


def private_key_text(key: PrivateKey) -> str:
    """The key as bare base64 PKCS#8 DER on one line, the form e-GA uses."""
    der = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return base64.b64encode(der).decode("ascii")


def public_key_text(key: PublicKey | PrivateKey) -> str:
    """The public key as bare base64 SubjectPublicKeyInfo DER on one line."""
    public = key.public_key() if isinstance(key, ec.EllipticCurvePrivateKey) else key
    der = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode("ascii")


def curve_name(key: PublicKey | PrivateKey) -> str:
    """The key's curve as "secp256k1", "P-256", "P-384" or "P-521"."""
    name = _ALIASES.get(key.curve.name)
    if name is None:
        raise KeyInvalid("the key's curve is not accepted")
    return name
