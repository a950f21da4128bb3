"""Live goal progress (the API's, from ``analytics.goal_progress_live``) equals the snapshot mart.

The warehouse was built as of now, so for every goal and period the snapshot
and the live view must agree: every target type x period type is covered.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

import psycopg
from fastapi.testclient import TestClient

from tests.api import dataset
from tests.api.conftest import Auth

COLUMNS = ", ".join(
    (
        "goal_id",
        "period_start",
        "period_end",
        "time_period",
        "target_type",
        "target_value",
        "achieved_value",
        "percent_complete",
        "status",
    )
)


def snapshot_rows(url: str) -> dict[tuple[str, date], dict[str, Any]]:
    with psycopg.connect(url) as conn, conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        cur.execute(f"select {COLUMNS} from analytics.goal_progress_snapshots")
        return {(str(row["goal_id"]), row["period_start"]): row for row in cur.fetchall()}


def test_the_live_view_equals_the_snapshots_for_every_goal_and_period(warehouse_db: str) -> None:
    snapshots = snapshot_rows(warehouse_db)
    with psycopg.connect(warehouse_db) as conn, conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        cur.execute(
            f"select {COLUMNS} from analytics.goal_progress_live"
            " where goal_id in (select goal_id from analytics.goal_progress_snapshots)"
        )
        live = {(str(row["goal_id"]), row["period_start"]): row for row in cur.fetchall()}
    assert live == snapshots
    kinds = {(row["target_type"], row["time_period"]) for row in snapshots.values()}
    assert kinds == {(t, p) for t in ("minutes", "percentage", "task_count") for p in ("daily", "weekly", "monthly")}


def test_the_api_serves_the_snapshot_values_for_every_goal_type_and_period(
    client: TestClient, auth: Auth, warehouse_db: str
) -> None:
    snapshots = snapshot_rows(warehouse_db)
    by_user_period: dict[tuple[Any, str], set[date]] = defaultdict(set)
    for goal_id, start in snapshots:
        row = snapshots[(goal_id, start)]
        owner = (
            dataset.NY if any(str(dataset.goal_id(dataset.NY, n)) == goal_id for n in dataset.NY_GOALS) else dataset.KTM
        )
        by_user_period[(owner, row["time_period"])].add(start)
    compared = set()
    for (owner, period), starts in by_user_period.items():
        ordered = sorted(starts)
        # The first periods (March 2025), one from the middle, and the current one.
        for start in {*ordered[:3], ordered[len(ordered) // 2], ordered[-1]}:
            response = client.get(
                "/api/v1/goals/progress", params={"period": period, "start_date": str(start)}, headers=auth(owner)
            )
            assert response.status_code == 200
            for card in response.json():
                expected = snapshots[(card["goal_id"], start)]
                assert card["period"] == {"start": str(start), "end": str(expected["period_end"])}
                assert card["achieved_value"] == expected["achieved_value"]
                assert card["percent_complete"] == float(expected["percent_complete"])
                assert card["status"] == expected["status"]
                assert (card["target_type"], card["target_value"]) == (
                    expected["target_type"],
                    expected["target_value"],
                )
                compared.add((card["target_type"], period))
    assert compared == {(t, p) for t in ("minutes", "percentage", "task_count") for p in ("daily", "weekly", "monthly")}
