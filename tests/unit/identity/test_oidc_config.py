"""Configuration bounds and loading our private keys."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import httpx2
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc.errors import SecurityWarning
from joserfc.jwk import ECKey, KeySet, RSAKey

from portal.identity.oidc import (
    ClientConfig,
    ClientKey,
    RelyingParty,
    client_jwks_load,
    client_key_load,
)
from tests.unit.identity.provider_fake import (
    CLIENT_ID,
    ISSUER,
    REDIRECT_URI,
    Clock,
    FakeProvider,
    sign_in,
    unverified,
)


def base(client_key: ClientKey, **changes: object) -> ClientConfig:
    config = ClientConfig(
        issuer=ISSUER, client_id=CLIENT_ID, redirect_uri=REDIRECT_URI, client_keys=(client_key,)
    )
    return replace(config, **changes)


@pytest.mark.parametrize(
    "algorithms", [("none",), ("HS256",), ("ES256", "HS512"), ("RS256", "none"), ()]
)
def test_no_symmetric_or_unsigned_algorithm_can_be_allowed(
    client_key: ClientKey, algorithms: tuple[str, ...]
):
    with pytest.raises(ValueError, match="algorithms"):
        base(client_key, allowed_algorithms=algorithms)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("leeway_seconds", 61),
        ("assertion_lifetime_seconds", 121),
        ("timeout_seconds", 60.0),
        ("id_token_max_age_seconds", 0),
    ],
)
def test_the_profile_cannot_be_loosened(client_key: ClientKey, field: str, value: object):
    with pytest.raises(ValueError, match=field):
        base(client_key, **{field: value})


def test_one_client_authentication_method_exactly(client_key: ClientKey):
    with pytest.raises(ValueError, match="either"):
        base(client_key, client_secret="s")
    with pytest.raises(ValueError, match="either"):
        base(client_key, client_keys=())
    assert base(client_key, client_keys=(), client_secret="s").auth_method == (
        "client_secret_basic"
    )
    assert base(client_key).auth_method == "private_key_jwt"


def test_the_secret_is_not_in_the_config_repr(client_key: ClientKey):
    config = base(client_key, client_keys=(), client_secret="very-secret-value")
    assert "very-secret-value" not in repr(config)
    assert "'d'" not in repr(base(client_key))


@pytest.mark.parametrize(
    "url", ["http://idp.example.test", "ftp://idp.example.test", "idp.example.test"]
)
def test_the_issuer_must_be_https_except_on_loopback(client_key: ClientKey, url: str):
    with pytest.raises(ValueError, match="https"):
        base(client_key, issuer=url)


def test_loopback_http_is_allowed_for_local_providers(client_key: ClientKey):
    for issuer in ("http://127.0.0.1:8001", "http://localhost:8001", "http://[::1]:8001"):
        assert base(client_key, issuer=issuer, redirect_uri="http://127.0.0.1:8000/cb").issuer


def test_the_issuer_can_come_from_the_discovery_url(client_key: ClientKey):
    config = base(
        client_key, issuer="", discovery_url=f"{ISSUER}/realm/.well-known/openid-configuration"
    )
    assert config.issuer == f"{ISSUER}/realm"
    assert config.discovery == f"{ISSUER}/realm/.well-known/openid-configuration"
    with pytest.raises(ValueError, match="discovery URL"):
        base(client_key, issuer="", discovery_url=f"{ISSUER}/config.json")


def test_the_discovery_url_defaults_to_the_well_known_path(client_key: ClientKey):
    assert base(client_key).discovery == f"{ISSUER}/.well-known/openid-configuration"


# -- our keys


def test_a_pem_key_is_loaded_with_the_kid_given(tmp_path: Path):
    pem = ECKey.generate_key("P-256").as_pem(private=True)
    path = tmp_path / "client.pem"
    path.write_bytes(pem)

    key = client_key_load(path, kid="mlango-2027")
    assert (key.kid, key.alg) == ("mlango-2027", "ES256")
    assert client_key_load(pem.decode()).kid == key.key.thumbprint()


def test_a_jwk_key_keeps_its_own_kid(tmp_path: Path):
    jwk = ECKey.generate_key("P-384", parameters={"kid": "k-384"}).as_dict(private=True)
    path = tmp_path / "client.json"
    path.write_text(json.dumps(jwk))

    key = client_key_load(path)
    assert (key.kid, key.alg) == ("k-384", "ES384")
    with pytest.raises(ValueError, match="kid"):
        client_key_load(json.dumps(jwk), kid="another")


def test_an_rsa_key_signs_with_pss():
    pem = RSAKey.generate_key(2048).as_pem(private=True)
    assert client_key_load(pem).alg == "PS256"


def test_a_short_rsa_key_is_refused():
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    pem = small.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.warns(SecurityWarning), pytest.raises(ValueError, match="2048"):
        client_key_load(pem)


def test_a_public_key_cannot_sign():
    pem = ECKey.generate_key("P-256").as_pem(private=False)
    with pytest.raises(ValueError, match="public key"):
        client_key_load(pem)


@pytest.mark.parametrize("text", ["hunter2", '{"kty": "oct", "k": "c2VjcmV0"}', "{not json"])
def test_anything_else_is_not_a_client_key(text: str):
    with pytest.raises(ValueError, match="key"):
        client_key_load(text)


def test_a_jwk_claiming_a_weak_algorithm_is_refused():
    jwk = RSAKey.generate_key(2048, parameters={"alg": "RS256"}).as_dict(private=True)
    with pytest.raises(ValueError, match="alg"):
        client_key_load(json.dumps(jwk))


def test_two_keys_are_published_and_the_first_signs():
    keys = [
        ECKey.generate_key("P-256", parameters={"kid": "new"}).as_dict(private=True),
        ECKey.generate_key("P-256", parameters={"kid": "old"}).as_dict(private=True),
    ]
    client_keys = client_jwks_load(json.dumps({"keys": keys}))
    clock = Clock()
    provider = FakeProvider(
        clock, client_keys=KeySet([ECKey.import_key(k.public_jwk()) for k in client_keys])
    )
    with httpx2.Client(transport=provider.transport) as http:
        config = base(client_keys[0], client_keys=client_keys)
        rp = RelyingParty(config, http=http, clock=clock)
        published = rp.public_jwks()["keys"]
        sign_in(rp, provider)

    assert [k["kid"] for k in published] == ["new", "old"]
    assert all("d" not in k for k in published)
    assert unverified(provider.token_forms[0]["client_assertion"])[0]["kid"] == "new"


def test_duplicate_kids_are_refused(client_key: ClientKey):
    with pytest.raises(ValueError, match="unique"):
        base(client_key, client_keys=(client_key, client_key))
