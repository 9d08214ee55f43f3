"""The relying party's configuration: who we are to the provider, and how strict we are.

Bounds are enforced here so that no deployment can loosen the profile by accident: only
asymmetric signature algorithms, at most 60 s of clock leeway, short client assertions, short
HTTP timeouts, https everywhere except on loopback.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from joserfc.errors import JoseError
from joserfc.jwk import ECKey, Key, RSAKey

# Asymmetric JWS algorithms we know how to check; "none" and every HS* are never among them.
SIGNATURE_ALGORITHMS = frozenset(
    {"ES256", "ES384", "ES512", "PS256", "PS384", "PS512", "RS256", "RS384", "RS512"}
)
DEFAULT_ALGORITHMS = ("ES256", "PS256", "RS256")
# Our own client assertions: EC or RSA-PSS only (the profile), never PKCS#1 v1.5.
ASSERTION_ALGORITHMS = frozenset({"ES256", "ES384", "ES512", "PS256", "PS384", "PS512"})
_EC_ALGORITHMS = {"P-256": "ES256", "P-384": "ES384", "P-521": "ES512"}
MIN_RSA_BITS = 2048

# Weakest first: an `acr` is accepted when it sits at or after the requested one.
DEFAULT_ACR_LEVELS = (
    "urn:tz:nida:loa:low",
    "urn:tz:nida:loa:substantial",
    "urn:tz:nida:loa:high",
)

WELL_KNOWN = "/.well-known/openid-configuration"
MAX_LEEWAY_SECONDS = 60
MAX_ASSERTION_SECONDS = 120
MAX_TIMEOUT_SECONDS = 30.0
MAX_CACHE_SECONDS = 86_400


@dataclass(frozen=True)
class ClientKey:
    """One of our private signing keys, with the `kid` and `alg` it signs client assertions with."""

    key: Key = field(repr=False)
    kid: str
    alg: str

    def public_jwk(self) -> dict[str, Any]:
        """The public half, as a JWK the provider can verify our assertions with."""
        jwk = dict(self.key.as_dict(private=False))
        jwk.update({"kid": self.kid, "alg": self.alg, "use": "sig"})
        return jwk


def client_key_load(source: str | bytes | Path, *, kid: str | None = None) -> ClientKey:
    """A private key from a JWK (JSON text) or a PEM, given as text, bytes or a file path.

    The `kid` is the JWK's own, else `kid`, else the key's RFC 7638 thumbprint.
    """
    text = _source_text(source)
    if text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            raise ValueError("the client key is neither a JWK nor a PEM") from None
        if not isinstance(data, dict) or "keys" in data:
            raise ValueError("expected one JWK; load a key set with client_jwks_load")
        return _client_key(data, kid=kid)
    if "-----BEGIN" in text:
        return _client_key(text, kid=kid)
    raise ValueError("the client key is neither a JWK nor a PEM")


def client_jwks_load(source: str | bytes | Path) -> tuple[ClientKey, ...]:
    """Private keys from a JWKS (JSON text or a file); the first signs, all are published."""
    try:
        data = json.loads(_source_text(source))
    except ValueError:
        raise ValueError("the client key set is not JSON") from None
    keys = data.get("keys") if isinstance(data, dict) else None
    if not isinstance(keys, list) or not keys or not all(isinstance(k, dict) for k in keys):
        raise ValueError("the client key set has no keys")
    return tuple(_client_key(k, kid=None) for k in keys)


def _source_text(source: str | bytes | Path) -> str:
    if isinstance(source, Path):
        return source.read_text(encoding="utf-8")
    if isinstance(source, bytes):
        return source.decode("utf-8")
    return source


def _client_key(data: str | dict[str, Any], *, kid: str | None) -> ClientKey:
    key = _key_import(data)
    if not key.is_private:
        raise ValueError("the client key is a public key; the private one is needed to sign")
    if isinstance(key, ECKey):
        alg = _EC_ALGORITHMS.get(key.curve_name)
        if alg is None:
            raise ValueError("the client key's curve is not supported")
    else:
        if key.public_key.key_size < MIN_RSA_BITS:
            raise ValueError(f"an RSA client key needs at least {MIN_RSA_BITS} bits")
        alg = "PS256"
    if key.alg is not None:
        if key.alg not in ASSERTION_ALGORITHMS or key.alg[:2] != alg[:2]:
            raise ValueError("the client key's alg is not one we sign assertions with")
        alg = key.alg
    if key.kid and kid and key.kid != kid:
        raise ValueError("the client key's kid differs from the configured one")
    return ClientKey(key=key, kid=key.kid or kid or key.thumbprint(), alg=alg)


def _key_import(data: str | dict[str, Any]) -> ECKey | RSAKey:
    importers: list[type[ECKey] | type[RSAKey]] = [ECKey, RSAKey]
    if isinstance(data, dict):
        importers = [k for k in importers if k.key_type == data.get("kty")]
    for importer in importers:
        try:
            return importer.import_key(data)
        except (JoseError, ValueError, TypeError):
            continue
    raise ValueError("the client key is not an EC or RSA key")


def url_check(url: str, *, what: str, insecure_http_allowed: bool = False) -> None:
    """Refuse anything but https, except http to a loopback host (or when explicitly allowed)."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if (
        parts.scheme == "http"
        and parts.hostname
        and (insecure_http_allowed or _loopback(parts.hostname))
    ):
        return
    raise ValueError(f"{what} must be an https URL (http only on loopback)")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, kw_only=True)
class ClientConfig:
    """How the portal signs in with one provider.

    Give `client_keys` (for `private_key_jwt`; the first key signs, every key is published by
    `RelyingParty.public_jwks` so a new one can be announced before it signs) or `client_secret`
    (for `client_secret_basic`), not both. Give `issuer`, `discovery_url` or both: the issuer is
    what discovery is at (its well-known path), or what a discovery URL is the well-known path of
    (OIDC Discovery §4.3); give both when the issuer ends with "/". It is then compared by exact
    string everywhere.
    """

    issuer: str = ""
    discovery_url: str | None = None
    client_id: str
    redirect_uri: str
    post_logout_redirect_uri: str | None = None
    client_keys: tuple[ClientKey, ...] = ()
    client_secret: str | None = field(default=None, repr=False)
    scopes: tuple[str, ...] = ("openid",)
    allowed_algorithms: tuple[str, ...] = DEFAULT_ALGORITHMS
    acr_levels: tuple[str, ...] = DEFAULT_ACR_LEVELS
    trusted_audiences: tuple[str, ...] = ()
    userinfo_fetch: bool = True
    # OIDC Core makes at_hash optional in the code flow (the token comes from the token
    # endpoint, over TLS); it is checked whenever present. A provider known to send it may be
    # held to it.
    at_hash_required: bool = False
    timeout_seconds: float = 5.0
    leeway_seconds: int = 30
    id_token_max_age_seconds: int = 300
    logout_token_max_age_seconds: int = 300
    assertion_lifetime_seconds: int = 60
    transaction_lifetime_seconds: int = 600
    cache_default_seconds: int = 3600
    jwks_refetch_interval_seconds: int = 30
    max_response_bytes: int = 262_144
    user_agent: str = "Mlango-portal/0.1"
    insecure_http_allowed: bool = False

    def __post_init__(self) -> None:
        if not self.issuer:
            if not self.discovery_url or not self.discovery_url.endswith(WELL_KNOWN):
                raise ValueError("give the issuer, or a discovery URL ending in " + WELL_KNOWN)
            object.__setattr__(self, "issuer", self.discovery_url.removesuffix(WELL_KNOWN))
        insecure = self.insecure_http_allowed
        url_check(self.issuer, what="issuer", insecure_http_allowed=insecure)
        if urlsplit(self.issuer).query or urlsplit(self.issuer).fragment:
            raise ValueError("the issuer must have no query or fragment")
        for name in ("redirect_uri", "post_logout_redirect_uri", "discovery_url"):
            value = getattr(self, name)
            if value is not None:
                url_check(value, what=name, insecure_http_allowed=insecure)
        if not self.client_id:
            raise ValueError("client_id is required")
        if bool(self.client_keys) == bool(self.client_secret):
            raise ValueError("give either client_keys (private_key_jwt) or client_secret")
        if len({k.kid for k in self.client_keys}) != len(self.client_keys):
            raise ValueError("client key ids must be unique")
        if "openid" not in self.scopes:
            raise ValueError("scopes must include openid")
        _algorithms_check(self.allowed_algorithms)
        if not self.acr_levels or len(set(self.acr_levels)) != len(self.acr_levels):
            raise ValueError("acr_levels must be a non-empty list of distinct levels")
        if self.client_id in self.trusted_audiences:
            raise ValueError("trusted_audiences lists other audiences, not our client_id")
        _bounded("timeout_seconds", self.timeout_seconds, 0.1, MAX_TIMEOUT_SECONDS)
        _bounded("leeway_seconds", self.leeway_seconds, 0, MAX_LEEWAY_SECONDS)
        _bounded("id_token_max_age_seconds", self.id_token_max_age_seconds, 10, 3600)
        _bounded("logout_token_max_age_seconds", self.logout_token_max_age_seconds, 10, 3600)
        _bounded(
            "assertion_lifetime_seconds", self.assertion_lifetime_seconds, 5, MAX_ASSERTION_SECONDS
        )
        _bounded("transaction_lifetime_seconds", self.transaction_lifetime_seconds, 30, 3600)
        _bounded("cache_default_seconds", self.cache_default_seconds, 0, MAX_CACHE_SECONDS)
        _bounded("jwks_refetch_interval_seconds", self.jwks_refetch_interval_seconds, 1, 3600)
        _bounded("max_response_bytes", self.max_response_bytes, 1024, 4_194_304)
        if not self.user_agent.strip():
            raise ValueError("a User-Agent is required (some providers refuse requests without)")

    @property
    def auth_method(self) -> str:
        """`private_key_jwt` or `client_secret_basic`."""
        return "private_key_jwt" if self.client_keys else "client_secret_basic"

    @property
    def discovery(self) -> str:
        """Where the provider's metadata is read from."""
        return self.discovery_url or self.issuer.rstrip("/") + WELL_KNOWN


def _algorithms_check(algorithms: Sequence[str]) -> None:
    if not algorithms:
        raise ValueError("allowed_algorithms must not be empty")
    unknown = set(algorithms) - SIGNATURE_ALGORITHMS
    if unknown:
        # Names only, sorted: "none" and HS* land here, as does any typo.
        raise ValueError(f"algorithms not allowed: {', '.join(sorted(unknown))}")


def _bounded(name: str, value: float, low: float, high: float) -> None:
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high}")
