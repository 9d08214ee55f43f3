"""Accounts, role grants, server-side sessions, sign-in transactions and the sign-in audit.

A person is keyed by the provider's pairwise `sub`. The NIN is never stored in clear: only its
keyed hash, which is how a role granted to a NIN finds its person. Cookies and state values are
stored as SHA-256 digests, so a copy of the table opens no session.
"""

import datetime as dt

from sqlmodel import Field, SQLModel, UniqueConstraint

from portal import db  # noqa: F401  (applies the constraint naming convention first)


class User(SQLModel, table=True):
    __tablename__ = "user_account"
    __table_args__ = (UniqueConstraint("issuer", "sub"),)

    id: int | None = Field(default=None, primary_key=True)
    issuer: str = Field(max_length=300)
    sub: str = Field(max_length=255)
    name: str = Field(max_length=200)
    nin_hash: str | None = Field(default=None, max_length=64, index=True)
    created_at: dt.datetime
    last_sign_in_at: dt.datetime


class RoleGrant(SQLModel, table=True):
    """A role given to a NIN (its keyed hash), before or after the person first signs in."""

    __tablename__ = "role_grant"
    __table_args__ = (UniqueConstraint("nin_hash", "role", "institution"),)

    id: int | None = Field(default=None, primary_key=True)
    nin_hash: str = Field(max_length=64, index=True)
    role: str = Field(max_length=30)
    institution: str = Field(default="", max_length=80)  # for a publisher: whose services
    granted_at: dt.datetime
    granted_by: str = Field(max_length=100)


class WebSession(SQLModel, table=True):
    __tablename__ = "web_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    provider_sid: str | None = Field(default=None, max_length=255, index=True)
    acr: str = Field(max_length=100)
    id_token: str = Field(max_length=8000)  # the hint for RP-initiated logout; no NIN in it
    attributes_sealed: str = Field(default="", max_length=2000)  # see portal.identity.attributes
    created_at: dt.datetime
    last_seen_at: dt.datetime
    expires_at: dt.datetime  # the absolute limit; idleness is counted from last_seen_at


class SignInTransaction(SQLModel, table=True):
    """One sign-in or sign-out on its way through the provider: single use, short lived."""

    __tablename__ = "sign_in_transaction"

    id: int | None = Field(default=None, primary_key=True)
    state_hash: str = Field(max_length=64, unique=True)
    kind: str = Field(max_length=10)  # sign_in, sign_out
    visitor_hash: str = Field(max_length=64)  # the browser that started it must finish it
    payload: str = Field(max_length=2000)  # the library's transaction (nonce, PKCE verifier...)
    return_to: str = Field(max_length=300)
    created_at: dt.datetime = Field(index=True)


class LogoutTokenSeen(SQLModel, table=True):
    """`jti`s of back-channel logout tokens already acted on, until they would have expired."""

    __tablename__ = "logout_token_seen"

    jti: str = Field(primary_key=True, max_length=255)
    expires_at: dt.datetime = Field(index=True)


class SignInEvent(SQLModel, table=True):
    """The sign-in audit: what happened, to which pairwise `sub`, never the NIN."""

    __tablename__ = "sign_in_event"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=30, index=True)  # sign_in, sign_in_failed, sign_out, ...
    sub: str | None = Field(default=None, max_length=255, index=True)
    reason: str | None = Field(default=None, max_length=60)
    at: dt.datetime = Field(index=True)
