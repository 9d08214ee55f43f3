"""Alembic environment: the models' metadata and the database address from portal settings."""

from alembic import context

# Importing each domain's models registers its tables in the metadata.
from portal.audit import models as audit_models  # noqa: F401
from portal.bus import models as bus_models  # noqa: F401
from portal.catalogue import models as catalogue_models  # noqa: F401
from portal.config import Settings
from portal.curation import models as curation_models  # noqa: F401
from portal.db import engine_create, metadata
from portal.feedback import models as feedback_models  # noqa: F401
from portal.identity import models as identity_models  # noqa: F401
from portal.outbox import models as outbox_models  # noqa: F401
from portal.publishing import models as publishing_models  # noqa: F401
from portal.search import models as search_models  # noqa: F401

config = context.config
url = config.attributes.get("database_url") or Settings().database.url


def run_migrations_offline() -> None:
    context.configure(url=url, target_metadata=metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = engine_create(url)
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        engine.dispose()


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
