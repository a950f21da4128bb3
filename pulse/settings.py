"""Pulse's configuration: one pydantic-settings class, read from the environment."""

from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

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
    partitions_start: date = Field(
        default=date(2023, 1, 1),
        description="First local date of the daily partitions (the Dagster UI lists and backfills from it).",
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
    api_cache_enabled: bool = Field(
        default=True, description="Cache analytics responses per API process, dropped by the builds' NOTIFY."
    )
    api_cache_max_entries: int = Field(
        default=10000, ge=1, description="Responses each API process caches at most (least recently used go)."
    )
    api_token_cache_max_entries: int = Field(
        default=10000,
        ge=0,
        description="Verified bearer tokens each API process remembers until their `exp` (0: verify every request).",
    )

    # The front end (web/): where its build is, and the other origins allowed to call the API from a browser.
    web_dist_dir: Path = Field(
        default=REPO_ROOT / "web" / "dist", description="The built front end `pulse serve` serves at /."
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Origins (comma-separated, e.g. https://app.example.com) allowed by CORS; none by default.",
    )

    @field_validator("cors_origins", mode="before")
    @classmethod
    def comma_separated(cls, value: object) -> object:
        """``PULSE_CORS_ORIGINS=https://a.example,https://b.example`` is a list of two origins."""
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    alert_webhook_url: str | None = Field(
        default=None,
        description="Slack-compatible incoming webhook that gets a message when a Dagster run has failed for good.",
    )
    features: str = Field(
        default="",
        description="Features served in production, comma-separated (goals, dashboard, export); elsewhere all are.",
    )

    # Least privilege and bounded input (issue 21): the service roles' passwords, the analyst role's
    # limits (role settings written by `pulse db init`), request size limits and outage behaviour.
    api_db_password: str | None = Field(
        default=None,
        description="Password of the API's role pulse_api (unset: generated under data_dir for the embedded server).",
    )
    transform_db_password: str | None = Field(
        default=None,
        description="Password of dbt's and Dagster's role pulse_transform (unset: generated as above).",
    )
    analyst_statement_timeout_ms: int = Field(default=60000, ge=1, description="statement_timeout of pulse_analyst.")
    analyst_lock_timeout_ms: int = Field(default=2000, ge=1, description="lock_timeout of pulse_analyst.")
    analyst_idle_in_transaction_timeout_ms: int = Field(
        default=30000, ge=1, description="idle_in_transaction_session_timeout of pulse_analyst."
    )
    analyst_connection_limit: int = Field(default=5, ge=1, description="Most concurrent sessions of pulse_analyst.")
    build_lock_timeout_ms: int = Field(
        default=1000, ge=1, description="lock_timeout of dbt's sessions: how long a build queues requests behind it."
    )
    build_lock_retries: int = Field(default=6, ge=0, description="Runs of a build that gave up waiting for a lock.")
    api_max_body_bytes: int = Field(default=65536, ge=1, description="Largest request body the API reads (413 above).")
    api_max_header_bytes: int = Field(
        default=16384, ge=1024, description="Largest request head (request line and headers) the API takes (431 above)."
    )
    api_connect_timeout: float = Field(
        default=1.0, gt=0, description="Seconds the API waits for a new database connection before a 503."
    )
    api_reconnect_max_seconds: float = Field(
        default=1.0, gt=0, description="Longest pause between the API pool's reconnection attempts."
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
