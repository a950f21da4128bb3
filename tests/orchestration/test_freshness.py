"""dbt source freshness as asset checks: the real definitions' job, run in process on a real database."""

import uuid
from pathlib import Path

import psycopg
from dagster import AssetCheckSeverity, AssetKey, DagsterInstance

from orchestration.freshness import CHECK_NAME, sources_with_freshness


def test_every_source_with_freshness_in_the_manifest_has_a_check(dbt_manifest: Path) -> None:
    import json

    from orchestration.definitions import defs

    manifest = json.loads(dbt_manifest.read_text())
    declared = {
        ("app", s["name"])
        for s in manifest["sources"].values()
        if s.get("freshness", {}).get("warn_after", {}).get("count")
    }
    assert declared, "the project declares source freshness"
    checked = {
        tuple(key.asset_key.path) for key in defs.resolve_asset_graph().asset_check_keys if key.name == CHECK_NAME
    }
    assert checked == declared
    rules = {tuple(s.key.path): s for s in sources_with_freshness(manifest)}
    assert rules[("app", "tasks")].warn_after is not None and rules[("app", "tasks")].loaded_at_field == "updated_at"


def test_the_checks_warn_on_late_and_empty_tables_and_pass_fresh_ones(
    pulse_db: str, dbt_manifest: Path, instance: DagsterInstance
) -> None:
    from orchestration.definitions import build_definitions

    user = str(uuid.uuid4())
    with psycopg.connect(pulse_db) as conn:
        # users: last written three days ago (warn_after is one day); tasks: a minute ago; goals: empty.
        conn.execute(
            "insert into app.users (user_id, email, timezone, created_at, updated_at)"
            " values (%s, 'late@test', 'UTC', now() - interval '3 days', now() - interval '3 days')",
            (user,),
        )
        conn.execute(
            "insert into app.tasks (task_id, user_id, title, status, updated_at)"
            " values (%s, %s, 'fresh', 'pending', now() - interval '1 minute')",
            (str(uuid.uuid4()), user),
        )
    job = build_definitions(pulse_db).resolve_job_def("source_freshness_job")
    result = job.execute_in_process(instance=instance)
    assert result.success  # a late source is a failed check, not a failed run
    evaluations = {tuple(e.asset_key.path): e for e in result.get_asset_check_evaluations()}
    assert set(evaluations) == {("app", t) for t in ("users", "categories", "tasks", "user_calendar_days", "goals")}

    late = evaluations[("app", "users")]
    assert not late.passed and late.severity == AssetCheckSeverity.WARN
    assert 3 * 86400 - 60 < late.metadata["lag_seconds"].value < 3 * 86400 + 600
    assert late.metadata["warn_after_seconds"].value == 86400

    fresh = evaluations[("app", "tasks")]
    assert fresh.passed and fresh.metadata["lag_seconds"].value < 600

    empty = evaluations[("app", "goals")]
    assert not empty.passed and "no rows" in (empty.description or "")
    assert evaluations[("app", "users")].check_name == CHECK_NAME
    # The instance keeps the latest result per source, as the asset catalog shows it.
    record = instance.event_log_storage.get_latest_asset_check_execution_by_key([late.asset_check_key])[
        late.asset_check_key
    ]
    assert record is not None and AssetKey(["app", "users"]) == late.asset_key
