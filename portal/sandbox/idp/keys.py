"""The provider's ES256 signing keys: one signs, the one before it stays published.

Rotation makes a fresh key the signing one and keeps the key it replaces in the JWKS, so tokens
already handed out still verify, while a relying party that cached the old JWKS meets a `kid` it
does not know and must fetch the set again.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any

from joserfc import jwk

from portal.sandbox.idp.config import SandboxRefusedError

SIGNING_ALG = "ES256"


def _key_new() -> jwk.ECKey:
    key = jwk.ECKey.generate_key("P-256", auto_kid=False)
    return _with_kid(key)


def _with_kid(key: jwk.ECKey) -> jwk.ECKey:
    """The key with `kid` = its RFC 7638 thumbprint, `use` = sig and `alg` = ES256."""
    data = key.as_dict(private=True)
    data.update({"kid": key.thumbprint(), "use": "sig", "alg": SIGNING_ALG})
    return jwk.ECKey.import_key(data)


def _key_import(data: Mapping[str, Any]) -> jwk.ECKey:
    if data.get("kty") != "EC" or data.get("crv") != "P-256" or "d" not in data:
        raise SandboxRefusedError("signing keys must be private EC P-256 JWKs")
    key = jwk.ECKey.import_key(dict(data))
    if "kid" in data:
        return jwk.ECKey.import_key({**key.as_dict(private=True), "use": "sig", "alg": SIGNING_ALG})
    return _with_kid(key)


class SigningKeys:
    """Two published keys, the first of which signs; thread-safe."""

    def __init__(self, private_jwks: Sequence[Mapping[str, Any]] = ()) -> None:
        keys = [_key_import(data) for data in private_jwks[:2]]
        while len(keys) < 2:
            keys.append(_key_new())
        self._lock = threading.Lock()
        self._active, self._previous = keys
        # Never published: signs tokens for the "unknown kid" fault.
        self._stray = _key_new()

    @property
    def active(self) -> jwk.ECKey:
        with self._lock:
            return self._active

    @property
    def stray(self) -> jwk.ECKey:
        return self._stray

    def rotate(self) -> str:
        """Sign with a fresh key from now on; the replaced one stays published. Its new kid."""
        with self._lock:
            self._previous, self._active = self._active, _key_new()
            return str(self._active.kid)

    def published(self) -> list[jwk.ECKey]:
        with self._lock:
            return [self._active, self._previous]

    def jwks(self) -> dict[str, Any]:
        """The public JWKS, the signing key first."""
        return {"keys": [key.as_dict(private=False) for key in self.published()]}

    def key_set(self) -> jwk.KeySet:
        return jwk.KeySet(list(self.published()))
