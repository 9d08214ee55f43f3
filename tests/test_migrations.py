"""Migrations: one head, and upgrading an empty database gives exactly the models' schema."""

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from portal.config import PROJECT_ROOT
from portal.db import metadata


def test_single_head() -> None:
    script = ScriptDirectory.from_config(Config(str(PROJECT_ROOT / "alembic.ini")))
    assert len(script.get_heads()) == 1


def test_upgraded_database_matches_models(engine: Engine) -> None:
    # The session's engine fixture built this database from empty by `upgrade head`.
    with engine.connect() as connection:
        context = MigrationContext.configure(connection)
        assert context.get_current_revision() is not None
        differences = compare_metadata(context, metadata)
    assert differences == []
