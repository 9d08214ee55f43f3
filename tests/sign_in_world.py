"""The portal and the sandbox national-ID provider, each served for real on a loopback port,
registered with each other: what sign-in tests, functional and in the browser, run against;
with `bus=True`, the sandbox GovESB and the demo institutions too (hand-off tests).

The provider fetches the portal's public keys from /.well-known/jwks.json and posts back-channel
logout tokens to it, so both are real sockets. The portal uses the shared test database.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx2
from fastapi import FastAPI
from joserfc.jwk import ECKey
from pydantic import SecretStr
from sqlalchemy.engine import Engine

from portal.app import create_app
from portal.config import BusSettings, IdentitySettings, Settings
from portal.sandbox.esb import create_esb_app
from portal.sandbox.idp import ClientRegistration, IdpConfig, SandboxClock, create_idp_app
from portal.sandbox.institutions.app import create_institution_app
from portal.sandbox.institutions.config import DEMO_INSTITUTIONS
from portal.sandbox.world import Credentials, bus_world, credentials_load
from portal.web.ratelimit import RateLimiter
from tests.page_client import check_page_contract
from tests.servers import address_of, free_socket, served

UNLIMITED = {
    "feedback": (10_000, 60.0),
    "sign_in": (10_000, 60.0),
    "service_start": (10_000, 60.0),
}


@dataclass
class World:
    portal: str
    issuer: str
    engine: Engine
    portal_app: FastAPI
    esb: FastAPI | None = None  # its state.faults switch the bus's faults
    institutions: dict[str, FastAPI] = field(default_factory=dict)  # slug -> app
    institution_urls: dict[str, str] = field(default_factory=dict)  # slug -> base URL
    credentials: Mapping[str, Credentials] = field(default_factory=dict)  # party -> keys


@contextmanager
def world_served(settings: Settings, engine: Engine, *, bus: bool = False) -> Iterator[World]:
    """The portal (signing in with a key of its own) and the provider that knows it; with
    `bus`, the sandbox GovESB and the demo institutions behind it."""
    portal_sock, idp_sock = free_socket(), free_socket()
    portal, issuer = address_of(portal_sock), address_of(idp_sock)
    key = ECKey.generate_key("P-256", parameters={"kid": "mlango-test-1"}, private=True)
    idp = create_idp_app(
        IdpConfig(
            issuer=issuer,
            environment="test",
            clock=SandboxClock(),
            max_address_attempts=1000,
            clients=(
                ClientRegistration(
                    client_id="mlango",
                    name="Mlango",
                    redirect_uris=(f"{portal}/ingia/mwisho",),
                    post_logout_redirect_uris=(f"{portal}/toka/mwisho",),
                    backchannel_logout_uri=f"{portal}/ingia/backchannel",
                    jwks_uri=f"{portal}/.well-known/jwks.json",
                    userinfo_signed=True,
                ),
            ),
        )
    )
    update: dict[str, object] = {
        "base_url": portal,
        "identity": IdentitySettings(
            discovery_url=f"{issuer}/.well-known/openid-configuration",
            client_key=SecretStr(json.dumps(key.as_dict(private=True))),
        ),
    }
    esb_app, institution_apps, sockets, credentials = None, {}, {}, {}
    if bus:
        credentials = credentials_load(None)
        sockets = {name: free_socket() for name in ("esb", *DEMO_INSTITUTIONS)}
        world = bus_world(
            portal_url=portal,
            esb_url=address_of(sockets["esb"]),
            institution_urls={slug: address_of(sockets[slug]) for slug in DEMO_INSTITUTIONS},
            credentials=credentials,
            environment="test",
        )
        # A short timeout, so that a slow bus is seen as one quickly.
        update["bus"] = BusSettings.model_validate({**world.portal_bus_settings, "timeout": 2})
        esb_app = create_esb_app(world.esb)
        institution_apps = {
            slug: create_institution_app(config) for slug, config in world.institutions.items()
        }
    app = create_app(settings.model_copy(update=update))
    app.state.rate_limiter = RateLimiter(UNLIMITED)
    with ExitStack() as stack:
        stack.enter_context(served(idp, idp_sock))
        if esb_app is not None:
            stack.enter_context(served(esb_app, sockets["esb"]))
        for slug, institution in institution_apps.items():
            stack.enter_context(served(institution, sockets[slug]))
        stack.enter_context(served(app, portal_sock))
        yield World(
            portal=portal,
            issuer=issuer,
            engine=engine,
            portal_app=app,
            esb=esb_app,
            institutions=institution_apps,
            institution_urls={slug: address_of(sockets[slug]) for slug in institution_apps},
            credentials=credentials,
        )


class Citizen:
    """A browser: one cookie jar for both sites, every redirect taken by hand."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.http = httpx2.Client(follow_redirects=False, timeout=10, trust_env=False)

    def get(self, url: str) -> httpx2.Response:
        return self.http.get(url if url.startswith("http") else f"{self.world.portal}{url}")

    def page(self, url: str, status: int = 200) -> tuple[httpx2.Response, Any]:
        response = self.get(url)
        assert response.status_code == status, (url, response.status_code, response.text[:500])
        return response, check_page_contract(response)  # type: ignore[arg-type]

    def post(self, url: str, tree: Any, answers: dict[str, str], action: str) -> httpx2.Response:
        form = next(f for f in tree.iter("form") if f.get("action") == action)
        fields = [
            (i.get("name"), i.get("value", ""))
            for i in form.iter("input")
            if i.get("name") and i.get("type") == "hidden" and i.get("name") not in answers
        ]
        fields += list(answers.items())
        target = (
            action
            if action.startswith("http")
            else f"{urlsplit(url).scheme}://{urlsplit(url).netloc}{action}"
        )
        return self.http.post(
            target,
            content=urlencode(fields),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )

    def at_provider(
        self, start: httpx2.Response, nin: str, pin: str | None = None
    ) -> httpx2.Response:
        """From the portal's redirect to the provider, through whichever of its pages it shows
        (NIN, one-time code, PIN), to the redirect back to the portal's callback."""
        assert start.status_code == 303, start.text[:300]
        assert start.headers["location"].startswith(self.world.issuer)
        response = self.get(start.headers["location"])
        for _ in range(10):
            if response.status_code in (302, 303):
                location = response.headers["location"]
                if not location.startswith(self.world.issuer):
                    return response  # back to the portal
                response = self.get(location)
                continue
            url = str(response.request.url)
            tree = check_page_contract(response)  # type: ignore[arg-type]
            form = next(f for f in tree.iter("form") if (f.get("method") or "").lower() == "post")
            fields = {i.get("name") for i in form.iter("input")}
            answers = {"action": "continue"}
            if "nin" in fields:
                answers["nin"] = nin
            if "code" in fields:
                banner = next(p for p in tree.iter("p") if p.get("class") == "banner-code")
                answers["code"] = "".join(c for c in "".join(banner.itertext()) if c.isdigit())[-6:]
            if "pin" in fields and pin:
                answers["pin"] = pin
            response = self.post(url, tree, answers, str(form.get("action")))
            assert response.status_code == 303, response.text[:500]
        raise AssertionError("the provider never sent the browser back")

    def sign_in(self, nin: str, return_to: str = "/akaunti") -> httpx2.Response:
        start = self.get("/ingia?" + urlencode({"rudi": return_to}))
        back = self.at_provider(start, nin)
        assert back.headers["location"].startswith(f"{self.world.portal}/ingia/mwisho?")
        return self.get(back.headers["location"])
