"""The provider's discovery document and signing keys, fetched, checked and cached.

Both are cached for as long as their Cache-Control allows (a default when it says nothing, never
more than a day). A token signed with a `kid` we do not hold triggers one refetch of the key set,
at most once per `jwks_refetch_interval_seconds`, so a flood of made-up key ids costs the
provider one request per interval, not one per token.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from joserfc.errors import JoseError
from joserfc.jwk import ECKey, Key, KeySet, RSAKey

from portal.identity.oidc.config import MAX_CACHE_SECONDS, ClientConfig, url_check
from portal.identity.oidc.errors import InvalidResponse, ProviderUnavailable
from portal.identity.oidc.models import ProviderMetadata
from portal.identity.oidc.transport import ProviderHttp, cache_lifetime

_KEY_TYPES = {"ES": ECKey, "PS": RSAKey, "RS": RSAKey}


def metadata_parse(data: dict[str, Any], *, config: ClientConfig) -> ProviderMetadata:
    """Check a discovery document against what the profile needs; ProviderUnavailable if not."""
    # The issuer is compared as a string, exactly: no normalising of case or trailing slashes.
    if data.get("issuer") != config.issuer:
        raise ProviderUnavailable("issuer")
    endpoints: dict[str, str | None] = {}
    for name in (
        "authorization_endpoint",
        "token_endpoint",
        "jwks_uri",
        "userinfo_endpoint",
        "end_session_endpoint",
    ):
        value = data.get(name)
        required = name in {"authorization_endpoint", "token_endpoint", "jwks_uri"}
        if value is None and not required:
            endpoints[name] = None
            continue
        if not isinstance(value, str):
            raise ProviderUnavailable("endpoint")
        try:
            url_check(value, what=name, insecure_http_allowed=config.insecure_http_allowed)
        except ValueError:
            raise ProviderUnavailable("endpoint") from None
        endpoints[name] = value
    if "code" not in _strings(data.get("response_types_supported")):
        raise ProviderUnavailable("unsupported")
    if "S256" not in _strings(data.get("code_challenge_methods_supported")):
        raise ProviderUnavailable("unsupported")
    algorithms = tuple(
        a
        for a in _strings(data.get("id_token_signing_alg_values_supported"))
        if a in config.allowed_algorithms
    )
    if not algorithms:
        raise ProviderUnavailable("unsupported")
    methods = data.get("token_endpoint_auth_methods_supported")
    if methods is not None and config.auth_method not in _strings(methods):
        raise ProviderUnavailable("unsupported")
    return ProviderMetadata(
        issuer=config.issuer,
        authorization_endpoint=endpoints["authorization_endpoint"] or "",
        token_endpoint=endpoints["token_endpoint"] or "",
        jwks_uri=endpoints["jwks_uri"] or "",
        userinfo_endpoint=endpoints["userinfo_endpoint"],
        end_session_endpoint=endpoints["end_session_endpoint"],
        iss_parameter_supported=data.get("authorization_response_iss_parameter_supported") is True,
        id_token_algorithms=algorithms,
        raw=data,
    )


def _strings(value: object) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def jwks_parse(data: dict[str, Any]) -> list[Key]:
    """The provider's signature keys: EC and RSA only; encryption and symmetric keys dropped."""
    entries = data.get("keys")
    if not isinstance(entries, list):
        raise ProviderUnavailable("jwks")
    usable = [
        k
        for k in entries
        if isinstance(k, dict) and k.get("kty") in {"EC", "RSA"} and k.get("use", "sig") == "sig"
    ]
    if not usable:
        raise ProviderUnavailable("jwks")
    try:
        key_set = KeySet.import_key_set({"keys": usable})
    except (JoseError, ValueError, TypeError):
        raise ProviderUnavailable("jwks") from None
    return list(key_set.keys)


class ProviderDirectory:
    """Cached discovery and keys of one provider; safe to share between threads."""

    def __init__(self, *, config: ClientConfig, http: ProviderHttp, now: Callable[[], float]):
        self._config = config
        self._http = http
        self._now = now
        self._lock = threading.Lock()
        self._metadata: ProviderMetadata | None = None
        self._metadata_until = 0.0
        self._keys: list[Key] = []
        self._keys_until = 0.0
        self._keys_refetched_at: float | None = None

    def metadata(self) -> ProviderMetadata:
        """The provider's checked metadata, from cache while it is fresh."""
        with self._lock:
            if self._metadata is None or self._now() >= self._metadata_until:
                reply = self._http.get(self._config.discovery)
                data = reply.json_object() if reply.status == 200 else None
                if data is None:
                    raise ProviderUnavailable("discovery")
                self._metadata = metadata_parse(data, config=self._config)
                self._metadata_until = self._now() + self._lifetime(reply.headers)
            return self._metadata

    def key_find(self, *, kid: str | None, alg: str, part: str) -> Key:
        """The provider key for a token's `kid` and `alg`; InvalidResponse("kid") when none is."""
        jwks_uri = self.metadata().jwks_uri
        with self._lock:
            fetched = False
            if not self._keys or self._now() >= self._keys_until:
                self._keys_fetch(jwks_uri)
                fetched = True
            key = _key_match(self._keys, kid=kid, alg=alg)
            if key is None and not fetched and self._refetch_allowed():
                self._keys_refetched_at = self._now()
                self._keys_fetch(jwks_uri)
                key = _key_match(self._keys, kid=kid, alg=alg)
        if key is None:
            raise InvalidResponse("kid", part=part)
        return key

    def _refetch_allowed(self) -> bool:
        last = self._keys_refetched_at
        return last is None or self._now() - last >= self._config.jwks_refetch_interval_seconds

    def _keys_fetch(self, jwks_uri: str) -> None:
        reply = self._http.get(
            jwks_uri, headers={"Accept": "application/jwk-set+json, application/json"}
        )
        data = reply.json_object() if reply.status == 200 else None
        if data is None:
            raise ProviderUnavailable("jwks")
        self._keys = jwks_parse(data)
        self._keys_until = self._now() + self._lifetime(reply.headers)

    def _lifetime(self, headers: Any) -> int:
        return cache_lifetime(
            headers, default=self._config.cache_default_seconds, maximum=MAX_CACHE_SECONDS
        )


def _key_match(keys: list[Key], *, kid: str | None, alg: str) -> Key | None:
    """The key for `kid` that can verify `alg`; with no `kid`, the only key that can."""
    key_type = _KEY_TYPES.get(alg[:2])
    candidates = [
        k for k in keys if key_type is not None and isinstance(k, key_type) and k.alg in (None, alg)
    ]
    if kid is not None:
        candidates = [k for k in candidates if k.kid == kid]
    return candidates[0] if len(candidates) == 1 or (kid and candidates) else None
