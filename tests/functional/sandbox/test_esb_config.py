"""The sandbox GovESB's configuration: what it refuses to be built or served with, what it prints,
and its two protocol switches (a bare token, strict Jackson verification) over real HTTP."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from portal.bus.govesb import (
    curve_name,
    envelope,
    private_key_generate,
    public_key_text,
    reply_open,
    request_data,
    sign,
)
from portal.sandbox.esb import (
    ApiCode,
    EsbClient,
    EsbConfig,
    PushCode,
    SandboxRefusedError,
    create_esb_app,
    esb_banner,
    esb_serve,
)
from tests.functional.sandbox.esb_world import PORTAL, RITA_CODE, EsbWorld, esb_world

PROVIDER_URL = "http://127.0.0.1:9/provider"


def _client(client_id: str, **values: Any) -> EsbClient:
    registration: dict[str, Any] = {
        "client_secret": "s3cret-" + client_id,
        "public_key": private_key_generate().public_key(),
    }
    registration.update(values)
    return EsbClient(client_id=client_id, **registration)


def _config(**values: Any) -> EsbConfig:
    registry: dict[str, Any] = {
        "environment": "test",
        "clients": (
            _client("portal", api_codes=("RITA-BIRTH-REG",)),
            _client("rita", push_codes=("RITA-STATUS",)),
        ),
        "api_codes": (ApiCode(code="RITA-BIRTH-REG", provider="rita", url=PROVIDER_URL),),
        "push_codes": (
            PushCode(code="RITA-STATUS", publisher="rita", subscribers=(("portal", PROVIDER_URL),)),
        ),
    }
    registry.update(values)
    return EsbConfig(**registry)


# ----- refusals


@pytest.mark.parametrize("environment", ["production", "staging", "", "PRODUCTION"])
def test_config_refuses_environments_other_than_development_and_test(environment: str) -> None:
    with pytest.raises(SandboxRefusedError, match="development or test"):
        _config(environment=environment)


def test_app_and_serve_refuse_a_config_smuggled_into_production() -> None:
    config = _config()
    object.__setattr__(config, "environment", "production")
    with pytest.raises(SandboxRefusedError):
        create_esb_app(config)
    with pytest.raises(SandboxRefusedError):
        esb_serve(config)


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::", "esb.example.org"])
def test_serve_refuses_to_listen_off_loopback(host: str) -> None:
    with pytest.raises(SandboxRefusedError, match="loopback"):
        esb_serve(_config(), host=host, port=0)


REFUSED: dict[str, Any] = {
    "duplicate client": lambda: _config(clients=(_client("portal"), _client("portal"))),
    "duplicate api code": lambda: _config(
        clients=(_client("portal"), _client("rita")),
        api_codes=(
            ApiCode(code="X1", provider="rita", url=PROVIDER_URL),
            ApiCode(code="X1", provider="rita", url=PROVIDER_URL),
        ),
        push_codes=(),
    ),
    "api and push code share a name": lambda: _config(
        clients=(_client("portal"), _client("rita")),
        api_codes=(ApiCode(code="RITA-STATUS", provider="rita", url=PROVIDER_URL),),
    ),
    "unknown provider": lambda: _config(
        clients=(_client("portal"), _client("rita", push_codes=("RITA-STATUS",))),
        api_codes=(ApiCode(code="X1", provider="nobody", url=PROVIDER_URL),),
    ),
    "unknown publisher": lambda: _config(
        clients=(_client("portal"),),
        api_codes=(),
        push_codes=(
            PushCode(code="S1", publisher="nobody", subscribers=(("portal", PROVIDER_URL),)),
        ),
    ),
    "unknown subscriber": lambda: _config(
        push_codes=(
            PushCode(code="RITA-STATUS", publisher="rita", subscribers=(("x", PROVIDER_URL),)),
        ),
    ),
    "client lists an unknown api code": lambda: _config(
        clients=(_client("portal", api_codes=("NOPE",)), _client("rita")), push_codes=()
    ),
    "client lists an unknown push code": lambda: _config(
        clients=(_client("portal", push_codes=("NOPE",)), _client("rita")), push_codes=()
    ),
    "client lists another's push code": lambda: _config(
        clients=(
            _client("portal", api_codes=("RITA-BIRTH-REG",), push_codes=("RITA-STATUS",)),
            _client("rita", push_codes=("RITA-STATUS",)),
        )
    ),
    "token lifetime zero": lambda: _config(token_lifetime=0),
    "provider timeout zero": lambda: _config(provider_timeout=0),
    "client without secret": lambda: _client("portal", client_secret=""),
    "client id with a colon": lambda: _client("por:tal"),
    "empty nida user": lambda: _client("portal", nida_user_id=""),
    "relative callback": lambda: _client("portal", callback_url="/callback"),
    "api code too long": lambda: ApiCode(code="X" * 65, provider="rita", url=PROVIDER_URL),
    "empty api code": lambda: ApiCode(code="", provider="rita", url=PROVIDER_URL),
    "provider URL not http": lambda: ApiCode(code="X1", provider="rita", url="ftp://x/y"),
    "push code without subscribers": lambda: PushCode(code="S1", publisher="rita", subscribers=()),
    "subscriber twice": lambda: PushCode(
        code="S1", publisher="rita", subscribers=(("a", PROVIDER_URL), ("a", PROVIDER_URL))
    ),
    "subscriber URL with fragment": lambda: PushCode(
        code="S1", publisher="rita", subscribers=(("a", PROVIDER_URL + "#x"),)
    ),
}


@pytest.mark.parametrize("build", REFUSED.values(), ids=REFUSED.keys())
def test_config_refuses_an_inconsistent_registry(build: Any) -> None:
    with pytest.raises(SandboxRefusedError):
        build()


def test_config_generates_a_secp256k1_key_when_none_is_given() -> None:
    first, second = _config(), _config()
    assert curve_name(first.private_key) == "secp256k1"
    assert public_key_text(first.private_key) != public_key_text(second.private_key)
    given = private_key_generate("P-256")
    assert _config(private_key=given).private_key is given


def test_config_keeps_lists_as_tuples_and_finds_registrations() -> None:
    config = _config(clients=[_client("portal", api_codes=["RITA-BIRTH-REG"]), _client("rita")])
    assert isinstance(config.clients, tuple)
    portal = config.client("portal")
    assert portal is not None
    assert portal.api_codes == ("RITA-BIRTH-REG",)
    assert config.client("nobody") is None
    api = config.api_code("RITA-BIRTH-REG")
    assert api is not None
    assert api.provider == "rita"
    assert config.push_code("RITA-STATUS") is not None
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.token_lifetime = 1  # type: ignore[misc]


def test_banner_says_what_it_is_and_shows_no_secret() -> None:
    config = _config(lenient_bare_token=True, strict_jackson=True)
    banner = esb_banner(config, "http://127.0.0.1:8002")
    assert "DEVELOPMENT ONLY" in banner
    assert "http://127.0.0.1:8002/gw/govesb-uaa/oauth/token" in banner
    assert "RITA-BIRTH-REG -> rita" in banner
    assert "RITA-STATUS (rita) -> portal" in banner
    assert "secp256k1" in banner
    assert "bare token" in banner
    assert "Jackson" in banner
    for client in config.clients:
        assert client.client_secret not in banner


# ----- the protocol switches, over HTTP


def _pretty_envelope(world: EsbWorld) -> bytes:
    """An envelope whose signature covers its pretty-printed data text, not the compact form."""
    data_text = json.dumps(request_data(RITA_CODE, {"a": 1}), indent=2)
    signature = sign(data_text, world.institutions.keys[PORTAL])
    return f'{{"data": {data_text}, "signature": "{signature}"}}'.encode()


def test_strict_jackson_verifies_only_over_the_compact_form() -> None:
    with esb_world(strict_jackson=True) as world:
        token = world.token()
        esb_public = world.config.private_key.public_key()
        refused = world.post("/request", _pretty_envelope(world), token=token)
        assert refused.status_code == 400
        refusal = reply_open(refused.content, esb_public)
        assert refusal.message == "signature verification failed"
        compact = envelope(request_data(RITA_CODE, {"a": 1}), world.institutions.keys[PORTAL])
        accepted = world.post("/request", compact, token=token)
        assert reply_open(accepted.content, esb_public).success
        floats = f'{{"data":{{"apiCode":"{RITA_CODE}","esbBody":{{"n":1.5}}}},"signature":"'
        text = f'{{"apiCode":"{RITA_CODE}","esbBody":{{"n":1.5}}}}'
        signed = (floats + sign(text, world.institutions.keys[PORTAL]) + '"}').encode()
        assert world.post("/request", signed, token=token).status_code == 400


def test_lenient_bare_token_accepts_the_token_without_bearer() -> None:
    with esb_world(lenient_bare_token=True) as world:
        token = world.token()
        body = envelope(request_data(RITA_CODE, {}), world.institutions.keys[PORTAL])
        bare = world.post("/request", body, authorization=token)
        assert bare.status_code == 200
        assert reply_open(bare.content, world.config.private_key.public_key()).success
        assert world.post("/request", body, token=token).status_code == 200
        assert world.post("/request", body, authorization="wrong-token").status_code == 401
        with world.client(bearer=False) as portal:
            assert portal.request(RITA_CODE, {}).success
