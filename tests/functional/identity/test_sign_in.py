"""Signing in with the NIN, end to end: the portal and the sandbox provider each served for real
on loopback, a citizen's browser (a cookie jar, one hop at a time) going between them.

The provider fetches the portal's public keys from /.well-known/jwks.json and posts back-channel
logout tokens to it, so both servers are real sockets. The portal's sessions are committed in
the shared test database; the citizens' pairwise subjects are their own, and no test counts rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from portal.app import create_app
from portal.config import IdentitySettings, Settings
from portal.identity.models import SignInEvent, User, WebSession
from tests.functional.sandbox.conftest import BARAKA, NEEMA
from tests.page_client import check_page_contract
from tests.servers import free_socket
from tests.sign_in_world import Citizen, World, world_served

NEEMA_PIN = "4821"  # her demo PIN in portal/sandbox/idp/citizens.yaml, for the high level

CODE_FLOW_LIMITS = {"feedback": (10_000, 60.0), "sign_in": (10_000, 60.0)}


@pytest.fixture(scope="module")
def world(settings: Settings, engine: Engine, search_backend: object) -> Iterator[World]:
    with world_served(settings, engine) as running:
        yield running


@pytest.fixture
def citizen(world: World) -> Iterator[Citizen]:
    browser = Citizen(world)
    yield browser
    browser.http.close()


def _user(world: World, name: str) -> User:
    """The person of that name at this world's provider (other tests have their own)."""
    with Session(world.engine) as session:
        return session.exec(
            select(User).where(User.name == name, User.issuer == world.issuer)
        ).one()


def test_a_citizen_signs_in_with_the_nin_and_a_one_time_code(
    world: World, citizen: Citizen
) -> None:
    done = citizen.sign_in(NEEMA)
    assert done.status_code == 303
    assert done.headers["location"] == "/akaunti"
    cookie = done.headers.get_list("set-cookie")
    session_cookie = next(c for c in cookie if c.startswith("kikao="))
    assert "HttpOnly" in session_cookie
    assert "SameSite=lax" in session_cookie or "samesite=lax" in session_cookie.lower()
    _response, tree = citizen.page("/akaunti?lang=en")
    text = " ".join("".join(tree.itertext()).split())
    assert "Neema Mwakalinga" in text, text[:400]
    user = _user(world, "Neema Mwakalinga")
    assert "Sign out" in text
    assert "1988" not in text  # the NIN is never shown back
    with Session(world.engine) as session:
        assert user.nin_hash is not None
        assert NEEMA.replace("-", "") not in user.nin_hash
        sessions = session.exec(select(WebSession).where(WebSession.user_id == user.id)).all()
        assert sessions
        assert all("kikao" not in s.token_hash for s in sessions)
        # Her verified details ride with the session, sealed: no NIN or name in the row.
        assert all(s.attributes_sealed for s in sessions)
        assert all(NEEMA.replace("-", "") not in s.attributes_sealed for s in sessions)
        assert all("Mwakalinga" not in s.attributes_sealed for s in sessions)
        events = session.exec(select(SignInEvent).where(SignInEvent.sub == user.sub)).all()
        assert "sign_in" in {e.kind for e in events}


def test_signing_out_ends_the_session_here_and_at_the_provider(
    world: World, citizen: Citizen
) -> None:
    citizen.sign_in(BARAKA)
    _response, tree = citizen.page("/akaunti?lang=en")
    form = next(f for f in tree.iter("form") if f.get("action") == "/toka")
    token = form.find(".//input[@name='csrf_token']").get("value")  # type: ignore[union-attr]
    out = citizen.http.post(f"{world.portal}/toka", data={"csrf_token": token})
    assert out.status_code == 303
    location = out.headers["location"]
    assert location.startswith(world.issuer)
    query = parse_qs(urlsplit(location).query)
    assert query["id_token_hint"]
    assert query["state"]
    back = citizen.get(location)
    while back.status_code in (302, 303) and back.headers["location"].startswith(world.issuer):
        back = citizen.get(back.headers["location"])
    assert back.status_code in (302, 303), back.text[:400]
    assert back.headers["location"].startswith(f"{world.portal}/toka/mwisho?state=")
    _response, tree = citizen.page(back.headers["location"].removeprefix(world.portal) + "&lang=en")
    text = " ".join("".join(tree.itertext()).split())
    assert "The national ID service has signed you out too." in text
    assert citizen.get("/akaunti").status_code == 303  # signed out: asked to sign in again


def test_a_replayed_callback_signs_nobody_in(world: World, citizen: Citizen) -> None:
    start = citizen.get("/ingia")
    back = citizen.at_provider(start, NEEMA)
    callback = back.headers["location"]
    assert citizen.get(callback).status_code == 303
    replay = Citizen(world)
    _response, tree = replay.page(callback + "&lang=en", status=400)
    assert "took too long or was already used" in " ".join("".join(tree.itertext()).split())
    replay.http.close()


def test_the_return_path_is_always_on_this_site(world: World, citizen: Citizen) -> None:
    done = citizen.sign_in(NEEMA, return_to="//evil.example/steal")
    assert done.headers["location"] == "/"


def test_a_citizen_who_cancels_gets_a_page_that_says_so(world: World, citizen: Citizen) -> None:
    start = citizen.get("/ingia?lang=en")
    response = citizen.get(start.headers["location"])
    while response.status_code in (302, 303) and response.headers["location"].startswith(
        world.issuer
    ):
        response = citizen.get(response.headers["location"])
    url = str(response.request.url)
    tree = check_page_contract(response)  # type: ignore[arg-type]
    form = next(f for f in tree.iter("form") if (f.get("method") or "").lower() == "post")
    back = citizen.post(url, tree, {"action": "cancel"}, str(form.get("action")))
    assert back.status_code in (302, 303)
    assert "error=access_denied" in back.headers["location"]
    _response, tree = citizen.page(back.headers["location"].removeprefix(world.portal), status=400)
    assert "Hukuingia" in " ".join("".join(tree.itertext()).split())


def test_sign_in_with_the_provider_down_is_a_page_and_the_site_still_works(
    settings: Settings, engine: Engine, search_backend: object
) -> None:
    from fastapi.testclient import TestClient

    closed = free_socket()
    address = f"http://127.0.0.1:{closed.getsockname()[1]}"
    closed.close()  # nothing listens there
    app = create_app(
        settings.model_copy(
            update={
                "base_url": "http://127.0.0.1:8000",
                "identity": IdentitySettings(
                    discovery_url=f"{address}/.well-known/openid-configuration",
                    client_secret="s" * 32,  # type: ignore[arg-type]
                ),
            }
        )
    )
    with TestClient(app) as client:
        response = client.get("/ingia?lang=en")
        assert response.status_code == 503
        assert "Sign-in is not available right now" in response.text
        assert client.get("/huduma/rita-cheti-cha-kuzaliwa").status_code == 200


def test_signing_out_at_the_provider_ends_the_session_here_by_back_channel(
    world: World, citizen: Citizen
) -> None:
    citizen.sign_in(NEEMA)
    assert citizen.get("/akaunti").status_code == 200
    with Session(world.engine) as session:
        before = len(
            session.exec(select(SignInEvent).where(SignInEvent.kind == "backchannel_logout")).all()
        )
    response = citizen.get(f"{world.issuer}/logout")  # no hint: the provider asks to confirm
    tree = check_page_contract(response)  # type: ignore[arg-type]
    done = citizen.post(f"{world.issuer}/logout", tree, {"action": "logout"}, "/logout")
    assert done.status_code in (200, 302, 303), done.text[:300]
    assert citizen.get("/akaunti").status_code == 303  # the provider told us: signed out here
    with Session(world.engine) as session:
        after = session.exec(
            select(SignInEvent).where(SignInEvent.kind == "backchannel_logout")
        ).all()
    assert len(after) > before


def test_a_replayed_or_forged_logout_token_is_refused(world: World) -> None:
    forged = httpx2.post(
        f"{world.portal}/ingia/backchannel",
        data={"logout_token": "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."},
        trust_env=False,
    )
    assert forged.status_code == 400
    assert forged.headers["cache-control"] == "no-store"
    empty = httpx2.post(f"{world.portal}/ingia/backchannel", trust_env=False)
    assert empty.status_code == 400


def test_a_higher_level_asks_for_more_and_a_met_one_asks_for_nothing(
    world: World, citizen: Citizen
) -> None:
    citizen.sign_in(NEEMA)  # at the substantial level: NIN and a one-time code
    met = citizen.get("/ingia?kiwango=substantial&rudi=/akaunti")
    assert (met.status_code, met.headers["location"]) == (303, "/akaunti")  # no round trip
    step_up = citizen.get("/ingia?kiwango=high&rudi=/akaunti")
    assert "acr_values=urn%3Atz%3Anida%3Aloa%3Ahigh" in step_up.headers["location"]
    back = citizen.at_provider(step_up, NEEMA, pin=NEEMA_PIN)
    assert citizen.get(back.headers["location"]).headers["location"] == "/akaunti"
    with Session(world.engine) as session:
        user = _user(world, "Neema Mwakalinga")
        levels = {
            s.acr for s in session.exec(select(WebSession).where(WebSession.user_id == user.id))
        }
    assert "urn:tz:nida:loa:high" in levels


def _csrf_of(citizen: Citizen, action: str) -> str:
    _response, tree = citizen.page("/akaunti?lang=en")
    form = next(f for f in tree.iter("form") if f.get("action") == action)
    return str(form.find(".//input[@name='csrf_token']").get("value"))  # type: ignore[union-attr]


def test_sign_out_everywhere_ends_every_session_of_the_person(world: World) -> None:
    phone, laptop = Citizen(world), Citizen(world)
    try:
        phone.sign_in(BARAKA)
        laptop.sign_in(BARAKA)
        token = _csrf_of(phone, "/akaunti/toka-kote")
        refused = phone.http.post(f"{world.portal}/akaunti/toka-kote", data={})
        assert refused.status_code == 403  # no CSRF token
        assert laptop.get("/akaunti").status_code == 200
        done = phone.http.post(f"{world.portal}/akaunti/toka-kote", data={"csrf_token": token})
        assert (done.status_code, done.headers["location"]) == (303, "/toka/mwisho")
        assert phone.get("/akaunti").status_code == 303
        assert laptop.get("/akaunti").status_code == 303  # the other device too
    finally:
        phone.http.close()
        laptop.http.close()


def test_a_visitor_who_is_not_signed_in_may_not_sign_out(world: World, citizen: Citizen) -> None:
    _response, tree = citizen.page("/?lang=en")
    form = next(f for f in tree.iter("form") if f.get("action") == "/maoni")
    token = form.find(".//input[@name='csrf_token']").get("value")  # type: ignore[union-attr]
    for action in ("/toka", "/akaunti/toka-kote"):  # a valid token, but no permission
        refused = citizen.http.post(f"{world.portal}{action}", data={"csrf_token": token})
        assert refused.status_code == 403
        assert "You cannot do this" in refused.text or "Huwezi kufanya hili" in refused.text
