"""Settings: one object, read from `MLANGO_*` environment variables, validated at start-up.

Tests build `Settings(...)` explicitly instead of editing the environment. In production the
object refuses the development defaults (SQLite, plain HTTP).
"""

from __future__ import annotations

import difflib
import os
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = PROJECT_ROOT / "templates"
STATIC_DIR = PROJECT_ROOT / "static"


DEVELOPMENT_SECRET = "development only: never use this key in production"  # noqa: S105


class Environment(StrEnum):
    development = "development"
    test = "test"
    production = "production"


class DatabaseSettings(BaseModel):
    """`MLANGO_DATABASE_*`: where everything that must survive a restart lives."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    url: str = Field(
        default=f"sqlite:///{PROJECT_ROOT / 'mlango.db'}", description="SQLAlchemy database URL"
    )


class SearchSettings(BaseModel):
    """`MLANGO_SEARCH_*`: the embedded engine, used when no Meilisearch is configured."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    path: Path = Field(default=PROJECT_ROOT / "search.db", description="the embedded engine's file")


class MeilisearchSettings(BaseModel):
    """`MLANGO_MEILISEARCH_*`: the production search engine."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    url: str | None = Field(default=None, description="use Meilisearch at this address")
    search_key: SecretStr | None = Field(default=None, description="search-only key (web)")
    admin_key: SecretStr | None = Field(default=None, description="indexing key (worker)")
    timeout: float = Field(default=5.0, gt=0, description="seconds before a request fails")


class IdentitySettings(BaseModel):
    """`MLANGO_IDENTITY_*`: sign-in with the NIN through the national-ID OpenID provider."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    discovery_url: str | None = Field(
        default=None, description="the provider's /.well-known/openid-configuration address"
    )
    client_id: str = Field(default="mlango", description="our client id at the provider")
    client_key: SecretStr | None = Field(
        default=None, description="private key (JWK JSON or PEM) for private_key_jwt"
    )
    client_key_file: Path | None = Field(default=None, description="the same, read from a file")
    client_secret: SecretStr | None = Field(
        default=None, description="for providers that only offer client_secret_basic"
    )
    nin_key: SecretStr = Field(
        default=SecretStr(DEVELOPMENT_SECRET), description="keys the hash under which NINs are kept"
    )
    session_idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    session_hours: int = Field(default=12, ge=1, le=7 * 24)


class BusSettings(BaseModel):
    """`MLANGO_BUS_*`: starting services at institutions through GovESB (unset: nobody can)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    url: str | None = Field(
        default=None, description="GovESB's address, e.g. https://govesb.gov.go.tz"
    )
    client_id: str = Field(default="", description="our client id at GovESB")
    client_secret: SecretStr | None = Field(default=None, description="our client secret there")
    private_key: SecretStr | None = Field(
        default=None, description="our EC private key (PEM or base64 DER) for signing"
    )
    private_key_file: Path | None = Field(default=None, description="the same, read from a file")
    esb_public_key: str | None = Field(
        default=None, description="GovESB's public key (PEM or base64 DER): checks its answers"
    )
    timeout: float = Field(default=10.0, gt=0, le=60, description="seconds before a call fails")
    bare_token: bool = Field(
        default=False, description='send the token without "Bearer " (older engines)'
    )
    async_path: str = Field(default="/async", description="or /async-response")
    launch_origins: str = Field(
        default="", description="institution systems citizens may be sent to (space-separated)"
    )

    @property
    def launch_origin_list(self) -> tuple[str, ...]:
        return tuple(self.launch_origins.split())

    @model_validator(mode="after")
    def _complete(self) -> BusSettings:
        for origin in self.launch_origin_list:
            parts = urlsplit(origin)
            if parts.scheme not in ("http", "https") or not parts.netloc or parts.path:
                raise ValueError(f"MLANGO_BUS_LAUNCH_ORIGINS: {origin!r} is not an origin")
        if not self.url:
            return self
        missing = [
            f"MLANGO_BUS_{name.upper()}"
            for name, value in (
                ("client_id", self.client_id),
                ("client_secret", self.client_secret),
                ("private_key", self.private_key or self.private_key_file),
                ("esb_public_key", self.esb_public_key),
            )
            if not value
        ]
        if missing:
            raise ValueError("MLANGO_BUS_URL needs " + ", ".join(missing))
        return self


class PublishingSettings(BaseModel):
    """`MLANGO_PUBLISHING_*`: the limits of a bulk import of service records."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    import_max_bytes: int = Field(
        default=2 * 1024 * 1024,
        ge=1024,
        le=64 * 1024 * 1024,
        description="the largest file (bytes) a publisher may import",
    )
    import_max_rows: int = Field(
        default=500, ge=1, le=10_000, description="the most services one import may hold"
    )


# Variables with our prefix that are not settings, so start-up must not refuse them.
NOT_SETTINGS = frozenset({"MLANGO_TEST_DATABASE_URL"})  # read by the test suite only


class Settings(BaseSettings):
    """Every setting, in one section per integration. `MLANGO_<SECTION>_<NAME>` sets a
    section's field, `MLANGO_<NAME>` a general one."""

    # hide_input_in_errors: a refused setting must not print the others, keys included.
    model_config = SettingsConfigDict(
        env_prefix="MLANGO_",
        env_nested_delimiter="_",
        env_nested_max_split=1,
        extra="forbid",
        frozen=True,
        hide_input_in_errors=True,
    )

    environment: Environment = Environment.development
    base_url: str = Field(
        default="http://127.0.0.1:8000", description="public address, used in JSON-LD and links"
    )
    seed_dir: Path = PROJECT_ROOT / "seed_data"
    log_level: str = "info"
    secret_key: SecretStr = Field(
        default=SecretStr(DEVELOPMENT_SECRET),
        description="signs CSRF tokens; production needs its own, of 32 characters or more",
    )
    database: DatabaseSettings = DatabaseSettings()
    search: SearchSettings = SearchSettings()
    meilisearch: MeilisearchSettings = MeilisearchSettings()
    identity: IdentitySettings = IdentitySettings()
    bus: BusSettings = BusSettings()
    publishing: PublishingSettings = PublishingSettings()

    @classmethod
    def known_variables(cls) -> frozenset[str]:
        """Every `MLANGO_*` name that sets something."""
        names = set(NOT_SETTINGS)
        for name, field in cls.model_fields.items():
            section = field.annotation
            if isinstance(section, type) and issubclass(section, BaseModel):
                names.update(f"MLANGO_{name}_{inner}".upper() for inner in section.model_fields)
            else:
                names.add(f"MLANGO_{name}".upper())
        return frozenset(names)

    @model_validator(mode="before")
    @classmethod
    def _no_unknown_variables(cls, values: Any) -> Any:
        """A misspelt variable (MLANGO_DATABSE_URL) stops start-up instead of being ignored."""
        known = cls.known_variables()
        unknown = sorted(
            n for n in os.environ if n.upper().startswith("MLANGO_") and n.upper() not in known
        )
        if unknown:
            hints = []
            for name in unknown:
                close = difflib.get_close_matches(name.upper(), known, n=1)
                hints.append(f"{name} (did you mean {close[0]}?)" if close else name)
            raise ValueError("unknown setting(s): " + ", ".join(hints))
        return values

    @property
    def production(self) -> bool:
        return self.environment is Environment.production

    @model_validator(mode="after")
    def _meilisearch_keys(self) -> Settings:
        if self.meilisearch.url and not (
            self.meilisearch.search_key and self.meilisearch.admin_key
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
        if self.database.url.startswith("sqlite"):
            problems.append("MLANGO_DATABASE_URL must point at PostgreSQL, not SQLite")
        if not self.base_url.startswith("https://"):
            problems.append("MLANGO_BASE_URL must be an https:// address")
        for name, key in (
            ("MLANGO_SECRET_KEY", self.secret_key),
            ("MLANGO_IDENTITY_NIN_KEY", self.identity.nin_key),
        ):
            if key.get_secret_value() == DEVELOPMENT_SECRET or len(key.get_secret_value()) < 32:
                problems.append(f"{name} must be set, to 32 random characters or more")
        if problems:
            raise ValueError("refusing insecure production settings: " + "; ".join(problems))
        return self
