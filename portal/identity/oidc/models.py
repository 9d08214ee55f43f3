"""The values the library hands to its caller: what to store, and what a sign-in proved."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Transaction:
    """One sign-in attempt, from the redirect to the provider until the callback.

    The caller keeps it **server-side**, keyed to the browser session (never in a cookie the
    browser can read), hands it back to `RelyingParty.callback`, and deletes it on that first use
    whatever the outcome, so a replayed callback finds nothing. `transaction_dump` and
    `transaction_load` turn it into JSON text and back for storage.
    """

    state: str = field(repr=False)
    nonce: str = field(repr=False)
    code_verifier: str = field(repr=False)
    issuer: str
    redirect_uri: str
    acr: str
    max_age: int | None
    created_at: datetime


def transaction_dump(transaction: Transaction) -> str:
    """The transaction as JSON text, to store server-side (it holds secrets: never in a cookie)."""
    return json.dumps(
        {
            "state": transaction.state,
            "nonce": transaction.nonce,
            "code_verifier": transaction.code_verifier,
            "issuer": transaction.issuer,
            "redirect_uri": transaction.redirect_uri,
            "acr": transaction.acr,
            "max_age": transaction.max_age,
            "created_at": transaction.created_at.isoformat(),
        },
        separators=(",", ":"),
    )


def transaction_load(payload: str) -> Transaction:
    """The transaction `transaction_dump` stored; ValueError when it is not one."""
    try:
        data = json.loads(payload)
        created_at = datetime.fromisoformat(data["created_at"])
        max_age = data["max_age"]
        fields = {
            name: data[name]
            for name in ("state", "nonce", "code_verifier", "issuer", "redirect_uri", "acr")
        }
    except (KeyError, TypeError, ValueError):
        raise ValueError("not a stored transaction") from None
    if not all(isinstance(v, str) for v in fields.values()) or created_at.tzinfo is None:
        raise ValueError("not a stored transaction")
    if max_age is not None and (not isinstance(max_age, int) or isinstance(max_age, bool)):
        raise ValueError("not a stored transaction")
    return Transaction(created_at=created_at, max_age=max_age, **fields)


@dataclass(frozen=True)
class SignedIn:
    """What a completed sign-in proved about the person.

    Link accounts on (`issuer`, `sub`), the provider's pairwise subject, never on an attribute.
    `claims` merges userinfo with the ID token's claims (the signed ID token wins a clash).
    `id_token` is the raw token, kept server-side for `id_token_hint` at logout. `sid` is the
    provider's session id, to match back-channel logout tokens with.
    """

    issuer: str
    sub: str
    acr: str
    amr: tuple[str, ...]
    sid: str | None
    auth_time: datetime | None
    claims: Mapping[str, Any] = field(repr=False)
    id_token: str = field(repr=False)
    expires_at: datetime


@dataclass(frozen=True)
class LogoutClaims:
    """A valid back-channel logout: end the sessions of `sid` (or else of every session of `sub`).

    The library cannot know which `jti` it has seen before: the caller must refuse a `jti` it has
    already recorded for this issuer, and remember each one at least until `expires_at`.
    """

    issuer: str
    sub: str | None
    sid: str | None
    jti: str
    issued_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class ProviderMetadata:
    """The provider's checked discovery document: the fields the library relies on, and the rest."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None
    end_session_endpoint: str | None
    iss_parameter_supported: bool
    id_token_algorithms: tuple[str, ...]
    raw: Mapping[str, Any] = field(repr=False, compare=False)
