"""The sandbox national-ID provider driven over real HTTP as a relying party would: the whole
code flow, then one test per protocol rule, refusals included."""

from __future__ import annotations

import json
from typing import Any

import pytest
from joserfc.errors import BadSignatureError, InvalidClaimError

from portal.sandbox.idp import ACR_HIGH, ACR_LOW, ACR_SUBSTANTIAL, ACR_VALUES
from portal.sandbox.idp.protocol import pkce_challenge, pkce_verify
from tests.functional.sandbox.conftest import (
    BARAKA,
    MWANAISHA,
    MWANAISHA_PIN,
    NEEMA,
    NEEMA_DIGITS,
    Sandbox,
)
from tests.functional.sandbox.rp import (
    Browser,
    at_hash,
    pkce_pair,
    query,
    redeem,
    userinfo,
    verify,
)

USER_CLAIMS = {"nin", "name", "given_name", "family_name", "birthdate", "phone_number", "address"}


def _claims(**targets: dict[str, Any]) -> str:
    return json.dumps(targets)


# ----- discovery and keys


def test_discovery_names_the_exact_issuer_and_only_what_is_enforced(sandbox: Sandbox) -> None:
    with sandbox.browser() as citizen:
        response = citizen.get("/.well-known/openid-configuration")
    assert response.status_code == 200
    meta = response.json()
    issuer = sandbox.issuer
    assert meta["issuer"] == issuer
    for name, path in {
        "authorization_endpoint": "/authorize",
        "token_endpoint": "/token",
        "userinfo_endpoint": "/userinfo",
        "jwks_uri": "/jwks.json",
        "end_session_endpoint": "/logout",
    }.items():
        assert meta[name] == issuer + path
    assert meta["response_types_supported"] == ["code"]
    assert meta["grant_types_supported"] == ["authorization_code"]
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["authorization_response_iss_parameter_supported"] is True
    assert meta["acr_values_supported"] == [
        "urn:tz:nida:loa:low",
        "urn:tz:nida:loa:substantial",
        "urn:tz:nida:loa:high",
    ]
    assert meta["subject_types_supported"] == ["pairwise"]
    assert meta["id_token_signing_alg_values_supported"] == ["ES256"]
    assert meta["token_endpoint_auth_signing_alg_values_supported"] == ["ES256", "PS256", "RS256"]
    assert set(meta["token_endpoint_auth_methods_supported"]) == {
        "private_key_jwt",
        "client_secret_basic",
    }
    assert meta["claims_parameter_supported"] is True
    assert meta["request_parameter_supported"] is False
    assert meta["prompt_values_supported"] == ["none", "login", "consent"]
    assert meta["backchannel_logout_supported"] is True
    assert meta["backchannel_logout_session_supported"] is True
    assert "nin" in meta["claims_supported"]


def test_jwks_publishes_two_public_es256_keys(sandbox: Sandbox) -> None:
    keys = sandbox.jwks()["keys"]
    assert len(keys) == 2
    assert len({key["kid"] for key in keys}) == 2
    for key in keys:
        assert (key["kty"], key["crv"], key["alg"], key["use"]) == ("EC", "P-256", "ES256", "sig")
        assert "d" not in key


# ----- the whole flow


def test_code_flow_from_authorize_to_userinfo(sandbox: Sandbox, citizen: Browser) -> None:
    rp = sandbox.rp()
    flow = rp.flow(
        scope="openid profile phone",
        claims=_claims(userinfo={"nin": {"essential": True}}),
    )
    response = citizen.authorize(rp, flow)
    assert response.status_code == 302
    assert response.headers["location"].startswith(f"{sandbox.issuer}/signin/")
    page = citizen.page(response.headers["location"])
    assert page.h1 == "Ingia kwa Namba ya Utambulisho wa Taifa"
    assert "Mlango" in page.text()  # the client's name
    response = citizen.submit(page, {"nin": NEEMA, "action": "continue"})
    assert response.status_code == 303
    page = citizen.page(response.headers["location"])
    assert page.h1 == "Weka namba ya siri tuliyokutumia"
    assert "+255 ••• ••• 101" in page.text()  # the phone, masked
    assert NEEMA_DIGITS not in page.response.text
    assert NEEMA not in page.response.text
    response = citizen.submit(page, {"code": page.banner_code(), "action": "continue"})
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith(flow.redirect_uri + "?")
    params = query(location)
    assert set(params) == {"code", "state", "iss"}
    assert params["state"] == flow.state
    assert params["iss"] == sandbox.issuer

    response = rp.token(citizen.http, params["code"], flow.verifier)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    tokens = response.json()
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] > 0
    assert "refresh_token" not in tokens
    id_token = verify(
        tokens["id_token"],
        sandbox.jwks(),
        iss=sandbox.issuer,
        aud="portal",
        nonce=flow.nonce,
        acr=ACR_SUBSTANTIAL,
    )
    claims = id_token.claims
    assert id_token.header["kid"] in {key["kid"] for key in sandbox.jwks()["keys"]}
    assert claims["amr"] == ["otp", "sms"]
    assert claims["auth_time"] <= claims["iat"] < claims["exp"]
    assert claims["sid"]
    assert claims["at_hash"] == at_hash(tokens["access_token"])
    assert not USER_CLAIMS & set(claims), "no attribute goes in the ID token unless asked there"

    response = userinfo(citizen, tokens["access_token"])
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    info = response.json()
    assert info == {
        "sub": claims["sub"],
        "nin": NEEMA_DIGITS,
        "name": "Neema Mwakalinga",
        "given_name": "Neema",
        "family_name": "Mwakalinga",
        "birthdate": "1988-03-14",
        "phone_number": "+255700000101",
    }


def test_signed_userinfo_for_a_client_registered_for_it(sandbox: Sandbox, citizen: Browser) -> None:
    """This client's keys come from its jwks_uri; its userinfo is a JWT signed by the provider."""
    rp = sandbox.rp("portal-signed")
    flow = rp.flow(claims=_claims(userinfo={"nin": None, "birthdate": {"essential": True}}))
    tokens = redeem(rp, citizen, citizen.sign_in(rp, flow, NEEMA), flow)
    sub = verify(tokens["id_token"], sandbox.jwks(), aud="portal-signed").claims["sub"]
    response = userinfo(citizen, tokens["access_token"])
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/jwt")
    signed = verify(response.text, sandbox.jwks(), iss=sandbox.issuer, aud="portal-signed")
    assert signed.claims["sub"] == sub
    assert signed.claims["nin"] == NEEMA_DIGITS
    assert signed.claims["birthdate"] == "1988-03-14"
    assert sandbox.receiver.requests[-1].headers["user-agent"]  # the JWKS fetch said who it was


def test_userinfo_refuses_a_missing_or_unknown_token(sandbox: Sandbox, citizen: Browser) -> None:
    missing = citizen.get("/userinfo")
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"].startswith("Bearer")
    unknown = userinfo(citizen, "not-a-token")
    assert unknown.status_code == 401
    assert 'error="invalid_token"' in unknown.headers["www-authenticate"]


# ----- the authorization request


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"response_type": "code id_token"}, "unsupported_response_type"),
        ({"response_type": None}, "invalid_request"),
        ({"response_mode": "fragment"}, "invalid_request"),
        ({"state": None}, "invalid_request"),
        ({"nonce": None}, "invalid_request"),
        ({"code_challenge": None, "code_challenge_method": None}, "invalid_request"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge_method": None}, "invalid_request"),
        ({"code_challenge": "too-short"}, "invalid_request"),
        ({"scope": "profile"}, "invalid_scope"),
        ({"claims": "{not json"}, "invalid_request"),
        ({"claims": '{"id_token": {"nin": {"essential": "yes"}}}'}, "invalid_request"),
        ({"acr_values": "urn:example:loa:2"}, "invalid_request"),
        ({"prompt": "select_account"}, "invalid_request"),
        ({"prompt": "none login"}, "invalid_request"),
        ({"max_age": "soon"}, "invalid_request"),
        ({"request": "eyJhbGciOiJub25lIn0.e30."}, "request_not_supported"),
        ({"request_uri": "urn:example:request"}, "request_uri_not_supported"),
    ],
)
def test_a_refused_authorization_goes_back_with_error_state_and_iss(
    sandbox: Sandbox, citizen: Browser, change: dict[str, str | None], error: str
) -> None:
    rp = sandbox.rp()
    flow = rp.flow(**change)
    response = citizen.authorize(rp, flow)
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith(flow.redirect_uri + "?")
    params = query(location)
    assert params["error"] == error
    assert params["error_description"]
    assert params["iss"] == sandbox.issuer
    assert "code" not in params
    assert params.get("state") == flow.params.get("state")


def test_a_repeated_parameter_is_refused(sandbox: Sandbox, citizen: Browser) -> None:
    rp = sandbox.rp()
    flow = rp.flow()
    response = citizen.get(rp.authorize_url(flow) + "&scope=openid")
    assert query(response.headers["location"])["error"] == "invalid_request"


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "{base}/auth/callback/",
        "{base}/auth/callback?x=1",
        "{base}/auth/Callback",
        "{base}/auth",
        "https://{host}/auth/callback",
        "http://evil.example/auth/callback",
        None,
    ],
)
def test_an_unregistered_redirect_uri_gets_an_error_page_never_a_redirect(
    sandbox: Sandbox, citizen: Browser, redirect_uri: str | None
) -> None:
    base = sandbox.receiver.url
    host = base.split("//")[1]
    rp = sandbox.rp()
    flow = rp.flow(redirect_uri=redirect_uri.format(base=base, host=host) if redirect_uri else None)
    response = citizen.authorize(rp, flow)
    assert "location" not in response.headers
    page = citizen.as_page(response, status=400)
    assert page.h1 == "Ombi la kuingia si sahihi"


def test_an_unknown_client_gets_an_error_page(sandbox: Sandbox, citizen: Browser) -> None:
    rp = sandbox.rp()
    flow = rp.flow(client_id="stranger")
    response = citizen.authorize(rp, flow)
    assert "location" not in response.headers
    citizen.as_page(response, status=400)


def test_a_request_may_also_be_posted(sandbox: Sandbox, citizen: Browser) -> None:
    rp = sandbox.rp()
    flow = rp.flow()
    response = citizen.http.post(f"{sandbox.issuer}/authorize", data=flow.params)
    assert response.status_code == 303
    assert response.headers["location"].startswith(f"{sandbox.issuer}/signin/")


def test_the_citizen_pressing_cancel_sends_access_denied(
    sandbox: Sandbox, citizen: Browser
) -> None:
    rp = sandbox.rp()
    for step in ("nin", "code"):
        flow = rp.flow()
        page = citizen.page(citizen.authorize(rp, flow).headers["location"])
        if step == "code":
            response = citizen.submit(page, {"nin": NEEMA, "action": "continue"})
            page = citizen.page(response.headers["location"])
        response = citizen.submit(page, {"action": "cancel"})
        assert response.status_code == 303
        params = query(response.headers["location"])
        assert params["error"] == "access_denied", step
        assert (params["state"], params["iss"]) == (flow.state, sandbox.issuer)


# ----- the code


def _signed_in_code(sandbox: Sandbox, citizen: Browser, **change: str | None) -> tuple[Any, ...]:
    rp = sandbox.rp()
    flow = rp.flow(**change)
    return rp, flow, citizen.sign_in(rp, flow, NEEMA)


def test_a_code_works_once_and_its_replay_revokes_what_it_gave(
    sandbox: Sandbox, citizen: Browser
) -> None:
    rp, flow, params = _signed_in_code(sandbox, citizen)
    tokens = redeem(rp, citizen, params, flow)
    assert userinfo(citizen, tokens["access_token"]).status_code == 200
    again = rp.token(citizen.http, params["code"], flow.verifier)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"
    assert userinfo(citizen, tokens["access_token"]).status_code == 401


@pytest.mark.parametrize(("seconds", "works"), [(58, True), (61, False)])
def test_a_code_lives_sixty_seconds(
    sandbox: Sandbox, citizen: Browser, seconds: int, works: bool
) -> None:
    rp, flow, params = _signed_in_code(sandbox, citizen)
    sandbox.clock.advance(seconds)
    response = rp.token(citizen.http, params["code"], flow.verifier)
    assert (response.status_code == 200) is works, response.text
    if not works:
        assert response.json()["error"] == "invalid_grant"


def test_a_code_is_bound_to_its_client(sandbox: Sandbox, citizen: Browser) -> None:
    rp, flow, params = _signed_in_code(sandbox, citizen)
    other = sandbox.rp("tra")
    stolen = other.token(
        citizen.http, params["code"], flow.verifier, redirect_uri=flow.redirect_uri
    )
    assert stolen.status_code == 400
    assert stolen.json()["error"] == "invalid_grant"
    redeem(rp, citizen, params, flow)  # the code was not spent by the other client's attempt


def test_a_code_is_bound_to_its_redirect_uri(sandbox: Sandbox, citizen: Browser) -> None:
    rp, flow, params = _signed_in_code(sandbox, citizen)
    response = rp.token(
        citizen.http, params["code"], flow.verifier, redirect_uri=f"{flow.redirect_uri}/other"
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


@pytest.mark.parametrize("verifier", ["wrong", None, "short"])
def test_a_code_is_bound_to_its_pkce_challenge(
    sandbox: Sandbox, citizen: Browser, verifier: str | None
) -> None:
    rp, flow, params = _signed_in_code(sandbox, citizen)
    sent = {"wrong": pkce_pair()[0], "short": flow.verifier[:20], None: None}[verifier]
    response = rp.token(citizen.http, params["code"], sent)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_a_code_verifier_without_a_challenge_is_refused(sandbox: Sandbox, citizen: Browser) -> None:
    """No code is ever issued without a challenge, and the check itself refuses a verifier for
    a code that had none (the RFC 9700 downgrade)."""
    rp = sandbox.rp()
    flow = rp.flow(code_challenge=None, code_challenge_method=None)
    assert "code" not in query(citizen.authorize(rp, flow).headers["location"])
    verifier, challenge = pkce_pair()
    assert pkce_verify(None, verifier) is False
    assert pkce_verify(challenge, None) is False
    assert pkce_verify(challenge, verifier) is True
    assert pkce_challenge(verifier) == challenge


def test_each_code_carries_the_nonce_of_its_own_request(sandbox: Sandbox, citizen: Browser) -> None:
    rp = sandbox.rp()
    first = rp.flow()
    first_params = citizen.sign_in(rp, first, NEEMA)
    second = rp.flow()
    second_params = citizen.sign_in(rp, second, NEEMA)  # answered at once: same session
    for flow, params in ((second, second_params), (first, first_params)):
        tokens = redeem(rp, citizen, params, flow)
        assert verify(tokens["id_token"], sandbox.jwks()).claims["nonce"] == flow.nonce


# ----- the claims request


def test_attributes_go_in_the_id_token_only_when_asked_there(
    sandbox: Sandbox, citizen: Browser
) -> None:
    rp = sandbox.rp()
    flow = rp.flow(
        scope="openid profile",
        claims=_claims(id_token={"nin": {"essential": True}, "birthdate": None}),
    )
    tokens = redeem(rp, citizen, citizen.sign_in(rp, flow, NEEMA), flow)
    claims = verify(tokens["id_token"], sandbox.jwks()).claims
    assert claims["nin"] == NEEMA_DIGITS
    assert claims["birthdate"] == "1988-03-14"
    assert not {"name", "given_name", "family_name", "phone_number"} & set(claims)
    info = userinfo(citizen, tokens["access_token"]).json()
    assert "nin" not in info  # asked for the ID token only
    assert info["name"] == "Neema Mwakalinga"  # the profile scope, for userinfo


def test_openid_alone_gives_only_the_subject(sandbox: Sandbox, citizen: Browser) -> None:
    rp, flow, params = _signed_in_code(sandbox, citizen)
    tokens = redeem(rp, citizen, params, flow)
    info = userinfo(citizen, tokens["access_token"]).json()
    assert list(info) == ["sub"]


def test_consent_keeps_essential_claims_and_the_voluntary_ones_ticked(
    sandbox: Sandbox, citizen: Browser
) -> None:
    rp = sandbox.rp()
    flow = rp.flow(
        prompt="consent",
        claims=_claims(
            userinfo={"nin": {"essential": True}, "phone_number": None, "name": None},
            id_token={"family_name": {"essential": False}},
        ),
    )
    response = citizen.authorize(rp, flow)
    page = citizen.page(response.headers["location"])
    response = citizen.submit(page, {"nin": NEEMA, "action": "continue"})
    page = citizen.page(response.headers["location"])
    response = citizen.submit(page, {"code": page.banner_code(), "action": "continue"})
    page = citizen.page(response.headers["location"])
    assert page.h1 == "Ruhusu kutoa taarifa zako"
    boxes = {e.get("value") for e in page.tree.iter("input") if e.get("type") == "checkbox"}
    assert boxes == {"name", "family_name", "phone_number"}  # the essential NIN is not optional
    response = citizen.submit(page, {"allow": ["name"], "action": "continue"})
    assert response.status_code == 303
    params = query(response.headers["location"])
    tokens = redeem(rp, citizen, params, flow)
    assert "family_name" not in verify(tokens["id_token"], sandbox.jwks()).claims
    info = userinfo(citizen, tokens["access_token"]).json()
    assert set(info) == {"sub", "nin", "name"}


# ----- levels of assurance


@pytest.mark.parametrize(
    ("acr", "amr"),
    [
        (ACR_LOW, ["kba"]),
        (ACR_SUBSTANTIAL, ["otp", "sms"]),
        (ACR_HIGH, ["mfa", "otp", "pin", "sms"]),
    ],
)
def test_each_level_is_performed_and_reported(
    sandbox: Sandbox, citizen: Browser, acr: str, amr: list[str]
) -> None:
    rp = sandbox.rp()
    flow = rp.flow(acr_values=acr)
    params = citizen.sign_in(
        rp,
        flow,
        MWANAISHA,
        birthdate="1941-06-15" if acr == ACR_LOW else None,
        pin=MWANAISHA_PIN if acr == ACR_HIGH else None,
    )
    claims = verify(redeem(rp, citizen, params, flow)["id_token"], sandbox.jwks()).claims
    assert (claims["acr"], claims["amr"]) == (acr, amr)


def test_the_levels_are_exactly_the_three_nida_urns() -> None:
    assert ACR_VALUES == (
        "urn:tz:nida:loa:low",
        "urn:tz:nida:loa:substantial",
        "urn:tz:nida:loa:high",
    )


def test_the_first_acceptable_level_is_the_one_performed(
    sandbox: Sandbox, citizen: Browser
) -> None:
    rp = sandbox.rp()
    flow = rp.flow(acr_values=f"{ACR_HIGH} {ACR_SUBSTANTIAL}")
    page = citizen.page(citizen.authorize(rp, flow).headers["location"])
    response = citizen.submit(page, {"nin": MWANAISHA, "action": "continue"})
    page = citizen.page(response.headers["location"])
    assert page.tree.find(".//input[@name='pin']") is not None


def test_a_higher_session_serves_a_lower_request_and_says_what_was_done(
    sandbox: Sandbox, citizen: Browser
) -> None:
    rp = sandbox.rp()
    high = rp.flow(acr_values=ACR_HIGH)
    citizen.sign_in(rp, high, MWANAISHA, pin=MWANAISHA_PIN)
    flow = rp.flow(acr_values=ACR_SUBSTANTIAL)
    response = citizen.authorize(rp, flow)
    params = query(response.headers["location"])  # at once, no page
    claims = verify(redeem(rp, citizen, params, flow)["id_token"], sandbox.jwks()).claims
    assert claims["acr"] == ACR_HIGH


def test_a_lower_session_is_stepped_up(sandbox: Sandbox, citizen: Browser) -> None:
    rp = sandbox.rp()
    citizen.sign_in(rp, rp.flow(acr_values=ACR_LOW), MWANAISHA, birthdate="1941-06-15")
    response = citizen.authorize(rp, rp.flow(acr_values=ACR_SUBSTANTIAL))
    assert response.headers["location"].startswith(f"{sandbox.issuer}/signin/")


def test_an_essential_acr_with_values_is_matched_exactly(
    sandbox: Sandbox, citizen: Browser
) -> None:
    rp = sandbox.rp()
    citizen.sign_in(rp, rp.flow(acr_values=ACR_HIGH), MWANAISHA, pin=MWANAISHA_PIN)
    flow = rp.flow(
        acr_values=None,
        claims=_claims(id_token={"acr": {"essential": True, "values": [ACR_SUBSTANTIAL]}}),
    )
    response = citizen.authorize(rp, flow)
    assert response.headers["location"].startswith(f"{sandbox.issuer}/signin/")
    params = citizen.sign_in(rp, flow, MWANAISHA)
    claims = verify(redeem(rp, citizen, params, flow)["id_token"], sandbox.jwks()).claims
    assert claims["acr"] == ACR_SUBSTANTIAL


# ----- max_age and prompt


def test_max_age_asks_again_once_the_sign_in_is_older(sandbox: Sandbox, citizen: Browser) -> None:
    rp = sandbox.rp()
    first = rp.flow()
    first_claims = verify(
        redeem(rp, citizen, citizen.sign_in(rp, first, NEEMA), first)["id_token"], sandbox.jwks()
    ).claims
    sandbox.clock.advance(120)
    recent = rp.flow(max_age="600")
    params = query(citizen.authorize(rp, recent).headers["location"])
    claims = verify(
        redeem(rp, citizen, params, recent)["id_token"], sandbox.jwks(), now=sandbox.now()
    ).claims
    assert claims["auth_time"] == first_claims["auth_time"]
    strict = rp.flow(max_age="60")
    response = citizen.authorize(rp, strict)
    assert response.headers["location"].startswith(f"{sandbox.issuer}/signin/")
    params = citizen.sign_in(rp, strict, NEEMA)
    claims = verify(
        redeem(rp, citizen, params, strict)["id_token"], sandbox.jwks(), now=sandbox.now()
    ).claims
    assert claims["auth_time"] >= first_claims["auth_time"] + 120


def test_prompt_none_without_a_session_is_login_required(
    sandbox: Sandbox, citizen: Browser
) -> None:
    rp = sandbox.rp()
    flow = rp.flow(prompt="none")
    params = query(citizen.authorize(rp, flow).headers["location"])
    assert params["error"] == "login_required"
    assert (params["state"], params["iss"]) == (flow.state, sandbox.issuer)


def test_prompt_none_with_a_session_answers_at_once(sandbox: Sandbox, citizen: Browser) -> None:
    rp = sandbox.rp()
    citizen.sign_in(rp, rp.flow(), NEEMA)
    flow = rp.flow(prompt="none")
    params = query(citizen.authorize(rp, flow).headers["location"])
    assert set(params) == {"code", "state", "iss"}


def test_prompt_login_signs_in_again_despite_a_session(sandbox: Sandbox, citizen: Browser) -> None:
    rp = sandbox.rp()
    citizen.sign_in(rp, rp.flow(), NEEMA)
    response = citizen.authorize(rp, rp.flow(prompt="login"))
    assert response.headers["location"].startswith(f"{sandbox.issuer}/signin/")


def test_prompt_consent_asks_even_within_a_session(sandbox: Sandbox, citizen: Browser) -> None:
    rp = sandbox.rp()
    citizen.sign_in(rp, rp.flow(), NEEMA)
    flow = rp.flow(prompt="consent", scope="openid profile")
    response = citizen.authorize(rp, flow)
    assert response.headers["location"].endswith("/consent")
    page = citizen.page(response.headers["location"])
    response = citizen.submit(page, {"allow": ["name"], "action": "continue"})
    assert "code" in query(response.headers["location"])


# ----- subjects


def _sub(sandbox: Sandbox, citizen: Browser, client_id: str, nin: str) -> str:
    rp = sandbox.rp(client_id)
    flow = rp.flow()
    tokens = redeem(rp, citizen, citizen.sign_in(rp, flow, nin), flow)
    claims = verify(tokens["id_token"], sandbox.jwks(), aud=client_id).claims
    return str(claims["sub"])


def test_the_subject_is_pairwise_opaque_and_stable(sandbox: Sandbox) -> None:
    with sandbox.browser() as first, sandbox.browser() as second:
        portal = _sub(sandbox, first, "portal", NEEMA)
        assert _sub(sandbox, second, "portal", NEEMA) == portal  # stable
        assert _sub(sandbox, first, "portal-signed", NEEMA) == portal  # one sector
        assert _sub(sandbox, first, "tra", NEEMA) != portal  # another sector
        assert NEEMA_DIGITS[:8] not in portal
    with sandbox.browser() as third:
        assert _sub(sandbox, third, "portal", BARAKA) != portal  # another citizen


def test_a_token_signed_by_someone_else_does_not_verify(sandbox: Sandbox, citizen: Browser) -> None:
    """The helper that checks tokens is itself able to fail."""
    rp, flow, params = _signed_in_code(sandbox, citizen)
    tokens = redeem(rp, citizen, params, flow)
    header, body, _signature = tokens["id_token"].split(".")
    forged = f"{header}.{body}.{'A' * 86}"
    with pytest.raises(BadSignatureError):
        verify(forged, sandbox.jwks())
    with pytest.raises(InvalidClaimError):
        verify(tokens["id_token"], sandbox.jwks(), aud="someone-else")
