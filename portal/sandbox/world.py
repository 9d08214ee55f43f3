"""The demo world behind the portal: the sandbox GovESB, the demo institution systems, and the
roles some demo citizens hold.

One composition serves `portal demo` and the tests: the keys (made once and kept in a folder,
or fresh in memory), the bus's registry (Mlango may call every demo service's code; each
institution pushes its status code to Mlango's delivery endpoint), and the `MLANGO_BUS_*`
settings that point the portal at it all.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from sqlmodel import Session

from portal.bus.govesb.client import ClientConfig
from portal.bus.govesb.keys import (
    PrivateKey,
    private_key_generate,
    private_key_load,
    private_key_text,
    public_key_text,
)
from portal.identity import services as identity_services
from portal.identity.nin import nin_normalise
from portal.sandbox.esb import ApiCode, EsbClient, EsbConfig, PushCode
from portal.sandbox.institutions.config import DEMO_INSTITUTIONS, InstitutionConfig
from portal.sandbox.institutions.config import demo_institution as institution_config

PORTAL_CLIENT = "mlango"
# Demo citizens of the sandbox provider (portal/sandbox/idp/citizens.yaml) who hold roles, so
# that a newcomer can try publishing and review: (NIN, role, institution).
DEMO_ROLES = (
    ("19751102-25207-00318-64", "publisher", "rita"),  # Baraka Massawe
    ("19751102-25207-00318-64", "publisher", "brela"),
    ("19930721-71301-00775-02", "curator", ""),  # Rehema Ali
)
ESB_PORT = 8002
DELIVERY_PATH = "/govesb/taarifa"  # where the portal takes status pushes (portal.bus.routes)
_PARTIES = ("esb", PORTAL_CLIENT, *DEMO_INSTITUTIONS)


@dataclass(frozen=True)
class Credentials:
    """A party's key pair and (for a bus client) its secret."""

    private_key: PrivateKey
    secret: str


def credentials_load(folder: Path | None) -> dict[str, Credentials]:
    """Every party's credentials: read from `folder`, made there on first use (readable by
    the owner only), or fresh in memory when `folder` is None."""
    path = folder / "govesb-credentials.json" if folder else None
    if path is not None and path.exists():
        stored = json.loads(path.read_text(encoding="utf-8"))
        if set(stored) == set(_PARTIES):
            return {
                name: Credentials(private_key_load(entry["key"]), entry["secret"])
                for name, entry in stored.items()
            }
    made = {name: Credentials(private_key_generate(), secrets.token_hex(16)) for name in _PARTIES}
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        text = {
            name: {"key": private_key_text(party.private_key), "secret": party.secret}
            for name, party in made.items()
        }
        path.write_text(json.dumps(text, indent=2), encoding="utf-8")
    return made


@dataclass(frozen=True)
class BusWorld:
    esb: EsbConfig
    esb_url: str
    institutions: dict[str, InstitutionConfig]
    credentials: Mapping[str, Credentials]

    @property
    def portal_bus_settings(self) -> dict[str, str]:
        """The portal's `bus` settings section (field -> value) for this world."""
        origins = sorted({_origin(config.base_url) for config in self.institutions.values()})
        portal = self.credentials[PORTAL_CLIENT]
        return {
            "url": self.esb_url,
            "client_id": PORTAL_CLIENT,
            "client_secret": portal.secret,
            "private_key": private_key_text(portal.private_key),
            "esb_public_key": public_key_text(self.credentials["esb"].private_key),
            "launch_origins": " ".join(origins),
        }


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def bus_world(
    *,
    portal_url: str,
    esb_url: str,
    institution_urls: Mapping[str, str] | None = None,
    credentials: Mapping[str, Credentials],
    environment: str = "development",
) -> BusWorld:
    """The bus and the demo institutions wired to the portal at `portal_url`. Institutions
    listen at `institution_urls` (slug -> base URL; default: each on its own port)."""
    urls = dict(institution_urls or {})
    esb_key = credentials["esb"].private_key
    institutions: dict[str, InstitutionConfig] = {}
    clients = []
    api_codes = []
    push_codes = []
    portal_codes: list[str] = []
    delivery_url = portal_url.rstrip("/") + DELIVERY_PATH
    for slug, demo in DEMO_INSTITUTIONS.items():
        party = credentials[slug]
        bus = ClientConfig(
            base_url=esb_url,
            client_id=slug,
            client_secret=party.secret,
            private_key=party.private_key,
            esb_public_key=esb_key.public_key(),
            timeout=5.0,
        )
        config = institution_config(slug, bus=bus, base_url=urls.get(slug), environment=environment)
        institutions[slug] = config
        clients.append(
            EsbClient(
                client_id=slug,
                client_secret=party.secret,
                public_key=party.private_key.public_key(),
                push_codes=(demo.push_code,),
            )
        )
        for service in demo.services:
            portal_codes.append(service.api_code)
            api_codes.append(
                ApiCode(
                    code=service.api_code,
                    provider=slug,
                    url=config.base_url.rstrip("/") + "/esb/hand-off",
                )
            )
        push_codes.append(
            PushCode(
                code=demo.push_code,
                publisher=slug,
                subscribers=((PORTAL_CLIENT, delivery_url),),
            )
        )
    portal = credentials[PORTAL_CLIENT]
    clients.append(
        EsbClient(
            client_id=PORTAL_CLIENT,
            client_secret=portal.secret,
            public_key=portal.private_key.public_key(),
            api_codes=tuple(portal_codes),
        )
    )
    esb = EsbConfig(
        environment=environment,
        private_key=esb_key,
        clients=tuple(clients),
        api_codes=tuple(api_codes),
        push_codes=tuple(push_codes),
    )
    return BusWorld(esb=esb, esb_url=esb_url, institutions=institutions, credentials=credentials)


def demo_roles_grant(*, session: Session, nin_key: str, now: dt.datetime) -> int:
    """Give the demo citizens their roles; returns how many were new."""
    added = 0
    for nin, role, institution in DEMO_ROLES:
        added += identity_services.role_grant(
            session=session,
            nin_digest=identity_services.nin_hash(nin=nin_normalise(nin), key=nin_key),
            role=role,
            institution=institution,
            by="portal demo",
            now=now,
        )
    return added
