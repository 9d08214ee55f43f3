"""Settings: sections read from the environment, unknown names refused, insecure production
refused, secrets never shown."""

import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from portal.cli import main
from portal.config import (
    DatabaseSettings,
    Environment,
    IdentitySettings,
    MeilisearchSettings,
    SearchSettings,
    Settings,
)

GOOD: dict[str, Any] = {
    "environment": Environment.production,
    "database": DatabaseSettings(url="postgresql+psycopg://mlango@db/mlango"),
    "base_url": "https://mlango.go.tz",
    "secret_key": "k" * 40,
    "identity": IdentitySettings(nin_key=SecretStr("n" * 40)),
}


def test_a_proper_production_configuration_is_accepted() -> None:
    assert Settings(**GOOD).production


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("database", DatabaseSettings(url="sqlite:///mlango.db"), "MLANGO_DATABASE_URL"),
        ("base_url", "http://mlango.go.tz", "MLANGO_BASE_URL"),
        ("secret_key", "short", "MLANGO_SECRET_KEY"),
        ("identity", IdentitySettings(), "MLANGO_IDENTITY_NIN_KEY"),
    ],
)
def test_production_refuses_insecure_settings(field: str, value: object, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Settings(**{**GOOD, field: value})


def test_production_refuses_the_development_key() -> None:
    with pytest.raises(ValidationError, match="MLANGO_SECRET_KEY"):
        Settings(**{key: value for key, value in GOOD.items() if key != "secret_key"})


def test_development_defaults_are_allowed_outside_production() -> None:
    assert not Settings(environment=Environment.development).production


def test_each_section_reads_its_own_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLANGO_DATABASE_URL", "postgresql+psycopg://a@b/c")
    monkeypatch.setenv("MLANGO_SEARCH_PATH", "/srv/mlango/search.db")
    monkeypatch.setenv("MLANGO_MEILISEARCH_URL", "http://127.0.0.1:7700")
    monkeypatch.setenv("MLANGO_MEILISEARCH_SEARCH_KEY", "s" * 20)
    monkeypatch.setenv("MLANGO_MEILISEARCH_ADMIN_KEY", "a" * 20)
    monkeypatch.setenv("MLANGO_MEILISEARCH_TIMEOUT", "2.5")
    monkeypatch.setenv("MLANGO_BASE_URL", "https://mlango.example")
    settings = Settings()
    assert settings.database.url == "postgresql+psycopg://a@b/c"
    assert settings.search.path == Path("/srv/mlango/search.db")
    assert settings.meilisearch.url == "http://127.0.0.1:7700"
    assert settings.meilisearch.timeout == 2.5
    assert settings.meilisearch.admin_key == SecretStr("a" * 20)
    assert settings.base_url == "https://mlango.example"


@pytest.mark.parametrize(
    ("typo", "suggestion"),
    [
        ("MLANGO_DATABSE_URL", "MLANGO_DATABASE_URL"),
        ("MLANGO_MEILISEARCH_ADMINKEY", "MLANGO_MEILISEARCH_ADMIN_KEY"),
        ("MLANGO_SECRETKEY", "MLANGO_SECRET_KEY"),
    ],
)
def test_a_misspelt_variable_stops_start_up_naming_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], typo: str, suggestion: str
) -> None:
    monkeypatch.setenv(typo, "TOPSECRET-value")
    with pytest.raises(ValidationError, match=f"{typo} \\(did you mean {suggestion}\\?\\)"):
        Settings()
    assert main(["migrate"]) == 2
    error = capsys.readouterr().err
    assert typo in error
    assert "TOPSECRET" not in error


def test_the_readme_table_lists_exactly_the_known_variables() -> None:
    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `(MLANGO_[A-Z_]+)` \|", readme, flags=re.MULTILINE))
    assert documented == Settings.known_variables()


def test_refused_settings_never_show_a_secret() -> None:
    with pytest.raises(ValidationError) as raised:
        Settings(
            meilisearch=MeilisearchSettings(
                url="http://127.0.0.1:7700", admin_key=SecretStr("TOPSECRET-KEY")
            )
        )
    assert "MLANGO_MEILISEARCH_SEARCH_KEY" in str(raised.value)
    assert "TOPSECRET" not in str(raised.value)
    shown = Settings(
        meilisearch=MeilisearchSettings(
            url="http://127.0.0.1:7700",
            search_key=SecretStr("TOPSECRET-1"),
            admin_key=SecretStr("TOPSECRET-2"),
        ),
        search=SearchSettings(),
    )
    assert "TOPSECRET" not in repr(shown)
