"""dbt source freshness as Dagster asset checks: one ``source_freshness`` check per source that declares freshness.

The thresholds come from the dbt project (``freshness`` and ``loaded_at_field`` of each source in
the manifest, e.g. ``warn_after: {count: 1, period: day}``), so they are declared once, where dbt
declares them. The check measures what ``dbt source freshness`` measures, the lag ``now() -
max(loaded_at_field)``, in one query per table on the source database, without starting a dbt
process: past ``error_after`` it fails with severity ERROR, past ``warn_after`` with WARN, an empty
table fails with WARN. ``source_freshness_job`` runs every check; a schedule runs it hourly and the
asset catalog shows each source's latest result (lag and last load as metadata).
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetKey,
    AssetSelection,
    DefaultScheduleStatus,
    MetadataValue,
    ScheduleDefinition,
    define_asset_job,
    multi_asset_check,
)
from psycopg import sql

from orchestration.assets.dbt import translator
from orchestration.project import dbt_project
from orchestration.resources import PulseDatabase

CHECK_NAME = "source_freshness"
PERIOD_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


@dataclass(frozen=True)
class SourceFreshness:
    """One dbt source table with a freshness rule: where to look and when it is late."""

    key: AssetKey
    schema: str
    table: str
    loaded_at_field: str
    warn_after: timedelta | None
    error_after: timedelta | None

    def severity_of(self, lag: timedelta) -> AssetCheckSeverity | None:
        """ERROR past error_after, WARN past warn_after, None when fresh."""
        if self.error_after is not None and lag > self.error_after:
            return AssetCheckSeverity.ERROR
        if self.warn_after is not None and lag > self.warn_after:
            return AssetCheckSeverity.WARN
        return None


def _threshold(rule: dict[str, Any] | None) -> timedelta | None:
    """A dbt ``{count, period}`` threshold as a timedelta (None when unset)."""
    if not rule or rule.get("count") is None or rule.get("period") is None:
        return None
    return timedelta(seconds=int(rule["count"]) * PERIOD_SECONDS[rule["period"]])


def sources_with_freshness(manifest: dict[str, Any]) -> list[SourceFreshness]:
    """The manifest's sources that declare a loaded_at_field and a warn or error threshold."""
    found = []
    for source in manifest["sources"].values():
        freshness = source.get("freshness") or {}
        warn, error = _threshold(freshness.get("warn_after")), _threshold(freshness.get("error_after"))
        if not source.get("loaded_at_field") or (warn is None and error is None):
            continue
        found.append(
            SourceFreshness(
                key=translator.get_asset_key(source),
                schema=source["schema"],
                table=source["identifier"],
                loaded_at_field=source["loaded_at_field"],
                warn_after=warn,
                error_after=error,
            )
        )
    return sorted(found, key=lambda s: s.key.to_user_string())


@lru_cache
def _sources() -> tuple[SourceFreshness, ...]:
    manifest: dict[str, Any] = json.loads(Path(dbt_project.manifest_path).read_text())
    return tuple(sources_with_freshness(manifest))


def _describe(source: SourceFreshness) -> str:
    limits = (("warn after", source.warn_after), ("error after", source.error_after))
    text = ", ".join(f"{name} {limit}" for name, limit in limits if limit is not None)
    return f"dbt source freshness of {source.schema}.{source.table}: {text}"


def evaluate(source: SourceFreshness, conn: Any) -> AssetCheckResult:
    """The check result of one source table: its lag against the thresholds."""
    query = sql.SQL("select max({field}), now() - max({field}) from {table}").format(
        field=sql.Identifier(source.loaded_at_field), table=sql.Identifier(source.schema, source.table)
    )
    row = conn.execute(query).fetchone()
    limits = {
        "warn_after_seconds": source.warn_after.total_seconds() if source.warn_after else None,
        "error_after_seconds": source.error_after.total_seconds() if source.error_after else None,
    }
    metadata: dict[str, Any] = {k: v for k, v in limits.items() if v is not None}
    if row is None or row[0] is None:
        return AssetCheckResult(
            asset_key=source.key,
            check_name=CHECK_NAME,
            passed=False,
            severity=AssetCheckSeverity.WARN,
            description=f"{source.schema}.{source.table} has no rows: nothing was ever loaded",
            metadata=metadata,
        )
    last_loaded, lag = row
    severity = source.severity_of(lag)
    metadata |= {"max_loaded_at": MetadataValue.text(last_loaded.isoformat()), "lag_seconds": lag.total_seconds()}
    verdict = "fresh" if severity is None else f"late ({severity.value})"
    return AssetCheckResult(
        asset_key=source.key,
        check_name=CHECK_NAME,
        passed=severity is None,
        severity=severity or AssetCheckSeverity.WARN,
        description=f"{source.schema}.{source.table}: last loaded {lag} ago, {verdict}",
        metadata=metadata,
    )


@multi_asset_check(
    specs=[AssetCheckSpec(CHECK_NAME, asset=source.key, description=_describe(source)) for source in _sources()],
    can_subset=True,
    name="dbt_source_freshness",
)
def dbt_source_freshness(context: AssetCheckExecutionContext, database: PulseDatabase) -> Iterator[AssetCheckResult]:
    """The lag of every selected source table against its dbt freshness thresholds."""
    selected = context.selected_asset_check_keys
    with database.connect() as conn:
        for source in _sources():
            if any(check.asset_key == source.key for check in selected):
                yield evaluate(source, conn)


source_freshness_job = define_asset_job(
    name="source_freshness_job",
    selection=AssetSelection.checks(dbt_source_freshness),
    description="dbt source freshness of the app's tables, as asset checks (no dbt build).",
)

source_freshness_schedule = ScheduleDefinition(
    name="hourly_source_freshness",
    job=source_freshness_job,
    cron_schedule="45 * * * *",
    execution_timezone="UTC",
    default_status=DefaultScheduleStatus.RUNNING,
    description="Checks every hour that the app's tables are still being written (dbt source freshness).",
)
