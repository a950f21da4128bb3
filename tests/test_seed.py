"""``pulse seed``: same seed, same rows; the mix the metrics must survive; the command's refusals.

The mix is checked by reference classifiers written here, independently of the
generator: time-zone kinds from zoneinfo, invalid slots by parsing the loaded
JSON the way SPEC section 1 describes.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import os
import re
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
from psycopg import sql

from pulse.database import with_database
from pulse.seed import DEMO_EMAIL, DEMO_USER_ID, TABLES, SeedPlan, default_start, seed_database

PLAN = SeedPlan(users=40, days=14, start=date(2026, 3, 2), seed=42)
PRIMARY_KEYS = {
    "users": "user_id",
    "categories": "category_id",
    "tasks": "task_id",
    "user_calendar_days": "user_id, date",
    "goals": "goal_id",
}


@pytest.fixture(scope="module")
def seeded_db(pulse_db: str) -> str:
    """This module's database seeded with PLAN."""
    seed_database(pulse_db, PLAN)
    return pulse_db


def checksums(url: str) -> dict[str, tuple[int, str]]:
    """Row count and md5 of every app table's rows, ordered by key."""
    with psycopg.connect(url) as conn:
        return {
            table: conn.execute(
                f"select count(*), md5(coalesce(string_agg(t::text, '|' order by {key}), '')) from app.{table} t"
            ).fetchone()
            for table, key in PRIMARY_KEYS.items()
        }


def fetch(url: str, query: str) -> list[tuple[Any, ...]]:
    """All rows of ``query`` in ``url``."""
    with psycopg.connect(url) as conn:
        return conn.execute(query).fetchall()


def test_same_seed_same_rows_however_split(seeded_db: str, make_pulse_db: Callable[[], str]) -> None:
    again = make_pulse_db()
    seed_database(again, PLAN, workers=1, batch_users=7)
    first = checksums(seeded_db)
    assert all(count > 0 for count, _ in first.values())
    assert checksums(again) == first

    other = make_pulse_db()
    seed_database(other, SeedPlan(PLAN.users, PLAN.days, PLAN.start, seed=43))
    different = checksums(other)
    for table in TABLES:
        assert different[table][1] != first[table][1], f"seed 43 gave the same {table} as seed 42"


# --- time zones ---------------------------------------------------------------------------------


@functools.cache
def zone_kinds(zone: str) -> frozenset[str]:
    """Every kind a zone belongs to, from its offsets and transitions in 2024-2027 (zoneinfo)."""
    tz = ZoneInfo(zone)
    kinds: set[str] = set()
    moment = datetime(2024, 1, 1, tzinfo=UTC)
    offsets: set[int] = set()
    previous = moment.astimezone(tz).utcoffset()
    while moment < datetime(2028, 1, 1, tzinfo=UTC):
        after = moment + timedelta(minutes=30)
        offset = after.astimezone(tz).utcoffset()
        assert offset is not None and previous is not None
        offsets.add(int(offset.total_seconds()) // 60)
        if offset != previous:
            # Find the exact minute of the change, then its local wall-clock time before and after.
            lo = moment
            while lo.astimezone(tz).utcoffset() == previous:
                lo += timedelta(minutes=1)
            before_wall = (lo - timedelta(minutes=1)).astimezone(tz) + timedelta(minutes=1)
            after_wall = lo.astimezone(tz)
            if before_wall.time().isoformat() == "00:00:00" or after_wall.time().isoformat() == "00:00:00":
                kinds.add("dst_at_midnight")
        previous = offset
        moment = after
    january = datetime(2026, 1, 15, 12, tzinfo=tz).utcoffset()
    july = datetime(2026, 7, 15, 12, tzinfo=tz).utcoffset()
    assert january is not None and july is not None
    dst = january != july
    if offsets == {0}:
        kinds.add("utc")
    minutes = {o % 60 for o in offsets}
    if minutes == {0} and offsets != {0}:
        kinds.add("whole_hour_dst_north" if dst and july > january else "whole_hour_dst_south" if dst else "whole_hour")
    if 30 in minutes and minutes <= {0, 30}:
        if abs((july - january).total_seconds()) == 1800:
            kinds.add("thirty_minute_dst")
        elif dst:
            kinds.add("half_hour_dst_north" if july > january else "half_hour_dst_south")
        else:
            kinds.add("half_hour")
    if 45 in minutes:
        kinds.add("forty_five_minute_dst" if dst else "forty_five_minute")
    if max(offsets) >= 14 * 60:
        kinds.add("extreme_east")
    if min(offsets) <= -11 * 60:
        kinds.add("extreme_west")
    return frozenset(kinds)


def test_users_cover_every_time_zone_kind(seeded_db: str) -> None:
    zones = [zone for (zone,) in fetch(seeded_db, "select distinct timezone from app.users")]
    kinds = set().union(*(zone_kinds(zone) for zone in zones))
    expected = {
        "utc",
        "whole_hour",
        "whole_hour_dst_north",
        "whole_hour_dst_south",
        "half_hour",
        "half_hour_dst_north",
        "half_hour_dst_south",
        "thirty_minute_dst",
        "forty_five_minute",
        "forty_five_minute_dst",
        "extreme_east",
        "extreme_west",
        "dst_at_midnight",
    }
    assert expected <= kinds, f"missing kinds: {expected - kinds}"
    midnight_zones = [zone for zone in zones if "dst_at_midnight" in zone_kinds(zone)]
    assert len(midnight_zones) >= 3, midnight_zones
    # PostgreSQL knows every zone the seed uses.
    with psycopg.connect(seeded_db) as conn:
        for zone in zones:
            conn.execute("select now() at time zone %s", (zone,))


# --- scheduled slots ----------------------------------------------------------------------------


def scheduled_slot_problem(slot: Any) -> str | None:
    """Why a scheduled slot is invalid (fine-grained), or None when it is valid."""
    if not isinstance(slot, dict):
        kind = {str: "string", int: "number", float: "number", list: "array", type(None): "null"}[type(slot)]
        return f"not_object_{kind}"
    if "start" not in slot:
        return "missing_start"
    if "end" not in slot:
        return "missing_end"
    parsed = []
    for text in (slot["start"], slot["end"]):
        if not isinstance(text, str):
            return "unparseable_number"
        try:
            instant = datetime.fromisoformat(text)
        except ValueError:
            return "unparseable_date" if re.match(r"^\d{4}-\d\d-\d\dT", text) else "unparseable_text"
        if instant.tzinfo is None:
            return "no_offset"
        parsed.append(instant)
    start, end = (moment.astimezone(UTC).replace(second=0, microsecond=0) for moment in parsed)
    if end < start:
        return "end_before_start"
    if end == start:
        return "end_equals_start_after_truncation" if parsed[1] > parsed[0] else "end_equals_start"
    return None


def load_tasks(url: str) -> list[tuple[Any, ...]]:
    """Every task with its user's time zone."""
    return fetch(
        url,
        "select t.task_id, t.user_id, t.category_id, t.status, t.scheduled_slots, t.completed_at, t.deleted_at,"
        " u.timezone from app.tasks t join app.users u using (user_id)",
    )


def test_scheduled_slots_hold_every_invalid_kind_at_a_small_share(seeded_db: str) -> None:
    problems: Counter[str] = Counter()
    slots = 0
    for _, _, _, _, value, *_ in load_tasks(seeded_db):
        if not isinstance(value, list):
            problems[f"slots_{ {dict: 'object', str: 'string', int: 'number', type(None): 'null'}[type(value)] }"] += 1
            slots += 1
            continue
        for slot in value:
            slots += 1
            problem = scheduled_slot_problem(slot)
            if problem:
                problems[problem] += 1
    expected = {
        "not_object_string",
        "not_object_number",
        "not_object_null",
        "not_object_array",
        "missing_start",
        "missing_end",
        "unparseable_text",
        "unparseable_date",
        "unparseable_number",
        "no_offset",
        "end_before_start",
        "end_equals_start_after_truncation",
        "slots_object",
        "slots_string",
        "slots_number",
        "slots_null",
    }
    assert set(problems) == expected
    share = sum(problems.values()) / slots
    assert 0.005 < share < 0.04, f"invalid share {share:.3%}"


def test_scheduled_slots_are_realistic(seeded_db: str) -> None:
    tasks = load_tasks(seeded_db)
    statuses = Counter(status for _, _, _, status, *_ in tasks)
    assert set(statuses) == {"pending", "scheduled", "completed", "cancelled"}
    assert sum(1 for t in tasks if t[6] is not None) > 0, "soft-deleted tasks"
    assert sum(1 for t in tasks if t[2] is None) > 0, "tasks without category"
    assert all((t[5] is not None) == (t[3] == "completed") for t in tasks), "completed_at iff completed"
    counts = Counter(len(t[4]) for t in tasks if isinstance(t[4], list))
    assert {0, 1, 2, 3} <= set(counts)

    offsets: set[str] = set()
    crossing = overlapping_within = multi_hour = completed_elsewhere = 0
    by_user: dict[Any, list[tuple[datetime, datetime, Any]]] = {}
    for task_id, user_id, _, status, value, completed_at, _, zone in tasks:
        if not isinstance(value, list):
            continue
        tz = ZoneInfo(zone)
        valid = [s for s in value if scheduled_slot_problem(s) is None]
        spans = [(datetime.fromisoformat(s["start"]), datetime.fromisoformat(s["end"])) for s in valid]
        for s in valid:
            for text in (s["start"], s["end"]):
                offsets.add("Z" if text.endswith("Z") else text[19:])
        for start, end in spans:
            crossing += start.astimezone(tz).date() != (end - timedelta(microseconds=1)).astimezone(tz).date()
            multi_hour += (end - start) >= timedelta(hours=2)
            by_user.setdefault(user_id, []).append((start, end, task_id))
        ordered = sorted(spans)
        overlapping_within += any(b[0] < a[1] for a, b in itertools.pairwise(ordered))
        if status == "completed" and spans:
            last_end = max(end for _, end in spans).astimezone(tz).date()
            completed_elsewhere += completed_at.astimezone(tz).date() != last_end
    overlapping_across = 0
    for spans_of_user in by_user.values():
        ordered_spans = sorted(spans_of_user, key=lambda span: span[0])
        overlapping_across += sum(1 for a, b in itertools.pairwise(ordered_spans) if b[0] < a[1] and a[2] != b[2])
    assert {"Z", "+05:30", "-03:00", "-05:00", "+05:45", "+14:00"} <= offsets, sorted(offsets)
    assert crossing > 0 and overlapping_within > 0 and overlapping_across > 0 and multi_hour > 0
    assert completed_elsewhere > 0


# --- focus slots ----------------------------------------------------------------------------------


def focus_slot_problem(slot: Any) -> str | None:
    """Why a focus slot is invalid (fine-grained), or None when it is valid."""
    if not isinstance(slot, dict):
        kind = {str: "string", int: "number", float: "number", list: "array", type(None): "null"}[type(slot)]
        return f"not_object_{kind}"
    if "start" not in slot:
        return "missing_start"
    if "end" not in slot:
        return "missing_end"
    values = []
    for key in ("start", "end"):
        match = re.fullmatch(r"(\d\d):(\d\d)", str(slot[key]))
        if not match:
            return "bad_format"
        hour, minute = int(match[1]), int(match[2])
        if minute > 59:
            return "minute_out_of_range"
        if hour > 24 or (hour == 24 and minute):
            return "hour_out_of_range"
        if key == "start" and hour == 24:
            return "start_24"
        values.append(hour * 60 + minute)
    if values[1] == values[0]:
        return "end_equals_start"
    if values[1] < values[0]:
        return "end_before_start"
    return None


def test_focus_slots_hold_every_invalid_kind_and_the_edge_cases(seeded_db: str) -> None:
    rows = fetch(seeded_db, "select user_id, date, focus_slots from app.user_calendar_days")
    problems: Counter[str] = Counter()
    ends_at_24 = overlapping = slots = 0
    for _, _, value in rows:
        assert isinstance(value, list)
        valid = []
        for slot in value:
            slots += 1
            problem = focus_slot_problem(slot)
            if problem:
                problems[problem] += 1
            else:
                valid.append((slot["start"], slot["end"]))
        ends_at_24 += any(end == "24:00" for _, end in valid)
        ordered = sorted(valid)
        overlapping += any(b[0] < a[1] for a, b in itertools.pairwise(ordered))
    assert set(problems) == {
        "not_object_string",
        "not_object_number",
        "not_object_null",
        "not_object_array",
        "missing_start",
        "missing_end",
        "bad_format",
        "minute_out_of_range",
        "hour_out_of_range",
        "start_24",
        "end_equals_start",
        "end_before_start",
    }
    assert 0.005 < sum(problems.values()) / slots < 0.06
    assert ends_at_24 > 0 and overlapping > 0
    assert len(rows) < PLAN.users * PLAN.days, "some days have no row"


# --- goals and the demo user ----------------------------------------------------------------------


def test_goals_cover_every_type_and_period(seeded_db: str) -> None:
    goals = fetch(seeded_db, "select target_type, time_period, target_value, category_id, is_active from app.goals")
    assert {(t, p) for t, p, *_ in goals} == {
        (t, p) for t in ("minutes", "percentage", "task_count") for p in ("daily", "weekly", "monthly")
    }
    percentage = [g for g in goals if g[0] == "percentage"]
    assert all(g[3] is not None and 0 < g[2] <= 100 for g in percentage)
    assert {g[4] for g in goals} == {True, False}
    created = fetch(seeded_db, "select count(distinct created_at::date) from app.goals")
    assert created[0][0] > 5, "goals are created at various points"


def test_demo_user_is_first_and_rich(seeded_db: str) -> None:
    users = fetch(seeded_db, f"select email, timezone from app.users where user_id = '{DEMO_USER_ID}'")
    assert users == [(DEMO_EMAIL, "America/New_York")]
    goals = fetch(
        seeded_db, f"select target_type, time_period, is_active from app.goals where user_id = '{DEMO_USER_ID}'"
    )
    assert len({(t, p) for t, p, _ in goals}) == 9 and all(active for *_, active in goals)
    tasks = [t for t in load_tasks(seeded_db) if str(t[1]) == DEMO_USER_ID]
    assert len(tasks) >= 4 * PLAN.days
    assert all(isinstance(t[4], list) and all(scheduled_slot_problem(s) is None for s in t[4]) for t in tasks)
    completed = sum(t[3] == "completed" for t in tasks)
    assert completed / len(tasks) > 0.6


# --- the command ----------------------------------------------------------------------------------


def run_pulse(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the ``pulse`` command line against ``url`` (as DATABASE_URL)."""
    env = {**os.environ, "DATABASE_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "pulse.cli", *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


@contextlib.contextmanager
def bare_database(server_url: str) -> Iterator[str]:
    """A database without ``pulse db init``, dropped afterwards."""
    name = f"pulse_t_seed_bare_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    try:
        yield with_database(server_url, name)
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(sql.SQL("drop database {} with (force)").format(sql.Identifier(name)))


def test_seed_command_refuses_without_init_and_into_filled_tables(
    server_url: str, make_pulse_db: Callable[[], str]
) -> None:
    with bare_database(server_url) as bare:
        refused = run_pulse(bare, "seed", "--users", "3", "--days", "2")
    assert refused.returncode == 1
    assert refused.stderr.strip().count("\n") == 0
    assert refused.stderr.startswith("pulse: error: ") and "run 'pulse db init' first" in refused.stderr

    url = make_pulse_db()
    first = run_pulse(url, "seed", "--users", "3", "--days", "2", "--start", "2026-03-07")
    assert first.returncode == 0, first.stderr
    assert "users 3" in first.stdout and "seeded" in first.stdout
    before = checksums(url)

    again = run_pulse(url, "seed", "--users", "3", "--days", "2")
    assert again.returncode == 1
    assert again.stderr.strip().count("\n") == 0 and "--replace" in again.stderr
    assert checksums(url) == before, "a refused seed changes nothing"

    replaced = run_pulse(url, "seed", "--users", "5", "--days", "2", "--start", "2026-03-07", "--replace")
    assert replaced.returncode == 0, replaced.stderr
    assert checksums(url)["users"][0] == 5

    bad = run_pulse(url, "seed", "--users", "0", "--days", "2")
    assert bad.returncode == 2 and "--users" in bad.stderr


def test_seed_writes_no_updated_at_after_it_runs(make_pulse_db: Callable[[], str]) -> None:
    """Data reaching tomorrow (the default dates) carries no updated_at later than the seed's start.

    A later one would look to the change sensor like a change arriving as the clock passes it.
    """
    url = make_pulse_db()
    began = datetime.now(UTC)
    seed_database(url, SeedPlan(users=8, days=3, start=default_start(3)))
    with psycopg.connect(url) as conn:
        latest = conn.execute(
            " union all ".join(f"select max(updated_at) from app.{table}" for table in PRIMARY_KEYS)
        ).fetchall()
    assert all(value is not None and value <= began for (value,) in latest), (began, latest)
