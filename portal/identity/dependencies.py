"""Who is asking: `identify` (app-wide), `CurrentRoles`, `SignedIn`, `require_permission`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, HTTPException, Request

from portal.db import DbSession
from portal.identity import selectors, services
from portal.identity.assurance import Level, acr_satisfies
from portal.identity.attributes import attributes_unseal
from portal.identity.models import User, WebSession
from portal.identity.permissions import (
    ANONYMOUS,
    CITIZEN,
    EVERY_INSTITUTION,
    permissions_known,
    permitted,
)

SESSION_COOKIE = "kikao"


@dataclass(frozen=True)
class Visitor:
    """The person behind this request, when signed in, with their session and roles."""

    user: User
    web_session: WebSession
    roles: frozenset[str]
    token: str = field(repr=False)  # the session cookie: it opens the sealed attributes
    publisher_of: frozenset[str] = frozenset()  # slugs of the institutions they publish for

    def may_publish_for(self, institution: str) -> bool:
        """Whether their publishing permissions reach `institution` (a slug)."""
        return bool(self.roles & EVERY_INSTITUTION) or institution in self.publisher_of

    @cached_property
    def attributes(self) -> dict[str, str]:
        """What the provider vouched for at sign-in (NIN, names...), opened for this request."""
        return attributes_unseal(self.token, self.web_session.attributes_sealed)


def identify(request: Request, session: DbSession) -> None:
    """Look the session cookie up once per request; pages then know who is signed in."""
    request.state.visitor = None
    token = request.cookies.get(SESSION_COOKIE)
    if not token or len(token) > 128:
        return
    settings = request.app.state.settings.identity
    now = dt.datetime.now(dt.UTC)
    found = selectors.session_by_token(
        session=session,
        token=token,
        now=now,
        idle=dt.timedelta(minutes=settings.session_idle_minutes),
    )
    if found is None:
        return
    web_session, user = found
    services.session_touch(session=session, web_session=web_session, now=now)
    grants = selectors.grants_of(session=session, user=user)
    roles = frozenset({CITIZEN, *(grant.role for grant in grants)})
    publisher_of = frozenset(g.institution for g in grants if g.role == "publisher")
    request.state.visitor = Visitor(
        user=user, web_session=web_session, roles=roles, token=token, publisher_of=publisher_of
    )
    request.state.signed_in_name = user.name
    # The staff tools the header links to: which this person may open.
    request.state.signed_in_tools = tuple(
        tool
        for tool, permission in (("publish", "publishing.edit"), ("curate", "curation.review"))
        if permitted(roles=roles, permission=permission)
    )


def _current_roles(request: Request) -> frozenset[str]:
    visitor: Visitor | None = getattr(request.state, "visitor", None)
    return visitor.roles if visitor else frozenset({ANONYMOUS})


CurrentRoles = Annotated[frozenset[str], Depends(_current_roles)]


class SignInRequired(HTTPException):
    """Sends a visitor to sign in (at `level`, when one is needed), and back here afterwards."""

    def __init__(self, return_to: str, level: Level | None = None) -> None:
        query = {"rudi": return_to, **({"kiwango": level} if level else {})}
        super().__init__(status_code=303, headers={"Location": "/ingia?" + urlencode(query)})


def _signed_in(request: Request) -> Visitor:
    visitor: Visitor | None = getattr(request.state, "visitor", None)
    if visitor is None:
        raise SignInRequired(request.url.path)
    return visitor


SignedIn = Annotated[Visitor, Depends(_signed_in)]


@dataclass(frozen=True)
class AssuranceCheck:
    """Lets through a person signed in at `level` or above; sends anyone else to sign in (again)
    at that level, and back (step-up)."""

    level: Level

    def __call__(self, request: Request) -> Visitor:
        visitor: Visitor | None = getattr(request.state, "visitor", None)
        if visitor is None or not acr_satisfies(visitor.web_session.acr, self.level):
            raise SignInRequired(request.url.path, self.level)
        return visitor


def assurance_required(level: Level) -> Any:
    """`Annotated[Visitor, assurance_required("high")]` on a route that needs that level."""
    return Depends(AssuranceCheck(level))


class PermissionDenied(HTTPException):
    def __init__(self, permission: str) -> None:
        super().__init__(status_code=403, detail=f"permission: {permission}")


@dataclass(frozen=True)
class PermissionCheck:
    """Refuses the request (403) unless the visitor holds `permission`."""

    permission: str

    def __call__(self, roles: CurrentRoles) -> None:
        if not permitted(roles=roles, permission=self.permission):
            raise PermissionDenied(self.permission)


@dataclass(frozen=True)
class PublicEndpoint:
    """Marks a machine endpoint that anyone may call because it checks a signature itself."""

    reason: str

    def __call__(self) -> None:
        return None


def require_permission(permission: str) -> Any:
    """`dependencies=[require_permission("feedback.send")]` on a state-changing route."""
    if permission not in permissions_known():
        raise ValueError(f"no role grants the permission {permission!r}")
    return Depends(PermissionCheck(permission))


def public_endpoint(reason: str) -> Any:
    """`dependencies=[public_endpoint("the provider signs its logout tokens")]`."""
    return Depends(PublicEndpoint(reason))
