"""Resources: the dbt CLI, pointed at the same database as the rest of Pulse.

``pulse.database.database_url()`` (``DATABASE_URL`` or the embedded server) is
resolved when dbt runs, not when the definitions load, and reaches dbt's
profile through ``pulse.dbt.dbt_env`` (the ``PULSE_DB_*`` variables), so the
UI never shows a password and every caller builds the same database.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import psycopg
from dagster import AssetExecutionContext, ConfigurableResource, OpExecutionContext
from dagster_dbt import DagsterDbtTranslator, DbtCliInvocation, DbtCliResource
from dagster_dbt.dbt_manifest import DbtManifestParam
from pydantic import Field

from orchestration.project import dbt_project
from pulse import dbt as pulse_dbt
from pulse.database import connect, database_url
from pulse.dbt import DBT_PROJECT_DIR, build_env, dbt_env, dbt_executable, reuse_parse
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
        """Start one dbt command with the database's connection variables in its environment.

        Without a ``target_path``, the command's target folder starts with the parse state saved for this database
        (pulse.dbt.reuse_parse); :meth:`keep_parse` saves it back once the command is done.
        """
        connection = self.connection_env()
        if target_path is None:
            run = f"{context.op_execution_context.op.name}-{context.run.run_id[:7]}-" if context is not None else ""
            target_path = DBT_PROJECT_DIR / "target" / f"{run}{uuid.uuid4().hex[:7]}"
            reuse_parse(target_path, connection)
        # dagster-dbt copies os.environ into the dbt process (and its adapter handle) when the command starts.
        # "buildable": a test runs with the models it tests; a relationship test of a daily mart to a staging view
        # runs with the mart (its other parent is upstream), never with the view alone, before the mart exists.
        # dagster-dbt still overrides it when it narrows the checks of a run.
        with _environment({**connection, "DBT_INDIRECT_SELECTION": "buildable"}):
            return super().cli(
                args,
                raise_on_error=raise_on_error,
                manifest=manifest,
                dagster_dbt_translator=dagster_dbt_translator,
                context=context,
                target_path=target_path,
            )

    def build(
        self,
        args: Sequence[str],
        dbt_vars: dict[str, str],
        *,
        context: OpExecutionContext | AssetExecutionContext | None = None,
        manifest: DbtManifestParam | None = None,
    ) -> DbtCliInvocation:
        """Start ``dbt <args>`` with the build's vars (pulse.dbt.build_vars) as pulse.dbt.build_env's variables.

        Not ``--vars``: dbt parses the whole project again whenever those change (each new date range).
        """
        with _environment(build_env(dbt_vars)):
            return self.cli(args, context=context, manifest=manifest)

    def keep_parse(self, invocation: DbtCliInvocation) -> None:
        """Save a finished command's parse state for the next command on this database."""
        pulse_dbt.keep_parse(invocation.target_path, self.connection_env())


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
