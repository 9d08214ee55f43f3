"""Accounts, sessions, sign-in transactions, role grants and the logout replay store, on the
real database (each test in its own rolled-back transaction)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from sqlalchemy.engine import Connection
from sqlmodel import Session, select

from portal.cli import main
from portal.config import Settings
from portal.db import unit_of_work
from portal.identity import selectors, services
from portal.identity.models import RoleGrant, User

NOW = dt.datetime(2026, 12, 4, 9, 0, tzinfo=dt.UTC)
ISSUER = "http://127.0.0.1:8001"
IDLE = dt.timedelta(minutes=30)


@pytest.fixture
def person(db: Connection) -> User:
    with unit_of_work(db) as session:
        user = services.user_signed_in(
            session=session,
            issuer=ISSUER,
            sub="pairwise-1",
            name="Asha Juma",
            nin_digest=services.nin_hash(nin="19900101123450000123", key="k"),
            now=NOW,
        )
    return user


def _start(db: Connection, user: User, *, sid: str | None = "sid-1") -> str:
    with unit_of_work(db) as session:
        return services.session_start(
            session=session,
            user=user,
            acr="urn:tz:nida:loa:substantial",
            id_token="header.payload.signature",
            provider_sid=sid,
            attributes={},
            now=NOW,
            lifetime=dt.timedelta(hours=12),
        )


def _live(db: Connection, token: str, at: dt.datetime) -> bool:
    with Session(db) as session:
        return (
            selectors.session_by_token(session=session, token=token, now=at, idle=IDLE) is not None
        )


def test_a_person_is_found_again_by_the_providers_pairwise_sub(
    db: Connection, person: User
) -> None:
    with unit_of_work(db) as session:
        again = services.user_signed_in(
            session=session,
            issuer=ISSUER,
            sub="pairwise-1",
            name="Asha J.",
            nin_digest=None,
            now=NOW,
        )
        other = services.user_signed_in(
            session=session,
            issuer="http://other",
            sub="pairwise-1",
            name="X",
            nin_digest=None,
            now=NOW,
        )
    assert again.id == person.id
    assert again.name == "Asha J."
    assert again.nin_hash == person.nin_hash  # kept when a sign-in brings no NIN
    assert other.id != person.id


def test_the_nin_is_kept_only_as_a_keyed_hash(person: User) -> None:
    assert person.nin_hash is not None
    assert "1990" not in person.nin_hash
    assert person.nin_hash != services.nin_hash(nin="19900101123450000123", key="another key")
    assert "19900101123450000123" not in repr(person.model_dump())


def test_a_session_ends_when_idle_or_too_old(db: Connection, person: User) -> None:
    token = _start(db, person)
    assert _live(db, token, NOW + dt.timedelta(minutes=29))
    assert not _live(db, token, NOW + dt.timedelta(minutes=31))  # idle
    with unit_of_work(db) as session:
        found = selectors.session_by_token(session=session, token=token, now=NOW, idle=IDLE)
        assert found is not None
        for minutes in range(25, 12 * 60, 25):  # kept busy all day
            services.session_touch(
                session=session, web_session=found[0], now=NOW + dt.timedelta(minutes=minutes)
            )
    assert not _live(db, token, NOW + dt.timedelta(hours=12, minutes=1))  # absolute limit
    assert not _live(db, "not-a-token", NOW)


def test_the_cookie_value_is_not_stored(db: Connection, person: User) -> None:
    token = _start(db, person)
    with Session(db) as session:
        stored = selectors.sessions_of(session=session, user_id=person.id or 0)
    assert [s.token_hash for s in stored] == [services.digest(token)]


def test_sign_out_everywhere_and_back_channel_logout_end_the_right_sessions(
    db: Connection, person: User
) -> None:
    first, second = _start(db, person, sid="sid-1"), _start(db, person, sid="sid-2")
    with unit_of_work(db) as session:
        ended = services.sessions_end_from_provider(
            session=session, issuer=ISSUER, sub=None, sid="sid-1"
        )
        unknown = services.sessions_end_from_provider(
            session=session, issuer="http://other", sub="pairwise-1", sid=None
        )
    assert (ended, unknown) == (1, 0)
    assert not _live(db, first, NOW)
    assert _live(db, second, NOW)
    with unit_of_work(db) as session:
        assert services.sessions_end_for_user(session=session, user_id=person.id or 0) == 1
    assert not _live(db, second, NOW)


@pytest.mark.parametrize(
    ("state", "kind", "visitor", "later"),
    [
        ("other-state", "sign_in", "browser-a", 0),
        ("the-state", "sign_out", "browser-a", 0),
        ("the-state", "sign_in", "browser-b", 0),
        ("the-state", "sign_in", "browser-a", 11),
    ],
    ids=["unknown state", "other kind", "other browser", "expired"],
)
def test_a_transaction_is_refused_unless_all_matches(
    db: Connection, state: str, kind: str, visitor: str, later: int
) -> None:
    with unit_of_work(db) as session:
        services.transaction_store(
            session=session,
            state="the-state",
            kind="sign_in",
            visitor="browser-a",
            payload="{}",
            return_to="/",
            now=NOW,
        )
    with unit_of_work(db) as session:
        taken = services.transaction_take(
            session=session,
            state=state,
            kind=kind,
            visitor=visitor,
            now=NOW + dt.timedelta(minutes=later),
        )
    assert taken is None


def test_a_transaction_is_used_once(db: Connection) -> None:
    with unit_of_work(db) as session:
        services.transaction_store(
            session=session,
            state="s" * 43,
            kind="sign_in",
            visitor="b",
            payload="{}",
            return_to="/x",
            now=NOW,
        )
    with unit_of_work(db) as session:
        first = services.transaction_take(
            session=session, state="s" * 43, kind="sign_in", visitor="b", now=NOW
        )
        second = services.transaction_take(
            session=session, state="s" * 43, kind="sign_in", visitor="b", now=NOW
        )
    assert first is not None
    assert first.return_to == "/x"
    assert second is None


def test_a_logout_token_is_acted_on_once(db: Connection) -> None:
    expires = NOW + dt.timedelta(minutes=2)
    with unit_of_work(db) as session:
        assert services.logout_token_first_use(
            session=session, jti="j1", expires_at=expires, now=NOW
        )
        assert not services.logout_token_first_use(
            session=session, jti="j1", expires_at=expires, now=NOW
        )
        assert services.logout_token_first_use(
            session=session, jti="j2", expires_at=expires, now=NOW
        )


def test_an_operator_grants_a_role_to_a_nin_typed_on_standard_input(
    db: Connection,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("19900101-12345-00001-23\n"))
    assert (
        main(["admin", "grant", "publisher", "--institution", "tra"], settings=settings, bind=db)
        == 0
    )
    assert "publisher of tra given" in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.StringIO("19900101 12345 00001 23\n"))
    assert (
        main(["admin", "grant", "publisher", "--institution", "tra"], settings=settings, bind=db)
        == 0
    )
    assert "was already held" in capsys.readouterr().out
    key = settings.identity.nin_key.get_secret_value()
    with Session(db) as session:
        grants = session.exec(select(RoleGrant)).all()
    assert [
        (g.role, g.institution)
        for g in grants
        if g.nin_hash == services.nin_hash(nin="19900101123450000123", key=key)
    ] == [("publisher", "tra")]
    assert all("1990" not in g.nin_hash for g in grants)


@pytest.mark.parametrize(
    ("argv", "typed", "message"),
    [
        (["admin", "grant", "publisher"], "19900101123450000123", "needs an institution"),
        (["admin", "grant", "king"], "19900101123450000123", "unknown role"),
        (["admin", "grant", "curator"], "1234", "20 digits"),
    ],
)
def test_a_grant_that_makes_no_sense_is_refused(
    db: Connection,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    typed: str,
    message: str,
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(typed + "\n"))
    assert main(argv, settings=settings, bind=db) == 2
    error = capsys.readouterr().err
    assert message in error
    assert typed not in error
