"""Reads of identity: the session behind a cookie, a person's roles and sessions."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, col, select

from portal.identity.models import RoleGrant, User, WebSession
from portal.identity.services import digest


def session_by_token(
    *, session: Session, token: str, now: dt.datetime, idle: dt.timedelta
) -> tuple[WebSession, User] | None:
    """The live session a cookie names and its person; None when unknown, idle or expired."""
    row = session.exec(
        select(WebSession, User)
        .join(User, col(User.id) == WebSession.user_id)
        .where(WebSession.token_hash == digest(token))
    ).first()
    if row is None:
        return None
    web_session, user = row
    if now >= web_session.expires_at or now - web_session.last_seen_at > idle:
        return None
    return web_session, user


def grants_of(*, session: Session, user: User) -> list[RoleGrant]:
    if user.nin_hash is None:
        return []
    return list(session.exec(select(RoleGrant).where(RoleGrant.nin_hash == user.nin_hash)).all())


def sessions_of(*, session: Session, user_id: int) -> list[WebSession]:
    """A person's sessions, newest first."""
    return list(
        session.exec(
            select(WebSession)
            .where(WebSession.user_id == user_id)
            .order_by(col(WebSession.created_at).desc())
        ).all()
    )
