"""The demo world's roles: the demo publisher and curator get their roles once."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.engine import Connection
from sqlmodel import Session, select

from portal.db import unit_of_work
from portal.identity import services as identity_services
from portal.identity.models import RoleGrant
from portal.sandbox.world import DEMO_ROLES, demo_roles_grant

NOW = dt.datetime(2026, 12, 4, tzinfo=dt.UTC)
BARAKA = "19751102252070031864"


def test_demo_roles_are_given_once(db: Connection) -> None:
    with unit_of_work(db) as session:
        assert demo_roles_grant(session=session, nin_key="demo key", now=NOW) == len(DEMO_ROLES)
    with unit_of_work(db) as session:
        assert demo_roles_grant(session=session, nin_key="demo key", now=NOW) == 0
    with Session(db) as session:
        digest = identity_services.nin_hash(nin=BARAKA, key="demo key")
        grants = session.exec(select(RoleGrant).where(RoleGrant.nin_hash == digest)).all()
        assert sorted((g.role, g.institution) for g in grants) == [
            ("publisher", "brela"),
            ("publisher", "rita"),
        ]
