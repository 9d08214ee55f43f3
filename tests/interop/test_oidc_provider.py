"""Signing in and out through an independent OpenID provider, panva's oidc-provider: the
portal's relying party against an implementation that shares none of its code.

A citizen's browser is one httpx2 cookie jar for both sites, every redirect taken by hand. The
provider signs in its demo citizen at once (no login page) at the substantial level, grants
what the portal asks for, and confirms a sign-out with its own form.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import html5lib
import httpx2
import pytest
from sqlmodel import Session, col, select

from portal.identity.models import SignInEvent, User, WebSession
from tests.interop.conftest import Interop
from tests.page_client import check_page_contract

SUB = "raia-0001"  # the provider's default demo citizen, who signs in when no hint is given
NAME = "Zawadi Mshana"
SUBSTANTIAL = "urn:tz:nida:loa:substantial"
REDIRECTS = (302, 303)


class Browser:
    """A citizen's browser: one cookie jar for the portal and the provider."""

    def __init__(self, interop: Interop) -> None:
        self.interop = interop
        self.http = httpx2.Client(follow_redirects=False, timeout=10, trust_env=False)
        self.provider_hops: list[str] = []  # the provider paths the last passage went through

    def close(self) -> None:
        self.http.close()

    def get(self, url: str) -> httpx2.Response:
        return self.http.get(url if url.startswith("http") else f"{self.interop.portal}{url}")

    def page(self, url: str, status: int = 200) -> Any:
        """A portal page, held to the page contract; its parsed tree."""
        response = self.get(url)
        assert response.status_code == status, (url, response.status_code, response.text[:500])
        return check_page_contract(response)

    def through_provider(self, response: httpx2.Response) -> httpx2.Response:
        """Follow redirects while they stay at the provider; the first answer that does not."""
        self.provider_hops = []
        while response.status_code in REDIRECTS and _location(response).startswith(
            self.interop.issuer
        ):
            assert len(self.provider_hops) < 10, "the provider keeps redirecting"
            self.provider_hops.append(urlsplit(_location(response)).path)
            response = self.get(_location(response))
        return response

    def asked_to_sign_in(self) -> bool:
        """Whether the last passage through the provider went through its sign-in interaction
        (without a session there, it must; with one, it answers at once)."""
        return any(path.startswith("/interaction/") for path in self.provider_hops)

    def to_callback(self, return_to: str = "/akaunti") -> str:
        """Start signing in and go through the provider: the callback URL it sends us back to."""
        start = self.get("/ingia?" + urlencode({"rudi": return_to}))
        assert start.status_code == 303, start.text[:300]
        authorize = start.headers["location"]
        assert authorize.startswith(f"{self.interop.issuer}/auth?")
        query = parse_qs(urlsplit(authorize).query)
        assert query["response_type"] == ["code"]
        assert query["code_challenge_method"] == ["S256"]
        assert query["acr_values"] == [SUBSTANTIAL]
        assert "nin" in json.loads(query["claims"][0])["userinfo"]
        back = self.through_provider(start)
        assert back.status_code in REDIRECTS, (back.status_code, back.text[:500])
        callback = _location(back)
        assert callback.startswith(f"{self.interop.portal}/ingia/mwisho?"), callback
        answer = parse_qs(urlsplit(callback).query)
        assert "error" not in answer, answer
        assert answer["iss"] == [self.interop.issuer]  # RFC 9207, as discovery promises
        assert answer["code"]
        assert answer["state"]
        return callback

    def sign_in(self, return_to: str = "/akaunti") -> httpx2.Response:
        """Sign in through the provider; the portal's answer to its callback."""
        done = self.get(self.to_callback(return_to))
        assert done.status_code == 303, (
            "the portal refused the provider's answer",
            done.status_code,
            _text(check_page_contract(done))[:300],
        )
        return done

    def sign_out_form(self) -> dict[str, str]:
        """The CSRF token of the portal's sign-out form, from the account page."""
        tree = self.page("/akaunti?lang=en")
        form = next(f for f in tree.iter("form") if f.get("action") == "/toka")
        return {"csrf_token": form.find(".//input[@name='csrf_token']").get("value")}

    def confirm_at_provider(self, page: httpx2.Response) -> httpx2.Response:
        """Answer the provider's "do you want to sign out?" page: yes."""
        assert page.status_code == 200, (page.status_code, page.text[:500])
        form, fields = _provider_form(page.text, "op.logoutForm")
        assert "xsrf" in fields
        action = form.get("action") or ""
        target = action if action.startswith("http") else f"{self.interop.issuer}{action}"
        return self.http.post(target, data={**fields, "logout": "yes"})


def _location(response: httpx2.Response) -> str:
    """Where a redirect leads, as an absolute URL (the provider sends relative ones too)."""
    return urljoin(str(response.url), response.headers["location"])


def _text(tree: Any) -> str:
    return " ".join("".join(tree.itertext()).split())


def _provider_form(html: str, form_id: str) -> tuple[Any, dict[str, str]]:
    """A form of the provider's (not our page contract: its pages are its own) and its fields."""
    tree = html5lib.parse(html, namespaceHTMLElements=False)
    form = next(f for f in tree.iter("form") if f.get("id") == form_id)
    fields = {i.get("name"): i.get("value", "") for i in form.iter("input") if i.get("name")}
    return form, fields


def _user(interop: Interop) -> User:
    with Session(interop.engine) as session:
        return session.exec(
            select(User).where(User.issuer == interop.issuer, User.sub == SUB)
        ).one()


def _backchannel_logouts(interop: Interop) -> list[str | None]:
    """The citizen's back-channel logouts so far, oldest first: how many sessions each ended."""
    with Session(interop.engine) as session:
        events = session.exec(
            select(SignInEvent)
            .where(SignInEvent.kind == "backchannel_logout", SignInEvent.sub == SUB)
            .order_by(col(SignInEvent.id))
        ).all()
    return [event.reason for event in events]


@pytest.fixture
def citizen(interop: Interop) -> Iterator[Browser]:
    browser = Browser(interop)
    yield browser
    browser.close()


def test_a_citizen_signs_in_through_the_independent_provider(
    interop: Interop, citizen: Browser
) -> None:
    done = citizen.sign_in()
    assert done.headers["location"] == "/akaunti"
    assert any(c.startswith("kikao=") for c in done.headers.get_list("set-cookie"))
    text = _text(citizen.page("/akaunti?lang=en"))
    assert NAME in text, text[:400]  # the name claim, from the provider's userinfo
    assert "Sign out" in text
    user = _user(interop)
    assert user.name == NAME
    assert user.nin_hash is not None  # the NIN claim arrived, and was kept as its hash only
    with Session(interop.engine) as session:
        sessions = session.exec(select(WebSession).where(WebSession.user_id == user.id)).all()
    assert sessions
    assert {s.acr for s in sessions} == {SUBSTANTIAL}
    assert all(s.provider_sid for s in sessions)  # for back-channel logout to find them by


def test_signing_out_ends_the_session_here_and_at_the_provider(
    interop: Interop, citizen: Browser
) -> None:
    citizen.sign_in()
    assert citizen.asked_to_sign_in()
    assert citizen.get("/ingia?rudi=/akaunti").headers["location"] == "/akaunti"  # already in
    citizen.http.cookies.delete("kikao")  # our session gone, the provider's kept:
    callback = citizen.to_callback()  # it answers at once
    assert not citizen.asked_to_sign_in()
    assert citizen.get(callback).status_code == 303  # signed in here again
    out = citizen.http.post(f"{interop.portal}/toka", data=citizen.sign_out_form())
    assert out.status_code == 303, out.text[:300]
    end_session = out.headers["location"]
    assert end_session.startswith(f"{interop.issuer}/session/end?")
    query = parse_qs(urlsplit(end_session).query)
    assert query["id_token_hint"]
    assert query["post_logout_redirect_uri"] == [f"{interop.portal}/toka/mwisho"]
    assert query["state"]
    confirmed = citizen.confirm_at_provider(citizen.get(end_session))
    back = citizen.through_provider(confirmed)
    assert back.status_code in REDIRECTS, (back.status_code, back.text[:400])
    location = _location(back)
    assert location.startswith(f"{interop.portal}/toka/mwisho?state=")
    assert parse_qs(urlsplit(location).query)["state"] == query["state"]
    text = _text(citizen.page(location.removeprefix(interop.portal) + "&lang=en"))
    assert "The national ID service has signed you out too." in text
    assert citizen.get("/akaunti").status_code == 303  # signed out: asked to sign in again
    citizen.to_callback()  # and at the provider too: it asks again
    assert citizen.asked_to_sign_in()


def test_signing_out_at_the_provider_ends_that_session_here_by_back_channel(
    interop: Interop, citizen: Browser
) -> None:
    citizen.sign_in()
    other = Browser(interop)  # the same citizen on another device: its own provider session
    try:
        other.sign_in()
        assert citizen.get("/akaunti").status_code == 200
        before = _backchannel_logouts(interop)
        # At the provider, with no hint: it asks to confirm, then posts the logout token to the
        # portal before it answers.
        done = citizen.confirm_at_provider(citizen.get(f"{interop.issuer}/session/end"))
        assert done.status_code in REDIRECTS, (done.status_code, done.text[:400])
        assert _location(done).startswith(f"{interop.issuer}/session/end/success")
        assert citizen.get("/akaunti").status_code == 303  # the provider told us: signed out
        assert other.get("/akaunti").status_code == 200  # that session (sid) only
        assert _backchannel_logouts(interop)[len(before) :] == ["1"]  # one, ending one session
    finally:
        other.close()


def test_a_replayed_callback_signs_nobody_in(interop: Interop, citizen: Browser) -> None:
    callback = citizen.to_callback()
    assert citizen.get(callback).status_code == 303
    stranger = Browser(interop)
    try:
        for browser in (citizen, stranger):  # the same browser again, and another one
            replay = browser.get(callback + "&lang=en")
            assert replay.status_code == 400, replay.text[:300]
            assert "took too long or was already used" in _text(check_page_contract(replay))
            cookies = replay.headers.get_list("set-cookie")
            assert not any(c.startswith("kikao=") for c in cookies)
        assert "kikao" not in stranger.http.cookies
    finally:
        stranger.close()
