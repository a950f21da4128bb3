"""Pulse's configuration: one pydantic-settings class, read from the environment."""

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from pulse import REPO_ROOT


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


@lru_cache
def get_settings() -> Settings:
    """The process's settings, read once."""
    return Settings()
