"""Settings refuse insecure defaults in production and accept a proper production set."""

import pytest
from pydantic import ValidationError

from portal.config import Environment, Settings

GOOD = {
    "environment": Environment.production,
    "database_url": "postgresql+psycopg://mlango@db/mlango",
    "base_url": "https://mlango.go.tz",
}


def test_a_proper_production_configuration_is_accepted() -> None:
    assert Settings(**GOOD).production


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("database_url", "sqlite:///mlango.db", "MLANGO_DATABASE_URL"),
        ("base_url", "http://mlango.go.tz", "MLANGO_BASE_URL"),
    ],
)
def test_production_refuses_insecure_settings(field: str, value: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Settings(**{**GOOD, field: value})


def test_development_defaults_are_allowed_outside_production() -> None:
    assert not Settings(environment=Environment.development).production


def test_refused_settings_never_show_a_secret() -> None:
    with pytest.raises(ValidationError) as raised:
        Settings(meilisearch_url="http://127.0.0.1:7700", meilisearch_admin_key="TOPSECRET-KEY")
    assert "MLANGO_MEILISEARCH_SEARCH_KEY" in str(raised.value)
    assert "TOPSECRET" not in str(raised.value)
    assert "TOPSECRET" not in repr(
        Settings(
            meilisearch_url="http://127.0.0.1:7700",
            meilisearch_search_key="TOPSECRET-1",
            meilisearch_admin_key="TOPSECRET-2",
        )
    )
