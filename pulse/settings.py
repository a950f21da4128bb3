"""Pulse's configuration: one pydantic-settings class, read from the environment."""

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from pulse import REPO_ROOT

# The development-only JWT secret; any other environment refuses to start with it.
JWT_SECRET_PLACEHOLDER = "pulse-development-secret-change-me-0123456789"  # noqa: S105 - a placeholder, refused outside development


class Settings(BaseSettings):
    """Every setting Pulse reads; each comes from an environment variable named in its alias."""

    model_config = SettingsConfigDict(env_prefix="PULSE_", extra="ignore", env_file=".env")

    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "PULSE_DATABASE_URL"),
        description="PostgreSQL 15+ URL; unset means the embedded server under data_dir.",
    )
    data_dir: Path = Field(
        default=REPO_ROOT / ".pulse",
        description="Folder (inside the checkout) holding the embedded PostgreSQL and local state.",
    )
    database_name: str = Field(default="pulse", description="Database created and used on the embedded server.")
    env: Literal["development", "test", "production"] = Field(
        default="development", description="Deployment environment."
    )
    analyst_password: str | None = Field(
        default=None,
        description="Password given to the read-only role pulse_analyst (none: it cannot log in by password).",
    )

    # The API (api/): token checks, connection pool, server.
    jwt_secret: str = Field(
        default=JWT_SECRET_PLACEHOLDER,
        min_length=32,
        description="HS256 secret of the API bearer tokens; the placeholder works only in development.",
    )
    jwt_audience: str | None = Field(default=None, description="When set, tokens must carry this `aud`.")
    jwt_issuer: str | None = Field(default=None, description="When set, tokens must carry this `iss` (and get it).")
    jwt_leeway_seconds: int = Field(default=30, ge=0, le=600, description="Clock skew allowed on `exp`/`iat`/`nbf`.")
    jwt_default_expires_in: int = Field(default=3600, gt=0, description="Lifetime in seconds of `pulse token` tokens.")
    api_host: str = Field(default="127.0.0.1", description="Address `pulse serve` listens on.")
    api_port: int = Field(default=8000, ge=1, le=65535, description="Port `pulse serve` listens on.")
    dagster_port: int = Field(
        default=3000, ge=1, le=65535, description="Port of the Dagster webserver `pulse demo` starts."
    )
    api_pool_min_size: int = Field(default=2, ge=0, description="Connections the API's pool keeps open.")
    api_pool_max_size: int = Field(default=16, ge=1, description="Most connections the API's pool opens.")
    api_pool_timeout: float = Field(default=10.0, gt=0, description="Seconds a request waits for a pooled connection.")
    api_statement_timeout_ms: int = Field(
        default=15000, ge=0, description="statement_timeout of API queries (0: none)."
    )
    wait_timeout_seconds: float = Field(
        default=600.0,
        gt=0,
        description="Longest `pulse build` / `pulse refresh` wait for a run in flight or the warehouse pool slot.",
    )

    @field_validator("jwt_audience", "jwt_issuer", mode="before")
    @classmethod
    def empty_means_unset(cls, value: object) -> object:
        """An empty variable (``PULSE_JWT_AUDIENCE=``, as compose passes an unset one) means "not checked"."""
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def refuse_placeholder_secret(self) -> "Settings":
        """Outside development the JWT secret must be a real one, not the shipped placeholder."""
        if self.env != "development" and self.jwt_secret == JWT_SECRET_PLACEHOLDER:
            raise ValueError(
                f"PULSE_JWT_SECRET is the development placeholder but PULSE_ENV is {self.env!r}:"
                " set PULSE_JWT_SECRET to a random string of at least 32 characters"
            )
        return self


@lru_cache
def get_settings() -> Settings:
    """The process's settings, read once."""
    return Settings()
