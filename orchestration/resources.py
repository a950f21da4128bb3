"""Resources: the dbt CLI, pointed at the same database as the rest of Pulse.

``pulse.database.database_url()`` (``DATABASE_URL`` or the embedded server) is
resolved when dbt runs, not when the definitions load, and reaches dbt's
profile through ``pulse.dbt.dbt_env`` (the ``PULSE_DB_*`` variables), so the
UI never shows a password and every caller builds the same database.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import psycopg
from dagster import AssetExecutionContext, ConfigurableResource, OpExecutionContext
from dagster_dbt import DagsterDbtTranslator, DbtCliInvocation, DbtCliResource
from dagster_dbt.dbt_manifest import DbtManifestParam
from pydantic import Field

from orchestration.project import dbt_project
from pulse.database import connect, database_url
from pulse.dbt import dbt_env, dbt_executable
from pulse.roles import TRANSFORM_ROLE, role_url


@contextlib.contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables for the duration of the block, then restore them."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class PulseDbtCliResource(DbtCliResource):
    """dagster-dbt's ``DbtCliResource`` with the connection variables of Pulse's database."""

    database_url: str | None = Field(
        default=None,
        description="Database to build; unset means Pulse's own selection (DATABASE_URL or the embedded server).",
    )

    def connection_env(self) -> dict[str, str]:
        """The ``PULSE_DB_*`` variables of the database this resource builds."""
        return dbt_env(self.database_url or database_url())

    def cli(
        self,
        args: Sequence[str],
        *,
        raise_on_error: bool = True,
        manifest: DbtManifestParam | None = None,
        dagster_dbt_translator: DagsterDbtTranslator | None = None,
        context: OpExecutionContext | AssetExecutionContext | None = None,
        target_path: Path | None = None,
    ) -> DbtCliInvocation:
        """Start one dbt command with the database's connection variables in its environment."""
        # dagster-dbt copies os.environ into the dbt process (and its adapter handle) when the command starts.
        # "buildable": a test runs with the models it tests; a relationship test of a daily mart to a staging view
        # runs with the mart (its other parent is upstream), never with the view alone, before the mart exists.
        # dagster-dbt still overrides it when it narrows the checks of a run.
        with _environment({**self.connection_env(), "DBT_INDIRECT_SELECTION": "buildable"}):
            return super().cli(
                args,
                raise_on_error=raise_on_error,
                manifest=manifest,
                dagster_dbt_translator=dagster_dbt_translator,
                context=context,
                target_path=target_path,
            )


class PulseDatabase(ConfigurableResource):  # type: ignore[type-arg]
    """Pulse's database, for the change sensor's reads of the source and the marts."""

    url: str | None = Field(
        default=None,
        description="Database to read; unset means Pulse's own selection (DATABASE_URL or the embedded server).",
    )

    def connect(self) -> psycopg.Connection[tuple[object, ...]]:
        """A new autocommit connection (the caller closes it)."""
        return connect(role_url(self.url or database_url(), TRANSFORM_ROLE), autocommit=True)


def pulse_resources(url: str | None = None) -> dict[str, object]:
    """The resources of the definitions; ``url`` only for tests that build a database of their own."""
    return {
        "dbt": PulseDbtCliResource(
            project_dir=str(dbt_project.project_dir),
            profiles_dir=str(dbt_project.profiles_dir),
            # The venv's dbt even when the venv is not activated (make test, pulse run by full path).
            dbt_executable=dbt_executable(),
            database_url=url,
        ),
        "database": PulseDatabase(url=url),
    }
