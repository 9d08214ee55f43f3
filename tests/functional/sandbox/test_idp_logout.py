"""Key rotation, RP-initiated logout (end-session) and back-channel logout sent to the clients."""

from __future__ import annotations

import dataclasses
import socket
import time
from typing import Any
from urllib.parse import parse_qs, urlencode

from joserfc import jwt
from joserfc.jwk import KeySet

from tests.functional.sandbox.conftest import (
    NEEMA,
    Receiver,
    RpKeys,
    Sandbox,
    StartSandbox,
    clients,
)
from tests.functional.sandbox.rp import Browser, ec_key, query, redeem, userinfo, verify

BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"


def _signed_in(sandbox: Sandbox, citizen: Browser, client_id: str = "portal") -> dict[str, Any]:
    rp = sandbox.rp(client_id)
    flow = rp.flow()
    return redeem(rp, citizen, citizen.sign_in(rp, flow, NEEMA), flow)


def _still_signed_in(sandbox: Sandbox, citizen: Browser) -> bool:
    rp = sandbox.rp()
    params = query(citizen.authorize(rp, rp.flow(prompt="none")).headers["location"])
    return "code" in params


def _logout_url(sandbox: Sandbox, **params: str) -> str:
    return f"{sandbox.issuer}/logout?{urlencode(params)}"


# ----- key rotation


def test_rotation_signs_with_a_new_key_and_keeps_the_old_one_published(
    sandbox: Sandbox, citizen: Browser
) -> None:
    before = _signed_in(sandbox, citizen)["id_token"]
    old_kid = jwt.decode(before, KeySet.import_key_set(sandbox.jwks())).header["kid"]  # type: ignore[arg-type]
    response = citizen.http.post(f"{sandbox.issuer}/dev/rotate-keys")
    assert response.status_code == 200
    new_kid = response.json()["active_kid"]
    assert new_kid != old_kid
    jwks = sandbox.jwks()
    assert [key["kid"] for key in jwks["keys"]] == [new_kid, old_kid]
    verify(before, jwks)  # a token issued before rotation still verifies
    with sandbox.browser() as other:
        after = verify(_signed_in(sandbox, other)["id_token"], jwks)
    assert after.header["kid"] == new_kid
    newest = citizen.http.post(f"{sandbox.issuer}/dev/rotate-keys").json()["active_kid"]
    assert [key["kid"] for key in sandbox.jwks()["keys"]] == [newest, new_kid]


# ----- end-session with an id_token_hint, and back-channel logout


def _logout_tokens(receiver: Receiver, since: int, path: str) -> list[tuple[dict[str, str], str]]:
    found = []
    for request in receiver.requests[since:]:
        if request.method == "POST" and request.path == path:
            form = parse_qs(request.body.decode())
            found.append((request.headers, form["logout_token"][0]))
    return found


def test_logout_with_a_hint_ends_the_session_and_tells_every_client(
    sandbox: Sandbox, citizen: Browser
) -> None:
    portal = _signed_in(sandbox, citizen)
    tra = _signed_in(sandbox, citizen, "tra")  # the same session, a second client
    portal_claims = verify(portal["id_token"], sandbox.jwks()).claims
    tra_claims = verify(tra["id_token"], sandbox.jwks(), aud="tra").claims
    assert portal_claims["sid"] == tra_claims["sid"]
    since = len(sandbox.receiver.requests)
    back = f"{sandbox.receiver.url}/signed-out"
    response = citizen.get(
        _logout_url(
            sandbox,
            id_token_hint=portal["id_token"],
            post_logout_redirect_uri=back,
            state="come-back-xyz",
        )
    )
    assert response.status_code == 302
    assert response.headers["location"] == f"{back}?state=come-back-xyz"

    for path, claims in (("/backchannel", portal_claims), ("/tra/backchannel", tra_claims)):
        sent = _logout_tokens(sandbox.receiver, since, path)
        assert len(sent) == 1, path
        headers, token = sent[0]
        assert headers["user-agent"]
        assert headers["content-type"] == "application/x-www-form-urlencoded"
        logout = verify(token, sandbox.jwks(), iss=sandbox.issuer, aud=claims["aud"])
        assert logout.header["typ"] == "logout+jwt"
        body = logout.claims
        assert body["sid"] == claims["sid"]
        assert body["sub"] == claims["sub"]
        assert body["events"] == {BACKCHANNEL_EVENT: {}}
        assert body["jti"]
        assert 0 < body["exp"] - body["iat"] <= 120
        assert "nonce" not in body

    assert not _still_signed_in(sandbox, citizen)
    assert userinfo(citizen, portal["access_token"]).status_code == 401


def test_an_expired_id_token_is_still_a_good_hint(sandbox: Sandbox, citizen: Browser) -> None:
    portal = _signed_in(sandbox, citizen)
    sandbox.clock.advance(400)  # past the ID token's exp, within the session
    response = citizen.get(_logout_url(sandbox, id_token_hint=portal["id_token"]))
    page = citizen.as_page(response)
    assert page.h1 == "Umetoka NIDA"
    assert not _still_signed_in(sandbox, citizen)


def test_an_unregistered_post_logout_redirect_uri_gets_an_error_page(
    sandbox: Sandbox, citizen: Browser
) -> None:
    portal = _signed_in(sandbox, citizen)
    for params in (
        {
            "id_token_hint": portal["id_token"],
            "post_logout_redirect_uri": "http://evil.example/signed-out",
        },
        {"post_logout_redirect_uri": f"{sandbox.receiver.url}/signed-out"},  # whose?
        {"id_token_hint": portal["id_token"][:-8] + "AAAAAAAA"},  # not our signature
        {"id_token_hint": portal["id_token"], "client_id": "tra"},
    ):
        response = citizen.get(_logout_url(sandbox, **params))
        assert "location" not in response.headers, params
        citizen.as_page(response, status=400)
    assert _still_signed_in(sandbox, citizen)


def test_a_hint_signed_by_another_key_is_refused(sandbox: Sandbox, citizen: Browser) -> None:
    portal = _signed_in(sandbox, citizen)
    claims = verify(portal["id_token"], sandbox.jwks()).claims
    stranger = ec_key(verify(portal["id_token"], sandbox.jwks()).header["kid"])
    forged = jwt.encode({"alg": "ES256", "kid": stranger.kid}, claims, stranger)
    response = citizen.get(_logout_url(sandbox, id_token_hint=forged))
    citizen.as_page(response, status=400)
    assert _still_signed_in(sandbox, citizen)


# ----- end-session without a hint: the citizen is asked


def test_without_a_hint_the_citizen_confirms_then_is_sent_back(
    sandbox: Sandbox, citizen: Browser
) -> None:
    _signed_in(sandbox, citizen)
    since = len(sandbox.receiver.requests)
    back = f"{sandbox.receiver.url}/signed-out"
    page = citizen.page(
        _logout_url(sandbox, client_id="portal", post_logout_redirect_uri=back, state="s-1")
    )
    assert page.h1 == "Unataka kutoka NIDA?"
    assert not _logout_tokens(sandbox.receiver, since, "/backchannel")  # nothing yet
    response = citizen.submit(page, {"action": "logout"})
    assert response.status_code == 303
    assert response.headers["location"] == f"{back}?state=s-1"
    assert len(_logout_tokens(sandbox.receiver, since, "/backchannel")) == 1
    assert not _still_signed_in(sandbox, citizen)


def test_without_a_hint_the_citizen_may_stay(sandbox: Sandbox, citizen: Browser) -> None:
    _signed_in(sandbox, citizen)
    page = citizen.page(_logout_url(sandbox))
    response = citizen.submit(page, {"action": "stay"})
    assert citizen.as_page(response).h1 == "Bado uko ndani ya NIDA"
    assert _still_signed_in(sandbox, citizen)


def test_the_confirmation_is_protected_against_forgery(sandbox: Sandbox, citizen: Browser) -> None:
    _signed_in(sandbox, citizen)
    page = citizen.page(_logout_url(sandbox))
    response = citizen.submit(page, {"action": "logout", "csrf_token": "forged"})
    citizen.as_page(response, status=403)
    assert _still_signed_in(sandbox, citizen)


def test_without_a_session_there_is_nothing_to_confirm(sandbox: Sandbox, citizen: Browser) -> None:
    page = citizen.page(_logout_url(sandbox))
    assert page.h1 == "Umetoka NIDA"


# ----- back-channel delivery is bounded


def test_a_silent_back_channel_receiver_does_not_hold_up_logout(
    start_sandbox: StartSandbox, receiver: Receiver, rp_keys: RpKeys
) -> None:
    silent = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)  # accepts connections into its backlog, never answers
    try:
        registered = clients(receiver, rp_keys)
        portal = dataclasses.replace(
            registered[0],
            backchannel_logout_uri=f"http://127.0.0.1:{silent.getsockname()[1]}/backchannel",
        )
        with (
            start_sandbox(clients=(portal, *registered[1:]), backchannel_timeout=0.3) as box,
            box.browser() as citizen,
        ):
            tokens = _signed_in(box, citizen)
            started = time.monotonic()
            response = citizen.get(_logout_url(box, id_token_hint=tokens["id_token"]))
            assert time.monotonic() - started < 3
            assert citizen.as_page(response).h1 == "Umetoka NIDA"
    finally:
        silent.close()
