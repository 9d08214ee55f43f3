"""Settings: one object, read from `MLANGO_*` environment variables, validated at start-up.

Tests build `Settings(...)` explicitly instead of editing the environment. In production the
object refuses the development defaults (SQLite, plain HTTP).
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = PROJECT_ROOT / "templates"
STATIC_DIR = PROJECT_ROOT / "static"


class Environment(StrEnum):
    development = "development"
    test = "test"
    production = "production"


class Settings(BaseSettings):
    # hide_input_in_errors: a refused setting must not print the others, keys included.
    model_config = SettingsConfigDict(
        env_prefix="MLANGO_", extra="forbid", frozen=True, hide_input_in_errors=True
    )

    environment: Environment = Environment.development
    database_url: str = f"sqlite:///{PROJECT_ROOT / 'mlango.db'}"
    base_url: str = Field(
        default="http://127.0.0.1:8000", description="public address, used in JSON-LD and links"
    )
    seed_dir: Path = PROJECT_ROOT / "seed_data"
    search_path: Path = Field(
        default=PROJECT_ROOT / "search.db", description="the embedded engine's file"
    )
    meilisearch_url: str | None = Field(
        default=None, description="use Meilisearch instead of the embedded engine"
    )
    meilisearch_search_key: SecretStr | None = None
    meilisearch_admin_key: SecretStr | None = None
    meilisearch_timeout: float = 5.0
    log_level: str = "info"

    @property
    def production(self) -> bool:
        return self.environment is Environment.production

    @model_validator(mode="after")
    def _meilisearch_keys(self) -> Settings:
        if self.meilisearch_url and not (
            self.meilisearch_search_key and self.meilisearch_admin_key
        ):
            raise ValueError(
                "MLANGO_MEILISEARCH_URL needs MLANGO_MEILISEARCH_SEARCH_KEY and"
                " MLANGO_MEILISEARCH_ADMIN_KEY (a search-only key and an admin key)"
            )
        return self

    @model_validator(mode="after")
    def _refuse_insecure_production(self) -> Settings:
        if not self.production:
            return self
        problems = []
        if self.database_url.startswith("sqlite"):
            problems.append("MLANGO_DATABASE_URL must point at PostgreSQL, not SQLite")
        if not self.base_url.startswith("https://"):
            problems.append("MLANGO_BASE_URL must be an https:// address")
        if problems:
            raise ValueError("refusing insecure production settings: " + "; ".join(problems))
        return self
