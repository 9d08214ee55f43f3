"""RP-initiated logout, and the back-channel logout tokens the provider sends us."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest
from joserfc.jwk import ECKey

from portal.identity.oidc import InvalidResponse, ProviderUnavailable, RelyingParty, state_new
from tests.unit.identity.conftest import RpFactory
from tests.unit.identity.provider_fake import (
    BACKCHANNEL_EVENT,
    CLIENT_ID,
    DROP,
    ISSUER,
    POST_LOGOUT_URI,
    SUB,
    FakeProvider,
    sign_in,
)


def refused(rp: RelyingParty, token: str) -> str:
    with pytest.raises(InvalidResponse) as caught:
        rp.logout_token_validate(token)
    assert caught.value.part == "logout_token"
    return caught.value.reason


# -- RP-initiated logout


def test_the_logout_url_carries_the_hint_our_return_address_and_state(
    rp: RelyingParty, provider: FakeProvider
):
    signed_in = sign_in(rp, provider)
    state = state_new()

    url = rp.logout_url(id_token_hint=signed_in.id_token, state=state, ui_locales="sw")
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}

    assert url.startswith(f"{ISSUER}/session/end?")
    assert query == {
        "id_token_hint": signed_in.id_token,
        "post_logout_redirect_uri": POST_LOGOUT_URI,
        "client_id": CLIENT_ID,
        "state": state,
        "ui_locales": "sw",
    }
    assert rp.can_sign_out


def test_the_logout_state_must_be_random_enough(rp: RelyingParty):
    with pytest.raises(ValueError, match="state"):
        rp.logout_url(id_token_hint="x", state="short")


def test_without_an_end_session_endpoint_there_is_no_provider_logout(
    rp: RelyingParty, provider: FakeProvider
):
    del provider.discovery["end_session_endpoint"]

    assert not rp.can_sign_out
    with pytest.raises(ProviderUnavailable):
        rp.logout_url(id_token_hint="x", state=state_new())


def test_without_a_return_address_there_is_no_provider_logout(make_rp: RpFactory):
    rp = make_rp(post_logout_redirect_uri=None)

    assert not rp.can_sign_out
    with pytest.raises(ValueError, match="post_logout_redirect_uri"):
        rp.logout_url(id_token_hint="x", state=state_new())


def test_a_provider_that_is_down_cannot_sign_out(rp: RelyingParty, provider: FakeProvider):
    provider.failure = lambda request: httpx2.Response(502)
    assert not rp.can_sign_out


# -- back-channel logout tokens


def test_a_valid_logout_token_names_the_session(rp: RelyingParty, provider: FakeProvider):
    token = provider.logout_token(jti="jti-0001")
    now = provider.clock.timestamp()

    claims = rp.logout_token_validate(token)

    assert (claims.issuer, claims.sub, claims.sid, claims.jti) == (
        ISSUER,
        SUB,
        "op-session-1",
        "jti-0001",
    )
    assert claims.issued_at.timestamp() == now
    # remembered for replay until the token would stop passing: its exp plus the leeway
    assert claims.expires_at.timestamp() == now + 120 + 30


def test_without_exp_the_jti_is_kept_for_the_maximum_age(rp: RelyingParty, provider: FakeProvider):
    now = provider.clock.timestamp()
    claims = rp.logout_token_validate(provider.logout_token(exp=DROP))
    assert claims.expires_at.timestamp() == now + 300 + 30


def test_a_logout_token_with_sid_only_is_accepted(rp: RelyingParty, provider: FakeProvider):
    claims = rp.logout_token_validate(provider.logout_token(sub=DROP))
    assert (claims.sub, claims.sid) == (None, "op-session-1")


def test_a_logout_token_with_sub_only_is_accepted(rp: RelyingParty, provider: FakeProvider):
    claims = rp.logout_token_validate(provider.logout_token(sid=DROP))
    assert (claims.sub, claims.sid) == (SUB, None)


def test_a_logout_token_of_the_wrong_type_is_refused(rp: RelyingParty, provider: FakeProvider):
    assert refused(rp, provider.logout_token(header={"typ": "JWT"})) == "typ"


def test_an_untyped_logout_token_is_refused(rp: RelyingParty, provider: FakeProvider):
    assert refused(rp, provider.logout_token(header={"typ": DROP})) == "typ"


def test_the_media_type_form_of_the_type_is_accepted(rp: RelyingParty, provider: FakeProvider):
    token = provider.logout_token(header={"typ": "application/logout+jwt"})
    assert rp.logout_token_validate(token).sub == SUB


def test_a_logout_token_with_a_nonce_is_refused(rp: RelyingParty, provider: FakeProvider):
    assert refused(rp, provider.logout_token(nonce="n" * 43)) == "nonce"


def test_a_logout_token_without_the_event_is_refused(rp: RelyingParty, provider: FakeProvider):
    assert refused(rp, provider.logout_token(events=DROP)) == "events"


def test_a_logout_token_with_another_event_is_refused(rp: RelyingParty, provider: FakeProvider):
    other = {"http://schemas.openid.net/event/other": {}}
    assert refused(rp, provider.logout_token(events=other)) == "events"


def test_a_logout_event_that_is_not_an_object_is_refused(rp: RelyingParty, provider: FakeProvider):
    assert refused(rp, provider.logout_token(events={BACKCHANNEL_EVENT: "yes"})) == "events"


def test_a_logout_token_without_sub_or_sid_is_refused(rp: RelyingParty, provider: FakeProvider):
    assert refused(rp, provider.logout_token(sub=DROP, sid=DROP)) == "sub_or_sid"


def test_a_logout_token_without_jti_is_refused(rp: RelyingParty, provider: FakeProvider):
    assert refused(rp, provider.logout_token(jti=DROP)) == "jti"


def test_a_logout_token_for_another_client_is_refused(rp: RelyingParty, provider: FakeProvider):
    assert refused(rp, provider.logout_token(aud="another-client")) == "aud"


def test_a_logout_token_from_another_issuer_is_refused(rp: RelyingParty, provider: FakeProvider):
    assert refused(rp, provider.logout_token(iss="https://attacker.example")) == "iss"


def test_an_expired_logout_token_is_refused(rp: RelyingParty, provider: FakeProvider):
    now = provider.clock.timestamp()
    assert refused(rp, provider.logout_token(iat=now - 200, exp=now - 60)) == "exp"


def test_an_old_logout_token_is_refused(rp: RelyingParty, provider: FakeProvider):
    now = provider.clock.timestamp()
    assert refused(rp, provider.logout_token(iat=now - 3600, exp=DROP)) == "iat"


def test_a_logout_token_from_the_future_is_refused(rp: RelyingParty, provider: FakeProvider):
    now = provider.clock.timestamp()
    assert refused(rp, provider.logout_token(iat=now + 120, exp=now + 240)) == "iat"


def test_a_logout_token_signed_by_a_stranger_is_refused(rp: RelyingParty, provider: FakeProvider):
    stranger = ECKey.generate_key("P-256", parameters={"kid": provider.key.kid})
    genuine = provider.key
    provider.key = stranger
    token = provider.logout_token()
    provider.key = genuine
    assert refused(rp, token) == "signature"


def test_an_id_token_is_not_a_logout_token(rp: RelyingParty, provider: FakeProvider):
    signed_in = sign_in(rp, provider)
    assert refused(rp, signed_in.id_token) == "typ"


def test_garbage_is_refused_as_malformed(rp: RelyingParty):
    assert refused(rp, "not a token") == "malformed"
    assert refused(rp, "") == "malformed"
