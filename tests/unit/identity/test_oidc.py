"""The relying party against the in-test provider: the happy path, then one test per attack.

Every rejection test changes one thing about an otherwise valid exchange and asserts the reason
the library gives, so a check that stopped working would let the sign-in through and fail here.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest
from joserfc.jwk import ECKey, KeySet

from portal.identity.oidc import (
    InvalidResponse,
    ProviderRefused,
    ProviderUnavailable,
    RelyingParty,
    transaction_dump,
    transaction_load,
)
from tests.unit.identity.conftest import RpFactory
from tests.unit.identity.provider_fake import (
    CLAIMS,
    CLIENT_ID,
    DROP,
    ISSUER,
    NIN,
    REDIRECT_URI,
    SUB,
    FakeProvider,
    b64url,
    b64url_json,
    half_hash,
    sign_in,
    unverified,
)

HIGH = "urn:tz:nida:loa:high"
LOW = "urn:tz:nida:loa:low"


def rejected(rp: RelyingParty, provider: FakeProvider, **kwargs: Any) -> InvalidResponse:
    with pytest.raises(InvalidResponse) as caught:
        sign_in(rp, provider, **kwargs)
    return caught.value


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


# -- the happy path


def test_sign_in_returns_what_the_provider_proved(rp: RelyingParty, provider: FakeProvider):
    result = sign_in(rp, provider)

    assert result.issuer == ISSUER
    assert result.sub == SUB
    assert result.acr == "urn:tz:nida:loa:substantial"
    assert result.amr == ("pin",)
    assert result.sid == "op-session-1"
    assert result.auth_time is not None
    assert result.auth_time.timestamp() == provider.clock.timestamp() - 5
    assert result.expires_at.timestamp() == provider.clock.timestamp() + 300
    assert result.claims["nin"] == NIN  # from userinfo
    assert result.claims["nonce"]  # from the ID token
    assert unverified(result.id_token)[1]["sub"] == SUB


def test_authorization_request_asks_for_the_code_flow_with_pkce_and_acr(
    rp: RelyingParty, provider: FakeProvider
):
    url, transaction = rp.authorization_request(
        acr=HIGH, claims=CLAIMS, prompt="login", login_hint="x", max_age=60, ui_locales="sw en"
    )
    query = query_of(url)

    assert url.startswith(f"{ISSUER}/authorize?")
    assert query["response_type"] == "code"
    assert query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == REDIRECT_URI
    assert query["scope"] == "openid"
    assert query["acr_values"] == HIGH
    assert json.loads(query["claims"]) == CLAIMS
    assert (query["prompt"], query["login_hint"], query["max_age"]) == ("login", "x", "60")
    assert query["ui_locales"] == "sw en"
    assert "%20" in url
    assert "+" not in url
    assert query["state"] == transaction.state
    assert query["nonce"] == transaction.nonce
    assert len(transaction.state) >= 32
    assert len(transaction.nonce) >= 32
    assert 43 <= len(transaction.code_verifier) <= 128
    assert query["code_challenge_method"] == "S256"
    digest = hashlib.sha256(transaction.code_verifier.encode()).digest()
    assert query["code_challenge"] == b64url(digest)
    assert (transaction.issuer, transaction.acr, transaction.max_age) == (ISSUER, HIGH, 60)
    assert transaction.created_at == provider.clock()


def test_every_request_is_fresh(rp: RelyingParty):
    first = rp.authorization_request(acr=LOW, claims=CLAIMS)[1]
    second = rp.authorization_request(acr=LOW, claims=CLAIMS)[1]

    assert first.state != second.state
    assert first.nonce != second.nonce
    assert first.code_verifier != second.code_verifier


def test_the_authorization_request_refuses_what_we_cannot_check(rp: RelyingParty):
    with pytest.raises(ValueError, match="acr"):
        rp.authorization_request(acr="urn:other:loa:9", claims=CLAIMS)
    with pytest.raises(ValueError, match="claims"):
        rp.authorization_request(acr=LOW, claims={"access_token": {}})
    with pytest.raises(ValueError, match="prompt"):
        rp.authorization_request(acr=LOW, claims=CLAIMS, prompt="whatever")


def test_every_request_to_the_provider_carries_our_user_agent(
    rp: RelyingParty, provider: FakeProvider
):
    sign_in(rp, provider)

    paths = {r.url.path for r in provider.requests}
    assert paths == {"/.well-known/openid-configuration", "/jwks", "/token", "/userinfo"}
    assert {r.headers["user-agent"] for r in provider.requests} == {"Mlango-portal/0.1"}


def test_a_stored_transaction_comes_back_whole(rp: RelyingParty, provider: FakeProvider):
    _url, transaction = rp.authorization_request(acr=LOW, claims=CLAIMS, max_age=0)
    stored = transaction_dump(transaction)

    assert transaction_load(stored) == transaction
    assert len(stored) < 2000
    with pytest.raises(ValueError, match="not a stored transaction"):
        transaction_load('{"state": 1}')


def test_a_transaction_kept_too_long_is_refused(rp: RelyingParty, provider: FakeProvider):
    url, transaction = rp.authorization_request(acr=LOW, claims=CLAIMS)
    params = provider.authorize(url)
    provider.clock.advance(601)

    with pytest.raises(InvalidResponse) as caught:
        rp.callback(params, transaction)
    assert (caught.value.part, caught.value.reason) == ("transaction", "expired")


# -- the callback: state, RFC 9207 iss, provider errors


def test_a_missing_state_is_refused(rp: RelyingParty, provider: FakeProvider):
    error = rejected(rp, provider, callback=lambda p: {k: v for k, v in p.items() if k != "state"})
    assert (error.part, error.reason) == ("callback", "state")


def test_a_mismatched_state_is_refused(rp: RelyingParty, provider: FakeProvider):
    error = rejected(rp, provider, callback=lambda p: {**p, "state": p["state"][:-1] + "x"})
    assert error.reason == "state"


def test_a_callback_from_another_issuer_is_refused(rp: RelyingParty, provider: FakeProvider):
    error = rejected(rp, provider, callback=lambda p: {**p, "iss": "https://attacker.example"})

    assert (error.part, error.reason) == ("callback", "iss")
    assert provider.count("/token") == 0  # the code was never sent anywhere


def test_the_callback_iss_is_compared_exactly(rp: RelyingParty, provider: FakeProvider):
    error = rejected(rp, provider, callback=lambda p: {**p, "iss": ISSUER + "/"})
    assert error.reason == "iss"


def test_a_missing_iss_is_refused_when_the_provider_advertises_it(
    rp: RelyingParty, provider: FakeProvider
):
    error = rejected(rp, provider, callback=lambda p: {k: v for k, v in p.items() if k != "iss"})
    assert (error.reason, provider.count("/token")) == ("iss", 0)


def test_a_missing_iss_is_accepted_when_the_provider_does_not_advertise_it(
    rp: RelyingParty, provider: FakeProvider
):
    provider.discovery["authorization_response_iss_parameter_supported"] = False

    result = sign_in(rp, provider, callback=lambda p: {k: v for k, v in p.items() if k != "iss"})
    assert result.sub == SUB


@pytest.mark.parametrize(
    "code",
    ["access_denied", "login_required", "interaction_required", "consent_required", "user_cancel"],
)
def test_a_provider_error_is_a_typed_refusal(rp: RelyingParty, provider: FakeProvider, code: str):
    def refuse(params: dict[str, str]) -> dict[str, str]:
        return {"error": code, "error_description": "no", "state": params["state"], "iss": ISSUER}

    with pytest.raises(ProviderRefused) as caught:
        sign_in(rp, provider, callback=refuse)
    assert (caught.value.code, caught.value.endpoint) == (code, "authorization")


def test_an_error_code_that_is_not_one_is_not_repeated(rp: RelyingParty, provider: FakeProvider):
    def refuse(params: dict[str, str]) -> dict[str, str]:
        return {"error": "<script>", "state": params["state"], "iss": ISSUER}

    with pytest.raises(ProviderRefused) as caught:
        sign_in(rp, provider, callback=refuse)
    assert caught.value.code == "invalid_error_code"


def test_an_error_from_another_issuer_is_not_believed(rp: RelyingParty, provider: FakeProvider):
    def mixed_up(params: dict[str, str]) -> dict[str, str]:
        return {
            "error": "access_denied",
            "state": params["state"],
            "iss": "https://attacker.example",
        }

    error = rejected(rp, provider, callback=mixed_up)
    assert (error.part, error.reason) == ("callback", "iss")


def test_an_error_with_a_wrong_state_is_not_believed(rp: RelyingParty, provider: FakeProvider):
    error = rejected(
        rp,
        provider,
        callback=lambda p: {"error": "access_denied", "state": "x" * 43, "iss": ISSUER},
    )
    assert error.reason == "state"


def test_a_callback_without_a_code_is_refused(rp: RelyingParty, provider: FakeProvider):
    error = rejected(rp, provider, callback=lambda p: {k: v for k, v in p.items() if k != "code"})
    assert (error.part, error.reason) == ("callback", "code")


# -- the token request and our client authentication


def test_the_client_assertion_is_short_lived_for_the_issuer_and_fresh_every_time(
    rp: RelyingParty, provider: FakeProvider, client_key: Any
):
    times = []
    for _ in range(2):
        times.append(provider.clock.timestamp())
        sign_in(rp, provider)
        provider.clock.advance(1)

    assertions = [unverified(form["client_assertion"]) for form in provider.token_forms]
    for (header, claims), form, now in zip(assertions, provider.token_forms, times, strict=True):
        assert header["kid"] == client_key.kid
        assert header["alg"] == "ES256"
        assert claims["iss"] == claims["sub"] == CLIENT_ID
        assert claims["aud"] == ISSUER
        assert claims["iat"] == now
        assert 0 < claims["exp"] - claims["iat"] <= 120
        assert len(claims["jti"]) >= 32
        assert form["client_id"] == CLIENT_ID
        assert form["client_assertion_type"] == (
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
        )
    assert assertions[0][1]["jti"] != assertions[1][1]["jti"]


def test_the_token_request_carries_the_pkce_verifier(rp: RelyingParty, provider: FakeProvider):
    url, transaction = rp.authorization_request(acr=LOW, claims=CLAIMS)
    rp.callback(provider.authorize(url), transaction)

    form = provider.token_forms[0]
    assert form["code_verifier"] == transaction.code_verifier
    assert form["redirect_uri"] == REDIRECT_URI
    assert form["grant_type"] == "authorization_code"


def test_client_secret_basic_sends_the_secret_form_encoded_in_the_header_only(
    make_rp: RpFactory, provider: FakeProvider
):
    secret = "p+ss%word:with spaces"  # RFC 6749 §2.3.1: form-encoded before base64
    provider.client_secret = secret
    rp = make_rp(client_keys=(), client_secret=secret)

    assert sign_in(rp, provider).sub == SUB
    assert "client_assertion" not in provider.token_forms[0]
    assert "p+ss" not in json.dumps(provider.token_forms[0])
    assert rp.public_jwks() == {"keys": []}


def test_a_token_endpoint_error_is_a_typed_refusal(rp: RelyingParty, provider: FakeProvider):
    with pytest.raises(ProviderRefused) as caught:
        sign_in(rp, provider, callback=lambda p: {**p, "code": "used-already"})
    assert (caught.value.code, caught.value.endpoint) == ("invalid_grant", "token")


def test_a_wrong_pkce_verifier_is_refused_by_the_provider(rp: RelyingParty, provider: FakeProvider):
    url, transaction = rp.authorization_request(acr=LOW, claims=CLAIMS)
    params = provider.authorize(url)
    other = rp.authorization_request(acr=LOW, claims=CLAIMS)[1]
    swapped = transaction_load(
        transaction_dump(transaction).replace(transaction.code_verifier, other.code_verifier)
    )

    with pytest.raises(ProviderRefused) as caught:
        rp.callback(params, swapped)
    assert caught.value.code == "invalid_grant"


def test_a_token_response_that_is_not_bearer_is_refused(rp: RelyingParty, provider: FakeProvider):
    def dpop(request: httpx2.Request) -> httpx2.Response | None:
        if request.url.path != "/token":
            return None
        return httpx2.Response(
            200, json={"access_token": "a", "token_type": "DPoP", "id_token": "x"}
        )

    provider.failure = dpop
    error = rejected(rp, provider)
    assert (error.part, error.reason) == ("token_response", "token_type")


# -- the ID token


def test_a_tampered_signature_is_refused(rp: RelyingParty, provider: FakeProvider):
    def tamper(token: str) -> str:
        header, _payload, signature = token.split(".")
        claims = unverified(token)[1]
        return ".".join([header, b64url_json({**claims, "sub": "someone-else"}), signature])

    provider.id_token_transform = tamper
    error = rejected(rp, provider)
    assert (error.part, error.reason) == ("id_token", "signature")


def test_an_unsigned_token_is_refused(rp: RelyingParty, provider: FakeProvider):
    def strip(token: str) -> str:
        header, claims = unverified(token)
        return f"{b64url_json({**header, 'alg': 'none'})}.{b64url_json(claims)}."

    provider.id_token_transform = strip
    error = rejected(rp, provider)
    assert error.reason == "alg"


def test_an_hmac_token_keyed_with_the_providers_public_key_is_refused(
    rp: RelyingParty, provider: FakeProvider
):
    secret = provider.key.as_pem(private=False)

    def resign(token: str) -> str:
        header, claims = unverified(token)
        signing_input = f"{b64url_json({**header, 'alg': 'HS256'})}.{b64url_json(claims)}"
        mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        return f"{signing_input}.{b64url(mac)}"

    provider.id_token_transform = resign
    error = rejected(rp, provider)
    assert error.reason == "alg"


def test_an_algorithm_the_provider_does_not_advertise_is_refused(
    rp: RelyingParty, provider: FakeProvider
):
    provider.discovery["id_token_signing_alg_values_supported"] = ["PS256"]
    error = rejected(rp, provider)
    assert error.reason == "alg"


def test_a_wrong_issuer_is_refused(rp: RelyingParty, provider: FakeProvider):
    provider.id_token_claims["iss"] = "https://attacker.example"
    error = rejected(rp, provider)
    assert (error.part, error.reason) == ("id_token", "iss")


def test_a_wrong_audience_with_a_matching_azp_is_refused(rp: RelyingParty, provider: FakeProvider):
    provider.id_token_claims.update(aud="another-client", azp=CLIENT_ID)
    error = rejected(rp, provider)
    assert error.reason == "aud"


def test_an_extra_untrusted_audience_is_refused(rp: RelyingParty, provider: FakeProvider):
    provider.id_token_claims.update(aud=[CLIENT_ID, "another-client"], azp=CLIENT_ID)
    error = rejected(rp, provider)
    assert error.reason == "aud"


def test_an_extra_trusted_audience_is_accepted_with_our_azp(
    make_rp: RpFactory, provider: FakeProvider
):
    rp = make_rp(trusted_audiences=("portal-api",))
    provider.id_token_claims.update(aud=[CLIENT_ID, "portal-api"], azp=CLIENT_ID)

    assert sign_in(rp, provider).sub == SUB


def test_a_trusted_audience_that_is_not_us_is_refused(make_rp: RpFactory, provider: FakeProvider):
    rp = make_rp(trusted_audiences=("portal-api",))
    provider.id_token_claims.update(aud=["portal-api"], azp=CLIENT_ID)
    error = rejected(rp, provider)
    assert error.reason == "aud"


def test_several_audiences_without_our_azp_are_refused(make_rp: RpFactory, provider: FakeProvider):
    rp = make_rp(trusted_audiences=("portal-api",))
    provider.id_token_claims.update(aud=[CLIENT_ID, "portal-api"])
    error = rejected(rp, provider)
    assert error.reason == "azp"


def test_an_azp_naming_another_client_is_refused(rp: RelyingParty, provider: FakeProvider):
    provider.id_token_claims["azp"] = "another-client"
    error = rejected(rp, provider)
    assert error.reason == "azp"


@pytest.mark.parametrize("sub", [DROP, "", "x" * 256, 42])
def test_an_id_token_without_a_proper_subject_is_refused(
    rp: RelyingParty, provider: FakeProvider, sub: object
):
    provider.id_token_claims["sub"] = sub
    error = rejected(rp, provider)
    assert error.reason == "sub"


def test_an_expired_token_is_refused(rp: RelyingParty, provider: FakeProvider):
    now = provider.clock.timestamp()
    provider.id_token_claims.update(exp=now - 31, iat=now - 90)
    error = rejected(rp, provider)
    assert error.reason == "exp"


def test_a_token_issued_long_ago_is_refused(rp: RelyingParty, provider: FakeProvider):
    now = provider.clock.timestamp()
    provider.id_token_claims.update(iat=now - 3600, exp=now + 3600)
    error = rejected(rp, provider)
    assert error.reason == "iat"


def test_a_token_issued_in_the_future_is_refused(rp: RelyingParty, provider: FakeProvider):
    provider.id_token_claims["iat"] = provider.clock.timestamp() + 120
    error = rejected(rp, provider)
    assert error.reason == "iat"


def test_clock_skew_within_the_leeway_is_tolerated(rp: RelyingParty, provider: FakeProvider):
    provider.id_token_claims["iat"] = provider.clock.timestamp() + 20
    assert sign_in(rp, provider).sub == SUB


def test_a_missing_nonce_is_refused(rp: RelyingParty, provider: FakeProvider):
    provider.id_token_claims["nonce"] = DROP
    error = rejected(rp, provider)
    assert error.reason == "nonce"


def test_a_nonce_from_another_transaction_is_refused(rp: RelyingParty, provider: FakeProvider):
    earlier = rp.authorization_request(acr=LOW, claims=CLAIMS)[1]
    provider.id_token_claims["nonce"] = earlier.nonce  # a token replayed from that sign-in
    error = rejected(rp, provider)
    assert error.reason == "nonce"


def test_an_acr_lower_than_asked_is_refused(rp: RelyingParty, provider: FakeProvider):
    provider.id_token_claims["acr"] = LOW
    error = rejected(rp, provider, acr=HIGH)
    assert error.reason == "acr"


def test_a_missing_acr_is_refused(rp: RelyingParty, provider: FakeProvider):
    provider.id_token_claims["acr"] = DROP
    error = rejected(rp, provider)
    assert error.reason == "acr"


def test_an_unknown_acr_is_refused(rp: RelyingParty, provider: FakeProvider):
    provider.id_token_claims["acr"] = "urn:tz:nida:loa:ultra"
    error = rejected(rp, provider)
    assert error.reason == "acr"


def test_a_higher_acr_than_asked_is_accepted(rp: RelyingParty, provider: FakeProvider):
    provider.id_token_claims["acr"] = HIGH
    assert sign_in(rp, provider, acr=LOW).acr == HIGH


def test_the_acr_order_can_be_the_callers(make_rp: RpFactory, provider: FakeProvider):
    rp = make_rp(acr_levels=("eidas2", "eidas3"))
    provider.id_token_claims["acr"] = "eidas2"
    error = rejected(rp, provider, acr="eidas3")
    assert error.reason == "acr"


def test_an_old_login_is_refused_when_max_age_was_sent(rp: RelyingParty, provider: FakeProvider):
    provider.id_token_claims["auth_time"] = provider.clock.timestamp() - 700
    error = rejected(rp, provider, max_age=600)
    assert error.reason == "auth_time"


def test_a_missing_auth_time_is_refused_when_max_age_was_sent(
    rp: RelyingParty, provider: FakeProvider
):
    provider.id_token_claims["auth_time"] = DROP
    error = rejected(rp, provider, max_age=600)
    assert error.reason == "auth_time"


def test_a_recent_login_passes_max_age(rp: RelyingParty, provider: FakeProvider):
    provider.id_token_claims["auth_time"] = provider.clock.timestamp() - 500
    assert sign_in(rp, provider, max_age=600).sub == SUB


def test_a_bad_at_hash_is_refused(rp: RelyingParty, provider: FakeProvider):
    provider.id_token_claims["at_hash"] = half_hash("some other access token")
    error = rejected(rp, provider)
    assert error.reason == "at_hash"


def test_a_missing_at_hash_is_refused_when_required_and_the_access_token_is_used(
    make_rp: RpFactory, provider: FakeProvider
):
    rp = make_rp(at_hash_required=True)
    provider.id_token_claims["at_hash"] = DROP
    error = rejected(rp, provider)
    assert error.reason == "at_hash"


def test_a_missing_at_hash_is_accepted_by_default_as_the_code_flow_allows(
    rp: RelyingParty, provider: FakeProvider
):
    provider.id_token_claims["at_hash"] = DROP
    assert sign_in(rp, provider).sub


def test_a_missing_at_hash_is_accepted_when_userinfo_is_not_read(
    make_rp: RpFactory, provider: FakeProvider
):
    rp = make_rp(userinfo_fetch=False)
    provider.id_token_claims["at_hash"] = DROP

    result = sign_in(rp, provider)
    assert "nin" not in result.claims
    assert provider.count("/userinfo") == 0


def test_an_encrypted_id_token_is_refused_not_half_read(rp: RelyingParty, provider: FakeProvider):
    provider.id_token_transform = lambda token: "a.b.c.d.e"
    error = rejected(rp, provider)
    assert error.reason == "encrypted"


def test_a_logout_token_is_not_an_id_token(rp: RelyingParty, provider: FakeProvider):
    provider.id_token_header["typ"] = "logout+jwt"
    error = rejected(rp, provider)
    assert error.reason == "typ"


# -- the provider's keys


def test_an_unknown_kid_is_refetched_once_and_found_after_rotation(
    rp: RelyingParty, provider: FakeProvider
):
    sign_in(rp, provider)
    assert provider.count("/jwks") == 1
    provider.rotate()

    result = sign_in(rp, provider)
    assert result.sub == SUB
    assert provider.count("/jwks") == 2
    sign_in(rp, provider)  # the new key is now cached
    assert provider.count("/jwks") == 2


def test_a_kid_never_published_is_refused_after_one_refetch(
    rp: RelyingParty, provider: FakeProvider
):
    sign_in(rp, provider)
    provider.key = ECKey.generate_key("P-256", parameters={"kid": "forged"})  # never published

    error = rejected(rp, provider)
    assert (error.reason, provider.count("/jwks")) == ("kid", 2)


def test_a_flood_of_unknown_kids_refetches_once_per_interval(
    rp: RelyingParty, provider: FakeProvider
):
    sign_in(rp, provider)
    for n in range(5):
        provider.key = ECKey.generate_key("P-256", parameters={"kid": f"bogus-{n}"})
        assert rejected(rp, provider).reason == "kid"
    assert provider.count("/jwks") == 2

    provider.clock.advance(31)
    assert rejected(rp, provider).reason == "kid"
    assert provider.count("/jwks") == 3


def test_a_token_without_kid_is_checked_with_the_only_key(rp: RelyingParty, provider: FakeProvider):
    provider.id_token_header["kid"] = DROP
    assert sign_in(rp, provider).sub == SUB


def test_a_token_without_kid_is_refused_when_several_keys_could_sign(
    rp: RelyingParty, provider: FakeProvider
):
    provider.rotate()
    provider.id_token_header["kid"] = DROP
    error = rejected(rp, provider)
    assert error.reason == "kid"


def test_the_key_set_is_cached_per_cache_control(rp: RelyingParty, provider: FakeProvider):
    provider.cache_control["/jwks"] = "public, max-age=120"
    sign_in(rp, provider)
    provider.clock.advance(100)
    sign_in(rp, provider)
    assert provider.count("/jwks") == 1

    provider.clock.advance(30)
    sign_in(rp, provider)
    assert provider.count("/jwks") == 2


# -- userinfo


def test_userinfo_as_a_signed_jwt_is_verified_and_merged(rp: RelyingParty, provider: FakeProvider):
    provider.userinfo_format = "jwt"
    result = sign_in(rp, provider)

    assert result.claims["nin"] == NIN
    assert result.claims["name"] == "Asha Juma"


def test_userinfo_with_a_bad_signature_is_refused(rp: RelyingParty, provider: FakeProvider):
    provider.userinfo_format = "jwt"
    stranger = ECKey.generate_key("P-256", parameters={"kid": provider.key.kid})
    provider.userinfo_transform = lambda token: provider.sign(unverified(token)[1], key=stranger)

    error = rejected(rp, provider)
    assert (error.part, error.reason) == ("userinfo", "signature")


def test_signed_userinfo_for_another_audience_is_refused(rp: RelyingParty, provider: FakeProvider):
    provider.userinfo_format = "jwt"
    provider.userinfo_claims["aud"] = "another-client"
    error = rejected(rp, provider)
    assert (error.part, error.reason) == ("userinfo", "aud")


def test_signed_userinfo_from_another_issuer_is_refused(rp: RelyingParty, provider: FakeProvider):
    provider.userinfo_format = "jwt"
    provider.userinfo_claims["iss"] = "https://attacker.example"
    error = rejected(rp, provider)
    assert (error.part, error.reason) == ("userinfo", "iss")


def test_expired_signed_userinfo_is_refused(rp: RelyingParty, provider: FakeProvider):
    provider.userinfo_format = "jwt"
    provider.userinfo_claims["exp"] = provider.clock.timestamp() - 60
    error = rejected(rp, provider)
    assert (error.part, error.reason) == ("userinfo", "exp")


def test_userinfo_of_another_media_type_is_refused(rp: RelyingParty, provider: FakeProvider):
    def html(request: httpx2.Request) -> httpx2.Response | None:
        if request.url.path != "/userinfo":
            return None
        return httpx2.Response(200, text="<p>hello</p>", headers={"Content-Type": "text/html"})

    provider.failure = html
    error = rejected(rp, provider)
    assert (error.part, error.reason) == ("userinfo", "content_type")


@pytest.mark.parametrize("fmt", ["json", "jwt"])
def test_userinfo_about_someone_else_is_refused(rp: RelyingParty, provider: FakeProvider, fmt: str):
    provider.userinfo_format = fmt
    provider.userinfo_claims["sub"] = "psut-someone-else"
    error = rejected(rp, provider)
    assert (error.part, error.reason) == ("userinfo", "userinfo_sub")


def test_userinfo_without_sub_is_refused(rp: RelyingParty, provider: FakeProvider):
    provider.userinfo_claims["sub"] = DROP
    error = rejected(rp, provider)
    assert error.reason == "userinfo_sub"


def test_the_id_token_wins_a_clash_with_userinfo(rp: RelyingParty, provider: FakeProvider):
    provider.userinfo_claims["acr"] = "urn:tz:nida:loa:high"
    result = sign_in(rp, provider)
    assert result.claims["acr"] == result.acr == "urn:tz:nida:loa:substantial"


# -- discovery and a provider that is down


def test_discovery_naming_another_issuer_is_refused(rp: RelyingParty, provider: FakeProvider):
    provider.discovery["issuer"] = ISSUER + "/"
    with pytest.raises(ProviderUnavailable) as caught:
        rp.metadata()
    assert caught.value.reason == "issuer"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("code_challenge_methods_supported", ["plain"]),
        ("response_types_supported", ["id_token"]),
        ("id_token_signing_alg_values_supported", ["HS256", "none"]),
        ("token_endpoint_auth_methods_supported", ["client_secret_post"]),
    ],
)
def test_discovery_without_what_the_profile_needs_is_refused(
    rp: RelyingParty, provider: FakeProvider, field: str, value: list[str]
):
    provider.discovery[field] = value
    with pytest.raises(ProviderUnavailable) as caught:
        rp.metadata()
    assert caught.value.reason == "unsupported"


@pytest.mark.parametrize("value", ["http://idp.example.test/x", "/relative", 42, DROP])
@pytest.mark.parametrize("endpoint", ["token_endpoint", "jwks_uri", "authorization_endpoint"])
def test_discovery_with_a_missing_or_unsafe_endpoint_is_refused(
    rp: RelyingParty, provider: FakeProvider, endpoint: str, value: object
):
    if value is DROP:
        del provider.discovery[endpoint]
    else:
        provider.discovery[endpoint] = value
    with pytest.raises(ProviderUnavailable) as caught:
        rp.metadata()
    assert caught.value.reason == "endpoint"


def test_discovery_is_cached_per_cache_control(rp: RelyingParty, provider: FakeProvider):
    rp.metadata()
    provider.clock.advance(299)
    rp.metadata()
    assert provider.count("/.well-known/openid-configuration") == 1

    provider.clock.advance(2)
    rp.metadata()
    assert provider.count("/.well-known/openid-configuration") == 2


def test_discovery_without_cache_control_is_cached_for_the_default(
    rp: RelyingParty, provider: FakeProvider
):
    del provider.cache_control["/.well-known/openid-configuration"]
    rp.metadata()
    provider.clock.advance(3599)
    rp.metadata()
    assert provider.count("/.well-known/openid-configuration") == 1
    provider.clock.advance(2)
    rp.metadata()
    assert provider.count("/.well-known/openid-configuration") == 2


def test_discovery_marked_no_store_is_fetched_every_time(rp: RelyingParty, provider: FakeProvider):
    provider.cache_control["/.well-known/openid-configuration"] = "no-store"
    rp.metadata()
    rp.metadata()
    assert provider.count("/.well-known/openid-configuration") == 2


def down(request: httpx2.Request) -> httpx2.Response:
    raise httpx2.ConnectError("connection refused", request=request)


def slow(request: httpx2.Request) -> httpx2.Response:
    raise httpx2.ReadTimeout("timed out", request=request)


@pytest.mark.parametrize(("failure", "reason"), [(down, "network"), (slow, "timeout")])
def test_a_provider_that_cannot_be_reached_is_unavailable(
    rp: RelyingParty, provider: FakeProvider, failure: Any, reason: str
):
    provider.failure = failure
    with pytest.raises(ProviderUnavailable) as caught:
        rp.authorization_request(acr=LOW, claims=CLAIMS)
    assert caught.value.reason == reason


def test_a_token_endpoint_failing_with_5xx_is_unavailable(rp: RelyingParty, provider: FakeProvider):
    provider.failure = lambda r: httpx2.Response(503) if r.url.path == "/token" else None
    with pytest.raises(ProviderUnavailable) as caught:
        sign_in(rp, provider)
    assert caught.value.reason == "status"


def test_an_oversized_answer_is_not_read_whole(rp: RelyingParty, provider: FakeProvider):
    provider.discovery["padding"] = "x" * 300_000
    with pytest.raises(ProviderUnavailable) as caught:
        rp.metadata()
    assert caught.value.reason == "too_large"


def test_the_http_timeout_is_bounded_whatever_the_client_says(provider: FakeProvider, config: Any):
    with httpx2.Client(transport=provider.transport, timeout=600) as http:
        RelyingParty(config, http=http).metadata()

    timeout = provider.requests[0].extensions["timeout"]
    assert {timeout[phase] for phase in ("connect", "read", "write", "pool")} == {5.0}


def test_errors_say_what_failed_and_never_carry_the_token(rp: RelyingParty, provider: FakeProvider):
    provider.id_token_claims["nonce"] = "n" * 43
    error = rejected(rp, provider)
    assert str(error) == "invalid id_token: nonce"
    assert "n" * 43 not in repr(error.args)


def test_our_published_key_is_public_and_says_how_it_signs(client_key: Any):
    jwk = client_key.public_jwk()

    assert (jwk["alg"], jwk["use"], jwk["kid"]) == ("ES256", "sig", client_key.kid)
    assert "d" not in jwk
    assert KeySet.import_key_set({"keys": [jwk]}).keys[0].kid == client_key.kid
