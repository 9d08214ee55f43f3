"""The verified attributes a session carries, sealed under that session's own cookie.

At sign-in the provider vouches for a person's NIN, names, birth date and phone. Mlango needs
them again only to hand the person to an institution, with their consent each time. They are
kept with the session, encrypted (AES-256-GCM) under a key derived from the session's cookie,
which the database never holds: a copy of the table shows no NIN, and the attributes end with
the session.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from portal.identity.nin import nin_normalise

# The claims kept, in the order a consent page lists them.
ATTRIBUTES = ("nin", "given_name", "family_name", "birthdate", "phone_number")
VALUE_MAX = 200
_INFO = b"mlango: the verified attributes of one session"


def attributes_from_claims(claims: Mapping[str, Any]) -> dict[str, str]:
    """The attributes the provider vouched for, each checked; anything odd is left out."""
    found: dict[str, str] = {}
    for name in ATTRIBUTES:
        value = claims.get(name)
        if not isinstance(value, str) or not value.strip() or len(value) > VALUE_MAX:
            continue
        value = value.strip()
        try:
            if name == "nin":
                value = nin_normalise(value)
            elif name == "birthdate":
                value = dt.date.fromisoformat(value).isoformat()
        except ValueError:
            continue
        found[name] = value
    return found


def _cipher(token: str) -> AESGCM:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(token.encode())
    return AESGCM(key)


def attributes_seal(token: str, attributes: Mapping[str, str]) -> str:
    """`attributes` encrypted under the session cookie `token`, as text for the session row."""
    nonce = os.urandom(12)
    sealed = _cipher(token).encrypt(nonce, json.dumps(dict(attributes)).encode(), None)
    return base64.urlsafe_b64encode(nonce + sealed).decode()


def attributes_unseal(token: str, sealed: str) -> dict[str, str]:
    """The attributes sealed under `token`; empty when there are none or they do not open."""
    if not sealed:
        return {}
    try:
        raw = base64.urlsafe_b64decode(sealed.encode())
        opened = json.loads(_cipher(token).decrypt(raw[:12], raw[12:], None))
    except (ValueError, InvalidTag):
        return {}
    if not isinstance(opened, dict):
        return {}
    return {str(name): str(value) for name, value in opened.items() if name in ATTRIBUTES}
