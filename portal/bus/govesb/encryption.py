"""The opt-in end-to-end encryption of an esbBody (spec §10), opaque to the ESB itself.

ECDH between an ephemeral key on the recipient's curve and the recipient's key, HKDF-SHA256
(32 zero bytes of salt, info "aes-encryption") to an AES-256-GCM key, a random 12-byte IV, the
16-byte tag before the ciphertext. The ephemeral public key travels as base64 of its PEM text.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from portal.bus.govesb.keys import KeyInvalid, PrivateKey, PublicKey, public_key_load

_INFO = b"aes-encryption"
_SALT = bytes(32)
_IV_BYTES = 12
_TAG_BYTES = 16


class DecryptionFailed(ValueError):
    """A sealed body we cannot open: malformed, for another key, or tampered with."""


def _aes_key(private: PrivateKey, public: PublicKey) -> AESGCM:
    shared = private.exchange(ec.ECDH(), public)
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=_INFO).derive(shared)
    return AESGCM(key)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def encrypt(plaintext: str, recipient: PublicKey) -> dict[str, str]:
    """`plaintext` sealed for `recipient`: `{"ephemeralKey", "iv", "encryptedData"}`."""
    ephemeral = ec.generate_private_key(recipient.curve)
    iv = os.urandom(_IV_BYTES)
    sealed = _aes_key(ephemeral, recipient).encrypt(iv, plaintext.encode("utf-8"), None)
    pem = ephemeral.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return {
        "ephemeralKey": _b64(pem),
        "iv": _b64(iv),
        "encryptedData": _b64(sealed[-_TAG_BYTES:] + sealed[:-_TAG_BYTES]),
    }


def _member(sealed: Mapping[str, Any], name: str) -> bytes:
    value = sealed.get(name)
    if not isinstance(value, str):
        raise DecryptionFailed(f"{name} is missing")
    try:
        return base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError):
        raise DecryptionFailed(f"{name} is not base64") from None


def decrypt(sealed: Mapping[str, Any], key: PrivateKey) -> str:
    """The plaintext `encrypt` sealed for `key`. The ephemeral key may be PEM in one line or in
    64 columns."""
    ephemeral_pem = _member(sealed, "ephemeralKey")
    iv = _member(sealed, "iv")
    data = _member(sealed, "encryptedData")
    try:
        ephemeral = public_key_load(ephemeral_pem)
    except KeyInvalid:
        raise DecryptionFailed("ephemeralKey is not an EC public key") from None
    if ephemeral.curve.name != key.curve.name:
        raise DecryptionFailed("ephemeralKey is on another curve")
    if len(iv) != _IV_BYTES or len(data) < _TAG_BYTES:
        raise DecryptionFailed("iv or encryptedData has the wrong length")
    tag, ciphertext = data[:_TAG_BYTES], data[_TAG_BYTES:]
    try:
        plaintext = _aes_key(key, ephemeral).decrypt(iv, ciphertext + tag, None)
        return plaintext.decode("utf-8")
    except (InvalidTag, UnicodeDecodeError):
        raise DecryptionFailed("the sealed body does not open with this key") from None
