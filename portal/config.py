"""Settings: one object, read from `MLANGO_*` environment variables, validated at start-up.

Tests build `Settings(...)` explicitly instead of editing the environment. In production the
object refuses the development defaults (SQLite, plain HTTP).
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = PROJECT_ROOT / "templates"
STATIC_DIR = PROJECT_ROOT / "static"


class Environment(StrEnum):
    development = "development"
    test = "test"
    production = "production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MLANGO_", extra="forbid", frozen=True)

    environment: Environment = Environment.development
    database_url: str = f"sqlite:///{PROJECT_ROOT / 'mlango.db'}"
    base_url: str = Field(
        default="http://127.0.0.1:8000", description="public address, used in JSON-LD and links"
    )
    seed_dir: Path = PROJECT_ROOT / "seed_data"
    log_level: str = "info"

    @property
    def production(self) -> bool:
        return self.environment is Environment.production

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
