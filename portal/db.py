"""Database engine and the unit of work, with after-commit hooks.

One transaction per request: the `DbSession` dependency commits as soon as the route returns,
before any byte of the response is sent, and rolls back when the route or the commit raises (the
error handlers then answer 500). Services flush, never commit. Side effects that must not happen
unless the data is saved (dispatching the outbox, e-mails) are registered with `after_commit`.

Everything that opens sessions takes a `Bind`: the engine, or in tests one connection inside a
transaction that is rolled back afterwards (each unit of work is then a savepoint).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from alembic.config import Config as AlembicConfig
from fastapi import Depends, Request
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, SQLModel, create_engine

from alembic import command
from portal.config import PROJECT_ROOT

logger = logging.getLogger("portal.db")

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
# Every domain's models import this module first, so constraints get predictable names.
SQLModel.metadata.naming_convention = NAMING_CONVENTION
metadata = SQLModel.metadata

Bind = Engine | Connection
AFTER_COMMIT = "after_commit"


def engine_create(database_url: str) -> Engine:
    """Build the engine; SQLite gets WAL, a busy timeout and enforced foreign keys."""
    if database_url.startswith("sqlite"):
        engine = create_engine(
            database_url, connect_args={"check_same_thread": False, "timeout": 30}
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(connection: Any, _record: Any) -> None:
            cursor = connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        return engine
    return create_engine(database_url, pool_pre_ping=True)


def after_commit(session: Session, hook: Callable[[], None]) -> None:
    """Run `hook` once this unit of work has committed; never if it rolls back."""
    session.info.setdefault(AFTER_COMMIT, []).append(hook)


def _run_after_commit(session: Session) -> None:
    for hook in session.info.pop(AFTER_COMMIT, []):
        try:
            hook()
        except Exception:  # the data is saved; a side effect that fails is retried elsewhere
            logger.exception("an after-commit hook failed")


def session_open(bind: Bind) -> Session:
    """A session on the engine, or a savepoint inside a test's connection."""
    if isinstance(bind, Connection):
        return Session(bind=bind, expire_on_commit=False, join_transaction_mode="create_savepoint")
    return Session(bind, expire_on_commit=False)


@contextmanager
def unit_of_work(bind: Bind) -> Iterator[Session]:
    """A session whose work is committed together, or not at all; then its after-commit hooks."""
    with session_open(bind) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            session.info.pop(AFTER_COMMIT, None)
            raise
    _run_after_commit(session)


def _request_session(request: Request) -> Iterator[Session]:
    with unit_of_work(request.app.state.bind) as session:
        yield session


# scope="function": the exit (commit) runs when the route returns, before the response is sent,
# so a failed commit reaches the error handlers as a 500 instead of following a 200.
DbSession = Annotated[Session, Depends(_request_session, scope="function")]


def database_migrate(database_url: str, revision: str = "head") -> None:
    """Bring the database schema to `revision` with Alembic."""
    config = AlembicConfig(str(PROJECT_ROOT / "alembic.ini"))
    config.attributes["database_url"] = database_url
    command.upgrade(config, revision)
