"""Writes of identity: accounts on sign-in, sessions, sign-in transactions, grants, the audit.

Services flush; the caller's unit of work commits. Secrets that arrive in cookies or URLs
(session tokens, `state`) are kept only as SHA-256 digests, and the NIN only as an HMAC under
the NIN key.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Mapping

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, select

from portal.audit import services as audit_services
from portal.identity.attributes import attributes_seal
from portal.identity.models import (
    LogoutTokenSeen,
    RoleGrant,
    SignInEvent,
    SignInTransaction,
    User,
    WebSession,
)
from portal.identity.permissions import ANONYMOUS, CITIZEN, ROLE_PERMISSIONS

TRANSACTION_LIFETIME = dt.timedelta(minutes=10)
TOUCH_EVERY = dt.timedelta(minutes=1)  # how stale last_seen_at may get, to spare writes
# Every signed-in person is a citizen; these are the roles given on top, to a NIN.
GRANTABLE_ROLES = tuple(role for role in ROLE_PERMISSIONS if role not in (ANONYMOUS, CITIZEN))


def digest(value: str) -> str:
    """The SHA-256 digest under which a cookie or `state` value is stored."""
    return hashlib.sha256(value.encode()).hexdigest()


def nin_hash(*, nin: str, key: str) -> str:
    """The keyed hash a (normalised) NIN is kept as: it finds grants, it reveals nothing."""
    return hmac.new(key.encode(), f"nin:{nin}".encode(), hashlib.sha256).hexdigest()


def user_signed_in(
    *, session: Session, issuer: str, sub: str, name: str, nin_digest: str | None, now: dt.datetime
) -> User:
    """Find the person by the provider's pairwise `sub`, or create them; refresh what we hold."""
    user = session.exec(select(User).where(User.issuer == issuer, User.sub == sub)).first()
    if user is None:
        user = User(issuer=issuer, sub=sub, name=name, created_at=now, last_sign_in_at=now)
    user.name = name or user.name
    user.nin_hash = nin_digest or user.nin_hash
    user.last_sign_in_at = now
    session.add(user)
    session.flush()
    return user


def session_start(
    *,
    session: Session,
    user: User,
    acr: str,
    id_token: str,
    provider_sid: str | None,
    attributes: Mapping[str, str],
    now: dt.datetime,
    lifetime: dt.timedelta,
) -> str:
    """A new server-side session; returns the random token for the cookie (kept as a digest).
    The verified `attributes` are kept sealed under that token."""
    token = secrets.token_urlsafe(32)
    assert user.id is not None
    session.add(
        WebSession(
            token_hash=digest(token),
            user_id=user.id,
            provider_sid=provider_sid,
            acr=acr,
            id_token=id_token,
            attributes_sealed=attributes_seal(token, attributes) if attributes else "",
            created_at=now,
            last_seen_at=now,
            expires_at=now + lifetime,
        )
    )
    session.flush()
    return token


def session_touch(*, session: Session, web_session: WebSession, now: dt.datetime) -> None:
    """Count this request against the idle timeout (written at most once a minute)."""
    if now - web_session.last_seen_at >= TOUCH_EVERY:
        web_session.last_seen_at = now
        session.add(web_session)


def session_end(*, session: Session, web_session: WebSession) -> None:
    session.delete(web_session)


def sessions_end_for_user(*, session: Session, user_id: int) -> int:
    """End every session of a person ("sign out everywhere"); returns how many."""
    rows = session.exec(select(WebSession).where(WebSession.user_id == user_id)).all()
    for row in rows:
        session.delete(row)
    return len(rows)


def sessions_end_from_provider(
    *, session: Session, issuer: str, sub: str | None, sid: str | None
) -> int:
    """End the sessions a back-channel logout names: by the provider's `sid`, else by `sub`."""
    statement = select(WebSession).join(User).where(User.issuer == issuer)
    if sid:
        statement = statement.where(WebSession.provider_sid == sid)
    if sub:
        statement = statement.where(User.sub == sub)
    rows = session.exec(statement).all()
    for row in rows:
        session.delete(row)
    return len(rows)


def transaction_store(
    *,
    session: Session,
    state: str,
    kind: str,
    visitor: str,
    payload: str,
    return_to: str,
    now: dt.datetime,
) -> None:
    """Keep a sign-in or sign-out under way, bound to the browser that started it."""
    session.exec(
        delete(SignInTransaction).where(
            col(SignInTransaction.created_at) < now - TRANSACTION_LIFETIME
        )
    )
    session.add(
        SignInTransaction(
            state_hash=digest(state),
            kind=kind,
            visitor_hash=digest(visitor),
            payload=payload,
            return_to=return_to,
            created_at=now,
        )
    )
    session.flush()


def transaction_take(
    *, session: Session, state: str, kind: str, visitor: str, now: dt.datetime
) -> SignInTransaction | None:
    """The transaction for `state`, used up: None when unknown, used, expired, of another kind
    or started in another browser."""
    row = session.exec(
        select(SignInTransaction).where(SignInTransaction.state_hash == digest(state))
    ).first()
    if row is None:
        return None
    session.delete(row)
    session.flush()
    fresh = now - row.created_at <= TRANSACTION_LIFETIME
    same_browser = hmac.compare_digest(row.visitor_hash, digest(visitor))
    return row if fresh and same_browser and row.kind == kind else None


def logout_token_first_use(
    *, session: Session, jti: str, expires_at: dt.datetime, now: dt.datetime
) -> bool:
    """Record a logout token's `jti`; False when it was seen before (a replay)."""
    session.exec(delete(LogoutTokenSeen).where(col(LogoutTokenSeen.expires_at) < now))
    if session.get(LogoutTokenSeen, jti) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(LogoutTokenSeen(jti=jti, expires_at=expires_at))
    except IntegrityError:  # the same token, delivered twice at once
        return False
    return True


def event_record(
    *,
    session: Session,
    kind: str,
    now: dt.datetime,
    sub: str | None = None,
    reason: str | None = None,
) -> None:
    """Write one line of the sign-in audit (never a NIN, a token or a code)."""
    session.add(SignInEvent(kind=kind, sub=sub, reason=reason, at=now))


def role_grant(
    *, session: Session, nin_digest: str, role: str, institution: str, by: str, now: dt.datetime
) -> bool:
    """Give a role to the person with this NIN; False when they already hold it."""
    if role not in GRANTABLE_ROLES:
        raise ValueError(f"unknown role {role!r}: one of {', '.join(GRANTABLE_ROLES)}")
    if (role == "publisher") != bool(institution):
        raise ValueError("a publisher needs an institution, and only a publisher has one")
    existing = session.exec(
        select(RoleGrant).where(
            RoleGrant.nin_hash == nin_digest,
            RoleGrant.role == role,
            RoleGrant.institution == institution,
        )
    ).first()
    if existing is not None:
        return False
    session.add(
        RoleGrant(
            nin_hash=nin_digest, role=role, institution=institution, granted_at=now, granted_by=by
        )
    )
    audit_services.audit_record(
        session=session,
        actor_id=None,
        actor=by,
        action="role.grant",
        entity="role",
        entity_key=f"{role}:{institution}" if institution else role,
        institution=institution or None,
        # The person by the first characters of their NIN's keyed hash: enough to tell two
        # grants apart, nothing to find the NIN by.
        after={"role": role, "institution": institution, "person": nin_digest[:12]},
        now=now,
    )
    session.flush()
    return True
