"""Client authentication at the token endpoint: `private_key_jwt` checked claim by claim against
the client's registered keys (inline or from its jwks_uri), and `client_secret_basic`."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, OctKey

from tests.functional.sandbox.conftest import NEEMA, RpKeys, Sandbox
from tests.functional.sandbox.rp import Browser, RelyingParty, ec_key, public_jwks

Make = Callable[[RelyingParty, RpKeys], str]


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _unsigned(rp: RelyingParty, _keys: RpKeys) -> str:
    now = rp.now()
    claims = {"iss": rp.client_id, "sub": rp.client_id, "aud": rp.issuer, "iat": now}
    claims |= {"exp": now + 60, "jti": "unsigned"}
    return f"{_b64({'alg': 'none'})}.{_b64(claims)}."


def _hmac(rp: RelyingParty, _keys: RpKeys) -> str:
    now = rp.now()
    claims = {"iss": rp.client_id, "sub": rp.client_id, "aud": rp.issuer, "iat": now}
    claims |= {"exp": now + 60, "jti": "hmac"}
    key = OctKey.import_key(b"a shared secret the provider never agreed to use!")
    return jwt.encode({"alg": "HS256"}, claims, key, algorithms=["HS256"])


REFUSED: dict[str, Make] = {
    "iss is another client": lambda rp, _k: rp.assertion(iss="tra"),
    "sub is another client": lambda rp, _k: rp.assertion(sub="tra"),
    "aud is elsewhere": lambda rp, _k: rp.assertion(aud="http://elsewhere.example"),
    "no aud": lambda rp, _k: rp.assertion(aud=None),
    "lives over five minutes": lambda rp, _k: rp.assertion(exp=rp.now() + 301),
    "expired": lambda rp, _k: rp.assertion(iat=rp.now() - 200, exp=rp.now() - 100),
    "issued in the future": lambda rp, _k: rp.assertion(iat=rp.now() + 120, exp=rp.now() + 180),
    "no exp": lambda rp, _k: rp.assertion(exp=None),
    "no iat": lambda rp, _k: rp.assertion(iat=None),
    "no jti": lambda rp, _k: rp.assertion(jti=None),
    "not valid yet": lambda rp, _k: rp.assertion(nbf=rp.now() + 120),
    "alg none": _unsigned,
    "alg HS256": _hmac,
    "alg outside the list": lambda rp, _k: rp.assertion(
        key=ECKey.generate_key("P-384", parameters={"kid": "rp-ec-1"}), algorithm="ES384"
    ),
    "signed by a stranger with our kid": lambda rp, _k: rp.assertion(key=ec_key("rp-ec-1")),
    "unknown kid": lambda rp, _k: rp.assertion(key=ec_key("rp-ec-9")),
    "an RSA alg naming the EC key": lambda rp, k: rp.assertion(
        key=k.rsa, algorithm="RS256", header={"kid": "rp-ec-1"}
    ),
    "not a JWT": lambda _rp, _k: "not-a-jwt",
}

ACCEPTED: dict[str, Make] = {
    "aud is the issuer": lambda rp, _k: rp.assertion(),
    "aud is the token endpoint": lambda rp, _k: rp.assertion(aud=f"{rp.issuer}/token"),
    "aud is a list holding the issuer": lambda rp, _k: rp.assertion(aud=[rp.issuer]),
    "lives exactly five minutes": lambda rp, _k: rp.assertion(exp=rp.now() + 300),
    "PS256 with the RSA key": lambda rp, k: rp.assertion(key=k.rsa, algorithm="PS256"),
    "RS256 with the RSA key": lambda rp, k: rp.assertion(key=k.rsa, algorithm="RS256"),
}


def _code(
    sandbox: Sandbox, citizen: Browser, client_id: str = "portal"
) -> tuple[RelyingParty, str, str]:
    rp = sandbox.rp(client_id)
    flow = rp.flow()
    return rp, citizen.sign_in(rp, flow, NEEMA)["code"], flow.verifier


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_a_bad_client_assertion_is_refused(sandbox: Sandbox, citizen: Browser, case: str) -> None:
    rp, code, verifier = _code(sandbox, citizen)
    assertion = REFUSED[case](rp, sandbox.keys)
    response = rp.token(citizen.http, code, verifier, assertion=assertion)
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "invalid_client"
    # The code was not spent by the failed attempt: the client may still redeem it.
    assert rp.token(citizen.http, code, verifier).status_code == 200


@pytest.mark.parametrize("case", sorted(ACCEPTED))
def test_a_good_client_assertion_is_accepted(sandbox: Sandbox, citizen: Browser, case: str) -> None:
    rp, code, verifier = _code(sandbox, citizen)
    response = rp.token(citizen.http, code, verifier, assertion=ACCEPTED[case](rp, sandbox.keys))
    assert response.status_code == 200, response.text


def test_an_assertion_is_accepted_once(sandbox: Sandbox, citizen: Browser) -> None:
    rp, code, verifier = _code(sandbox, citizen)
    assertion = rp.assertion()
    assert rp.token(citizen.http, code, verifier, assertion=assertion).status_code == 200
    _rp, second, second_verifier = _code(sandbox, citizen)
    replayed = rp.token(citizen.http, second, second_verifier, assertion=assertion)
    assert replayed.status_code == 401
    assert "jti" in replayed.json()["error_description"]


@pytest.mark.parametrize(
    "form",
    [
        {"client_id": "tra"},  # the assertion is the portal's
        {"client_secret": "guess"},  # client_secret_post is not offered
    ],
)
def test_client_identification_must_agree(
    sandbox: Sandbox, citizen: Browser, form: dict[str, str]
) -> None:
    rp, code, verifier = _code(sandbox, citizen)
    response = rp.token(citizen.http, code, verifier, **form)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_a_token_request_without_client_authentication_is_refused(
    sandbox: Sandbox, citizen: Browser
) -> None:
    rp, code, verifier = _code(sandbox, citizen)
    response = citizen.http.post(
        f"{sandbox.issuer}/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": rp.redirect_uri,
            "code_verifier": verifier,
            "client_id": "portal",
        },
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_the_keys_behind_a_jwks_uri_are_fetched_again_for_an_unknown_kid(
    sandbox: Sandbox, citizen: Browser
) -> None:
    rp, code, verifier = _code(sandbox, citizen, "portal-signed")
    assert rp.token(citizen.http, code, verifier).status_code == 200  # keys fetched and cached
    rotated = ec_key("rp-signed-2")
    sandbox.receiver.jwks = public_jwks(rotated, sandbox.keys.signed)
    fetches = len([r for r in sandbox.receiver.requests if r.path == "/jwks"])
    try:
        rp, code, verifier = _code(sandbox, citizen, "portal-signed")
        response = rp.token(citizen.http, code, verifier, assertion=rp.assertion(key=rotated))
        assert response.status_code == 200, response.text
        assert len([r for r in sandbox.receiver.requests if r.path == "/jwks"]) == fetches + 1
    finally:
        sandbox.receiver.jwks = public_jwks(sandbox.keys.signed)


def test_client_secret_basic_checks_the_secret(sandbox: Sandbox, citizen: Browser) -> None:
    rp, code, verifier = _code(sandbox, citizen, "tra")
    rp.secret = "not-the-secret"
    refused = rp.token(citizen.http, code, verifier)
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"].startswith("Basic")
    rp.secret = "tra-sandbox-secret"
    assert rp.token(citizen.http, code, verifier).status_code == 200


def test_a_secret_client_may_not_send_an_assertion(sandbox: Sandbox, citizen: Browser) -> None:
    rp, code, verifier = _code(sandbox, citizen, "tra")
    rp.secret, rp.key = None, sandbox.keys.ec
    response = rp.token(citizen.http, code, verifier)
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"grant_type": "refresh_token"}, "unsupported_grant_type"),
        ({"grant_type": "client_credentials"}, "unsupported_grant_type"),
        ({"code": ""}, "invalid_request"),
    ],
)
def test_only_the_authorization_code_grant_is_offered(
    sandbox: Sandbox, citizen: Browser, change: dict[str, str], error: str
) -> None:
    rp, code, verifier = _code(sandbox, citizen)
    response = rp.token(citizen.http, change.pop("code", code), verifier, **change)
    assert response.status_code == 400
    assert response.json()["error"] == error


def test_the_token_request_must_be_a_form(sandbox: Sandbox, citizen: Browser) -> None:
    _rp, code, verifier = _code(sandbox, citizen)
    response = citizen.http.post(
        f"{sandbox.issuer}/token",
        json={"grant_type": "authorization_code", "code": code, "code_verifier": verifier},
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
