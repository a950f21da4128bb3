"""Row-by-row comparison of the built marts with the Python reference, with compact diffs for failures."""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

import psycopg
import reference as ref
from psycopg import sql

DAY_COLUMNS = (
    "scheduled_minutes",
    "focus_minutes",
    "focus_available_minutes",
    "completed_tasks_count",
    "tasks_due_count",
    "tasks_due_completed_count",
)
CATEGORY_COLUMNS = (
    "scheduled_minutes",
    "focus_minutes",
    "completed_tasks_count",
    "tasks_due_count",
    "tasks_due_completed_count",
)


def rows(conn: psycopg.Connection[Any], query: str) -> list[dict[str, Any]]:
    """Every row of ``query`` as dicts."""
    cur = conn.execute(query)
    assert cur.description is not None
    names = [c.name for c in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def format_diffs(title: str, diffs: list[tuple[Any, Any, Any]], total: int | None = None) -> str:
    """The first 10 differing rows as ``key: expected=... got=...`` lines."""
    lines = [f"{title}: {total if total is not None else len(diffs)} rows differ (expected = reference, got = mart)"]
    for key, expected, got in diffs[:10]:
        lines.append(f"  {key}\n      expected {expected}\n      got      {got}")
    return "\n".join(lines)


def day_tuple(figures: ref.DayFigures, columns: tuple[str, ...], with_categories: bool) -> tuple[Any, ...]:
    """The compared values of a day (zero category entries dropped: absent means zero)."""
    values: list[Any] = [getattr(figures, c) for c in columns]
    if with_categories:
        values.append({k: v for k, v in sorted(figures.category_minutes.items()) if v})
    return tuple(values)


def daily_diffs(conn: psycopg.Connection[Any], expected: ref.Reference) -> list[tuple[Any, Any, Any]]:
    """Differences in ``analytics.analytics_daily_metrics`` (missing rows are all-zero days)."""
    got: dict[tuple[uuid.UUID, date], ref.DayFigures] = {}
    duplicates = []
    for row in rows(
        conn,
        "select user_id, date, total_scheduled_minutes, focus_minutes, focus_available_minutes,"
        " completed_tasks_count, tasks_due_count, tasks_due_completed_count, category_minutes"
        " from analytics.analytics_daily_metrics",
    ):
        key = (row["user_id"], row["date"])
        if key in got:
            duplicates.append((key, "one row", "duplicate"))
        got[key] = ref.DayFigures(
            row["total_scheduled_minutes"],
            row["focus_minutes"],
            row["focus_available_minutes"],
            row["completed_tasks_count"],
            row["tasks_due_count"],
            row["tasks_due_completed_count"],
            {k: int(v) for k, v in (row["category_minutes"] or {}).items()},
        )
    diffs = list(duplicates)
    for key in sorted(set(got) | set(expected.daily), key=str):
        want = day_tuple(expected.daily.get(key, ref.DayFigures()), DAY_COLUMNS, True)
        have = day_tuple(got.get(key, ref.DayFigures()), DAY_COLUMNS, True)
        if want != have:
            diffs.append((key, dict(zip((*DAY_COLUMNS, "category_minutes"), want, strict=True)), have))
    return diffs


def category_diffs(conn: psycopg.Connection[Any], expected: ref.Reference) -> list[tuple[Any, Any, Any]]:
    """Differences in ``analytics.daily_category_metrics`` (missing rows are all zeros)."""
    got: dict[tuple[uuid.UUID, date, uuid.UUID | None], ref.DayFigures] = {}
    diffs: list[tuple[Any, Any, Any]] = []
    for row in rows(
        conn,
        "select user_id, date, category_id, scheduled_minutes, focus_minutes, completed_tasks_count,"
        " tasks_due_count, tasks_due_completed_count from analytics.daily_category_metrics",
    ):
        key = (row["user_id"], row["date"], row["category_id"])
        if key in got:
            diffs.append((key, "one row", "duplicate"))
        got[key] = ref.DayFigures(
            scheduled_minutes=row["scheduled_minutes"],
            focus_minutes=row["focus_minutes"],
            completed_tasks_count=row["completed_tasks_count"],
            tasks_due_count=row["tasks_due_count"],
            tasks_due_completed_count=row["tasks_due_completed_count"],
        )
    for key in sorted(set(got) | set(expected.by_category), key=str):
        want = day_tuple(expected.by_category.get(key, ref.DayFigures()), CATEGORY_COLUMNS, False)
        have = day_tuple(got.get(key, ref.DayFigures()), CATEGORY_COLUMNS, False)
        if want != have:
            diffs.append((key, dict(zip(CATEGORY_COLUMNS, want, strict=True)), have))
    return diffs


GOAL_FIELDS = (
    "user_id",
    "time_period",
    "target_type",
    "target_value",
    "achieved_value",
    "percent_complete",
    "status",
)


def goal_diffs(conn: psycopg.Connection[Any], expected: ref.Reference) -> list[tuple[Any, Any, Any]]:
    """Differences in ``analytics.goal_progress_snapshots``: every row must match, none may be missing or extra."""
    got: dict[tuple[uuid.UUID, date, date], dict[str, Any]] = {}
    diffs: list[tuple[Any, Any, Any]] = []
    for row in rows(
        conn,
        "select goal_id, user_id, period_start, period_end, time_period, target_type, target_value,"
        " achieved_value, percent_complete, status from analytics.goal_progress_snapshots",
    ):
        key = (row["goal_id"], row["period_start"], row["period_end"])
        if key in got:
            diffs.append((key, "one row", "duplicate"))
        got[key] = row
    for key in sorted(set(got) | set(expected.goals), key=str):
        snapshot = expected.goals.get(key)
        row = got.get(key)
        if snapshot is None or row is None:
            diffs.append((key, "a row" if snapshot else "no row", "a row" if row else "no row"))
            continue
        want = {f: getattr(snapshot, f) for f in GOAL_FIELDS}
        have = {f: row[f] for f in GOAL_FIELDS}
        if snapshot.achieved_value is None:  # undefined by the spec (percentage without category)
            for f in ("achieved_value", "percent_complete", "status"):
                want.pop(f)
                have.pop(f)
        if have.get("achieved_value") is not None:
            have["achieved_value"] = Decimal(have["achieved_value"])
            want["achieved_value"] = Decimal(want["achieved_value"])
        if want != have:
            changed = {f: want[f] for f in want if want[f] != have[f]}
            diffs.append((key, changed, {f: have[f] for f in changed}))
    return diffs


def key_of(source: str, user_id: Any, task_id: Any, day: Any, slot_json: str) -> tuple[Any, ...]:
    """The identity of an invalid slot: where it is and its raw JSON."""
    return (source, str(user_id), str(task_id) if task_id else None, str(day) if day else None, slot_json)


def invalid_slot_diffs(conn: psycopg.Connection[Any], expected: ref.Reference) -> list[tuple[Any, Any, Any]]:
    """Differences in ``analytics.invalid_slots`` as multisets of (source, user, task, date, raw slot).

    Reasons are the dbt project's own words: each distinct mart reason must map to
    one reference reason that applies to every slot it was given to, and no mart
    reason may be empty.
    """
    got_rows = rows(conn, "select user_id, source, task_id, date, slot, reason from analytics.invalid_slots")

    want = Counter(key_of(s.source, s.user_id, s.task_id, s.date, s.slot_json) for s in expected.invalid_slots)
    have = Counter(
        key_of(r["source"], r["user_id"], r["task_id"], r["date"], ref.canonical_json(r["slot"])) for r in got_rows
    )
    diffs: list[tuple[Any, Any, Any]] = []
    for key in sorted(set(want) | set(have), key=str):
        if want[key] != have[key]:
            diffs.append((key, f"{want[key]} row(s)", f"{have[key]} row(s)"))
    acceptable = {
        key_of(s.source, s.user_id, s.task_id, s.date, s.slot_json): s.reasons for s in expected.invalid_slots
    }
    by_reason: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for r in got_rows:
        by_reason[r["reason"] or ""].append(
            key_of(r["source"], r["user_id"], r["task_id"], r["date"], ref.canonical_json(r["slot"]))
        )
    for reason, keys in sorted(by_reason.items()):
        if not reason.strip():
            diffs.append((("reason", reason), "a reason", f"empty reason on {len(keys)} rows"))
            continue
        common: set[str] | None = None
        for key in keys:
            if key in acceptable:
                common = set(acceptable[key]) if common is None else common & acceptable[key]
        if common is not None and not common:
            kinds = Counter(tuple(sorted(acceptable[k])) for k in keys if k in acceptable)
            diffs.append((("reason", reason), "one kind of defect per reason", dict(kinds)))
    return diffs


BUILD_TIMESTAMPS = ("updated_at", "taken_at", "parsed_at")


def checksum(conn: psycopg.Connection[Any], table: str, exclude: tuple[str, ...] = BUILD_TIMESTAMPS) -> str:
    """md5 of every row of ``table`` in a total order, without build timestamps."""
    schema, name = table.split(".")
    columns = [
        c
        for (c,) in conn.execute(
            "select column_name from information_schema.columns where table_schema = %s and table_name = %s"
            " order by ordinal_position",
            (schema, name),
        ).fetchall()
        if c not in exclude
    ]
    row_text = sql.SQL("concat_ws('|', {})").format(
        sql.SQL(", ").join(sql.SQL("coalesce({}::text, '<null>')").format(sql.Identifier(c)) for c in columns)
    )
    query = sql.SQL(
        "select md5(coalesce(string_agg(t.r, E'\\n' order by t.r), '')) from (select {} as r from {}) t"
    ).format(row_text, sql.Identifier(schema, name))
    result = conn.execute(query).fetchone()
    assert result is not None
    return str(result[0])


MARTS = (
    "analytics.analytics_daily_metrics",
    "analytics.daily_category_metrics",
    "analytics.goal_progress_snapshots",
    "analytics.invalid_slots",
)
