"""Compare a database's marts with a fresh full build of a copy of its source (every row of the date range)."""

from collections.abc import Callable
from datetime import date
from typing import Any

import psycopg

from pulse.dbt import build_warehouse
from tests.conftest import copy_source

MART_QUERIES = {
    "analytics_daily_metrics": "select user_id, date, total_scheduled_minutes, focus_minutes, focus_available_minutes,"
    " completed_tasks_count, tasks_due_count, tasks_due_completed_count, category_minutes::text"
    " from analytics.analytics_daily_metrics where date between %(first)s and %(last)s",
    "daily_category_metrics": "select user_id, date, category_id, scheduled_minutes, focus_minutes,"
    " completed_tasks_count, tasks_due_count, tasks_due_completed_count"
    " from analytics.daily_category_metrics where date between %(first)s and %(last)s",
    "fct_task_dates": "select user_id, task_id, date from analytics.fct_task_dates"
    " where date between %(first)s and %(last)s",
}


def mart_rows(url: str, first: date, last: date) -> dict[str, set[tuple[Any, ...]]]:
    """Every compared row of the marts over ``first``..``last``."""
    with psycopg.connect(url) as conn:
        return {
            mart: set(conn.execute(query, {"first": first, "last": last}).fetchall())
            for mart, query in MART_QUERIES.items()
        }


def assert_marts_equal_fresh_build(url: str, make_pulse_db: Callable[[], str], first: date, last: date) -> None:
    """The marts of ``url`` over ``first``..``last`` equal those of a fresh full build of the same source."""
    fresh = make_pulse_db()
    copy_source(url, fresh)
    build_warehouse(fresh, progress=None)
    got, expected = mart_rows(url, first, last), mart_rows(fresh, first, last)
    for mart in MART_QUERIES:
        missing, extra = expected[mart] - got[mart], got[mart] - expected[mart]
        assert not missing and not extra, (
            f"{mart}: {len(missing)} rows missing, {len(extra)} extra; e.g. missing {sorted(missing)[:3]},"
            f" extra {sorted(extra)[:3]}"
        )
    assert expected["analytics_daily_metrics"], "the fresh build holds no rows: nothing was compared"
