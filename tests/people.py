"""People for tests that need someone signed in: a citizen, a publisher of an institution, a
curator or an administrator, each a person of their own with a live session in a client."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Mapping

from fastapi.testclient import TestClient
from sqlalchemy.engine import Connection

from portal.db import unit_of_work
from portal.identity import services as identity_services
from portal.identity.dependencies import SESSION_COOKIE

ACR_SUBSTANTIAL = "urn:tz:nida:loa:substantial"
_numbers = itertools.count(1)


def signed_in_as(
    client: TestClient,
    db: Connection,
    *,
    role: str | None = None,
    institution: str = "",
    name: str | None = None,
    attributes: Mapping[str, str] | None = None,
) -> int:
    """Sign a new person into `client` (its session cookie set), holding `role` (None: only a
    citizen) of `institution` (for a publisher); returns their id."""
    number = next(_numbers)
    now = dt.datetime.now(dt.UTC)
    nin_digest = identity_services.nin_hash(nin=f"{number:020d}", key="test people")
    with unit_of_work(db) as session:
        user = identity_services.user_signed_in(
            session=session,
            issuer="https://id.people.test",
            sub=f"person-{number}",
            name=name or f"Mtu wa Majaribio {number}",
            nin_digest=nin_digest,
            now=now,
        )
        if role is not None:
            identity_services.role_grant(
                session=session,
                nin_digest=nin_digest,
                role=role,
                institution=institution,
                by="tests",
                now=now,
            )
        token = identity_services.session_start(
            session=session,
            user=user,
            acr=ACR_SUBSTANTIAL,
            id_token="x.y.z",
            provider_sid=None,
            attributes=dict(attributes or {}),
            now=now,
            lifetime=dt.timedelta(hours=1),
        )
        assert user.id is not None
        user_id = user.id
    client.cookies.set(SESSION_COOKIE, token)
    return user_id
