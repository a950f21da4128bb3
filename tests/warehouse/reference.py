"""An independent pure-Python reference of SPEC sections 2 and 3, so the tests can check every mart row.

Nothing here runs SQL to compute a figure: the rows of the ``app`` tables are
read as they are and every metric, goal rule and invalid-slot verdict is
derived with ``zoneinfo``/``datetime``/``json`` only. Instants are kept as
integer epoch minutes (after the spec's truncation to the minute), so all
minute arithmetic is exact.

Assumptions where the spec leaves room (each is marked ``ASSUMPTION`` below):

- A scheduled instant "parses" when it is a JSON string of the ISO-8601
  extended form ``YYYY-MM-DDTHH:MM[:SS[.fraction]]`` (or with a space for
  the ``T``, as RFC 3339, PostgreSQL and Python's ``fromisoformat`` read it)
  followed by ``Z`` or an offset ``±HH:MM`` (also ``±HHMM``/``±HH``), with a
  real calendar date, hours 00-23, minutes and seconds 00-59, offset hours
  00-15 and minutes 00-59 (PostgreSQL's ``timestamptz`` holds offsets up to
  ±15:59; the zones in use span -12:00 to +14:00). The same text without any
  offset is "has no offset". Anything else
  (numbers, ``null``, booleans, objects, ``"2025-02-30T..."``, ``"now"``) does
  not parse.
- A focus time is exactly ``HH:MM`` (two digits each, 00-23 and 00-59);
  ``"24:00"`` is allowed only as an ``end``.
- A ``focus_slots`` value that is not a JSON array counts as one invalid focus
  slot of that day, as the spec says for ``scheduled_slots``.
- A focus slot valid as wall-clock times but empty or negative as instants
  (e.g. ``02:30``-``03:00`` inside a spring-forward gap, where 02:30 resolves
  to 03:30 daylight time) is valid and contributes no minutes.
- Focus slots are not clipped to their day's window: they lie inside it by
  construction (``24:00`` is the next local midnight, resolved the same way).
- A ``percentage`` goal without a category has no defined achieved value; the
  reference reports ``None`` and the comparison skips its figures.
- Goals whose local creation period starts after the as-of period get no rows.
- A user whose ``timezone`` is not an IANA zone name is computed in UTC (the spec says bad data must not stop
  a run; the dbt project falls back to UTC the same way).
"""

from __future__ import annotations

import calendar
import json
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from functools import cache
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

UNCATEGORIZED = "uncategorized"

# Reasons of the reference's own vocabulary (the marts may word them differently).
NOT_ARRAY = "not_array"
NOT_OBJECT = "not_object"
MISSING = "missing_start_or_end"
UNPARSEABLE = "does_not_parse"
NO_OFFSET = "no_offset"
NOT_AFTER = "end_not_after_start"

_INSTANT = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?"
    r"(Z|[+-]\d{2}:\d{2}|[+-]\d{4}|[+-]\d{2})?$"
)
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_FOCUS_TIME = re.compile(r"^(\d{2}):(\d{2})$")


# ---------------------------------------------------------------- local time


@cache
def zone(name: str) -> ZoneInfo:
    """The IANA zone of that name; UTC for a name that is not a zone (ASSUMPTION, see the module docstring)."""
    try:
        return ZoneInfo(name)
    except (ValueError, ZoneInfoNotFoundError):
        return ZoneInfo("UTC")


def offset_at(epoch_seconds: int, tz: ZoneInfo) -> int:
    """The UTC offset (seconds) in force in ``tz`` at that instant (UTC -> local is never ambiguous)."""
    offset = datetime.fromtimestamp(epoch_seconds, tz).utcoffset()
    assert offset is not None
    return int(offset.total_seconds())


@cache
def resolve_local(wall: datetime, tz_name: str) -> int:
    """Epoch seconds of a naive local wall time, resolved as PostgreSQL's ``timestamp AT TIME ZONE`` does.

    The instants that show this wall time are found explicitly: every offset in
    force within a day around it is a candidate, and a candidate is real when
    the zone indeed shows that offset at the resulting instant.
    - one real candidate: the ordinary case;
    - two (a fall-back overlap, an ambiguous time): PostgreSQL takes the offset
      in force *after* the transition, i.e. the later of the two instants;
    - none (a spring-forward gap): PostgreSQL takes the offset in force *before*
      the transition, i.e. the offset at the instants just before the gap.
    """
    tz = zone(tz_name)
    as_if_utc = calendar.timegm(wall.timetuple())
    candidates = {offset_at(as_if_utc - hours * 3600, tz) for hours in range(-27, 28)}
    real = sorted(as_if_utc - offset for offset in candidates if offset_at(as_if_utc - offset, tz) == offset)
    if len(real) == 1:
        return real[0]
    if len(real) >= 2:  # ambiguous: the occurrence after the transition is the later one
        return real[-1]
    # A gap: the transition lies between the candidate instants; the offset before
    # it is the one in force a moment before the earliest candidate.
    earliest = min(as_if_utc - offset for offset in candidates)
    before = offset_at(earliest - 60, tz)
    return as_if_utc - before


def local_minute(day: date, minutes_of_day: int, tz_name: str) -> int:
    """Epoch minute of local ``day`` + ``minutes_of_day`` (1440 = the next local midnight)."""
    wall = datetime(day.year, day.month, day.day) + timedelta(minutes=minutes_of_day)
    seconds = resolve_local(wall, tz_name)
    assert seconds % 60 == 0, f"{tz_name} has a non-minute offset at {wall}"
    return seconds // 60


@cache
def day_window(day: date, tz_name: str) -> tuple[int, int]:
    """The local day window ``[D 00:00, D+1 00:00)`` of ``day`` as epoch minutes."""
    return local_minute(day, 0, tz_name), local_minute(day + timedelta(days=1), 0, tz_name)


def local_date_of(epoch_minute: int, tz_name: str) -> date:
    """The local date whose day window contains that instant (by windows, not by wall clock)."""
    day = datetime.fromtimestamp(epoch_minute * 60, zone(tz_name)).date()
    while epoch_minute < day_window(day, tz_name)[0]:
        day -= timedelta(days=1)
    while epoch_minute >= day_window(day, tz_name)[1]:
        day += timedelta(days=1)
    return day


def local_dates_touched(start: int, end: int, tz_name: str) -> list[date]:
    """Every local date whose window overlaps ``[start, end)`` (non-empty interval)."""
    days = []
    day = local_date_of(start, tz_name)
    while day_window(day, tz_name)[0] < end:
        days.append(day)
        day += timedelta(days=1)
    return days


# ---------------------------------------------------------------- slot validation


def parse_instant(value: Any) -> int | str:
    """Epoch minute (truncated) of an ISO-8601 instant with offset, or the reason it is invalid.

    ASSUMPTION: the accepted grammar is the one in the module docstring.
    """
    if not isinstance(value, str):
        return UNPARSEABLE
    match = _INSTANT.match(value)
    if not match:
        return UNPARSEABLE
    year, month, day, hour, minute, second, _fraction, offset = match.groups()
    try:
        wall = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0))
    except ValueError:
        return UNPARSEABLE
    if offset is None:
        return NO_OFFSET
    if offset == "Z":
        offset_seconds = 0
    else:
        digits = offset[1:].replace(":", "")
        off_hours, off_minutes = int(digits[:2]), int(digits[2:] or 0)
        if off_hours > 15 or off_minutes > 59:
            return UNPARSEABLE
        offset_seconds = (off_hours * 3600 + off_minutes * 60) * (1 if offset[0] == "+" else -1)
    # Fractions of a second are below the minute: dropping them is the truncation.
    return (calendar.timegm(wall.timetuple()) - offset_seconds) // 60


def scheduled_slot_defects(slot: Any) -> tuple[tuple[int, int] | None, frozenset[str]]:
    """``((start, end), {})`` for a valid scheduled slot, else ``(None, every defect it has)``.

    A slot can have several defects (a missing start and an unparseable end);
    an implementation may report any one of them.
    """
    if not isinstance(slot, dict):
        return None, frozenset({NOT_OBJECT})
    defects: set[str] = set()
    bounds: list[int] = []
    for key in ("start", "end"):
        if key not in slot:
            defects.add(MISSING)
        elif slot[key] is None:  # ASSUMPTION: a JSON null is "lacks" or "does not parse"
            defects.update({MISSING, UNPARSEABLE})
        else:
            parsed = parse_instant(slot[key])
            if isinstance(parsed, str):
                defects.add(parsed)
                if isinstance(slot[key], str) and _DATE_ONLY.match(slot[key]):
                    defects.add(NO_OFFSET)  # a bare date has no time and no offset: either reason fits
            else:
                bounds.append(parsed)
    if defects:
        return None, frozenset(defects)
    start, end = bounds
    if end <= start:
        return None, frozenset({NOT_AFTER})
    return (start, end), frozenset()


def parse_focus_time(value: Any, *, is_end: bool) -> int | None:
    """Minutes of the day of an ``HH:MM`` focus time (``24:00`` only as an end), or None."""
    if not isinstance(value, str):
        return None
    match = _FOCUS_TIME.match(value)
    if not match:
        return None
    hours, minutes = int(match.group(1)), int(match.group(2))
    if hours == 24 and minutes == 0 and is_end:
        return 1440
    if hours > 23 or minutes > 59:
        return None
    return hours * 60 + minutes


def focus_slot_defects(slot: Any) -> tuple[tuple[int, int] | None, frozenset[str]]:
    """``((start_minute_of_day, end_minute_of_day), {})`` for a valid focus slot, else defects."""
    if not isinstance(slot, dict):
        return None, frozenset({NOT_OBJECT})
    defects: set[str] = set()
    bounds: list[int] = []
    for key in ("start", "end"):
        if key not in slot:
            defects.add(MISSING)
            continue
        if slot[key] is None:
            defects.update({MISSING, UNPARSEABLE})
            continue
        parsed = parse_focus_time(slot[key], is_end=key == "end")
        if parsed is None:
            defects.add(UNPARSEABLE)
            # "24:00" as a start could also be reported as end <= start.
            if key == "start" and slot[key] == "24:00":
                defects.add(NOT_AFTER)
        else:
            bounds.append(parsed)
    if defects:
        return None, frozenset(defects)
    start, end = bounds
    if end <= start:
        return None, frozenset({NOT_AFTER})
    return (start, end), frozenset()


# ---------------------------------------------------------------- interval sets


def union(intervals: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """The union of half-open intervals as sorted, disjoint intervals (empty ones dropped)."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(i for i in intervals if i[1] > i[0]):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def length(intervals: Iterable[tuple[int, int]]) -> int:
    """Total length of disjoint intervals."""
    return sum(end - start for start, end in intervals)


def intersection_length(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> int:
    """Length of the intersection of two sorted disjoint interval lists."""
    total, i, j = 0, 0, 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        total += max(0, hi - lo)
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return total


# ---------------------------------------------------------------- source rows


@dataclass
class Source:
    """The rows of the ``app`` tables the metrics are computed from."""

    users: dict[UUID, dict[str, Any]]
    categories: dict[UUID, dict[str, Any]]
    tasks: list[dict[str, Any]]
    calendar_days: list[dict[str, Any]]
    goals: list[dict[str, Any]]


def load_source(conn: Any) -> Source:
    """Read every row of the ``app`` tables (psycopg connection); jsonb arrives as Python values."""

    def rows(query: str) -> list[dict[str, Any]]:
        cur = conn.execute(query)
        names = [c.name for c in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    users = {r["user_id"]: r for r in rows("select user_id, timezone from app.users")}
    categories = {r["category_id"]: r for r in rows("select category_id, user_id, name from app.categories")}
    tasks = rows(
        "select task_id, user_id, category_id, status, scheduled_slots, completed_at, deleted_at from app.tasks"
    )
    days = rows("select user_id, date, focus_slots from app.user_calendar_days")
    goals = rows(
        "select goal_id, user_id, target_type, target_value, time_period, category_id, is_active, created_at"
        " from app.goals"
    )
    return Source(users, categories, tasks, days, goals)


def canonical_json(value: Any) -> str:
    """A JSON text that tells ``1``, ``1.0`` and ``true`` apart and ignores key order."""
    return json.dumps(value, sort_keys=True)


# ---------------------------------------------------------------- results


@dataclass
class DayFigures:
    """The figures of one user and day (or of one category of it)."""

    scheduled_minutes: int = 0
    focus_minutes: int = 0
    focus_available_minutes: int = 0
    completed_tasks_count: int = 0
    tasks_due_count: int = 0
    tasks_due_completed_count: int = 0
    category_minutes: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class InvalidSlot:
    """One invalid slot: where it is, its raw JSON and every reason that applies."""

    user_id: UUID
    source: str  # "scheduled" or "focus"
    task_id: UUID | None
    date: date | None
    slot_json: str
    reasons: frozenset[str]


@dataclass(frozen=True)
class GoalSnapshot:
    """One goal period's progress."""

    goal_id: UUID
    user_id: UUID
    period_start: date
    period_end: date
    time_period: str
    target_type: str
    target_value: int
    achieved_value: int | None
    percent_complete: Decimal | None
    status: str | None


@dataclass
class Reference:
    """Everything the marts should contain."""

    daily: dict[tuple[UUID, date], DayFigures]
    by_category: dict[tuple[UUID, date, UUID | None], DayFigures]
    goals: dict[tuple[UUID, date, date], GoalSnapshot]
    invalid_slots: list[InvalidSlot]


# ---------------------------------------------------------------- metrics


def compute(source: Source, as_of: datetime) -> Reference:
    """Compute every mart row of SPEC sections 2-4 from the source rows, with "now" = ``as_of``."""
    invalid: list[InvalidSlot] = []
    daily: dict[tuple[UUID, date], DayFigures] = defaultdict(DayFigures)
    by_category: dict[tuple[UUID, date, UUID | None], DayFigures] = defaultdict(DayFigures)
    # (user, date) -> clipped scheduled intervals, overall and per category
    day_slots: dict[tuple[UUID, date], list[tuple[int, int]]] = defaultdict(list)
    day_category_slots: dict[tuple[UUID, date, UUID | None], list[tuple[int, int]]] = defaultdict(list)

    for task in source.tasks:
        user_id, task_id = task["user_id"], task["task_id"]
        tz_name = source.users[user_id]["timezone"]
        slots_value = task["scheduled_slots"]
        valid: list[tuple[int, int]] = []
        if not isinstance(slots_value, list):
            invalid.append(
                InvalidSlot(user_id, "scheduled", task_id, None, canonical_json(slots_value), frozenset({NOT_ARRAY}))
            )
        else:
            for slot in slots_value:
                bounds, defects = scheduled_slot_defects(slot)
                if bounds is None:
                    invalid.append(InvalidSlot(user_id, "scheduled", task_id, None, canonical_json(slot), defects))
                else:
                    valid.append(bounds)

        counted = task["deleted_at"] is None and task["status"] != "cancelled"
        category_id = task["category_id"]
        category_key = str(category_id) if category_id is not None else UNCATEGORIZED
        if counted:
            for start, end in valid:
                for day in local_dates_touched(start, end, tz_name):
                    window_start, window_end = day_window(day, tz_name)
                    clipped = (max(start, window_start), min(end, window_end))
                    minutes = clipped[1] - clipped[0]
                    if minutes <= 0:
                        continue
                    figures = daily[(user_id, day)]
                    figures.scheduled_minutes += minutes
                    figures.category_minutes[category_key] = figures.category_minutes.get(category_key, 0) + minutes
                    by_category[(user_id, day, category_id)].scheduled_minutes += minutes
                    day_slots[(user_id, day)].append(clipped)
                    day_category_slots[(user_id, day, category_id)].append(clipped)
            if valid:
                # Due on D when the latest end is in (D 00:00, D+1 00:00]: the window containing end - 1 minute.
                latest_end = max(end for _, end in valid)
                due_day = local_date_of(latest_end - 1, tz_name)
                done = int(task["status"] == "completed")
                for figures in (daily[(user_id, due_day)], by_category[(user_id, due_day, category_id)]):
                    figures.tasks_due_count += 1
                    figures.tasks_due_completed_count += done

        if task["deleted_at"] is None and task["status"] == "completed" and task["completed_at"] is not None:
            completed_at: datetime = task["completed_at"]
            # Windows are whole minutes, so the minute containing the instant decides the window.
            completed_minute = int(completed_at.timestamp() // 60)
            day = local_date_of(completed_minute, tz_name)
            daily[(user_id, day)].completed_tasks_count += 1
            by_category[(user_id, day, category_id)].completed_tasks_count += 1

    focus_unions: dict[tuple[UUID, date], list[tuple[int, int]]] = {}
    for row in source.calendar_days:
        user_id, day = row["user_id"], row["date"]
        tz_name = source.users[user_id]["timezone"]
        focus_value = row["focus_slots"]
        intervals: list[tuple[int, int]] = []
        if not isinstance(focus_value, list):  # ASSUMPTION: like scheduled_slots, one invalid slot
            invalid.append(
                InvalidSlot(user_id, "focus", None, day, canonical_json(focus_value), frozenset({NOT_ARRAY}))
            )
        else:
            for slot in focus_value:
                bounds, defects = focus_slot_defects(slot)
                if bounds is None:
                    invalid.append(InvalidSlot(user_id, "focus", None, day, canonical_json(slot), defects))
                else:
                    intervals.append((local_minute(day, bounds[0], tz_name), local_minute(day, bounds[1], tz_name)))
        focus_union = union(intervals)
        focus_unions[(user_id, day)] = focus_union
        available = length(focus_union)
        if available:
            daily[(user_id, day)].focus_available_minutes += available

    categories_of_day: dict[tuple[UUID, date], dict[UUID | None, list[tuple[int, int]]]] = defaultdict(dict)
    for (user_id, day, category_id), slots in day_category_slots.items():
        categories_of_day[(user_id, day)][category_id] = slots
    for (user_id, day), focus_union in focus_unions.items():
        if not focus_union:
            continue
        if (user_id, day) in day_slots:
            minutes = intersection_length(union(day_slots[(user_id, day)]), focus_union)
            if minutes:
                daily[(user_id, day)].focus_minutes += minutes
        for category_id, slots in categories_of_day.get((user_id, day), {}).items():
            minutes = intersection_length(union(slots), focus_union)
            if minutes:
                by_category[(user_id, day, category_id)].focus_minutes += minutes

    goals = compute_goals(source, daily, by_category, as_of)
    return Reference(dict(daily), dict(by_category), goals, invalid)


# ---------------------------------------------------------------- goals


def round_half_away(value: Fraction, places: int = 0) -> Decimal:
    """Round an exact rational half away from zero to ``places`` decimals (PostgreSQL's numeric ``round``)."""
    scaled = abs(value) * 10**places
    rounded = int(scaled + Fraction(1, 2))  # floor(|x| + 1/2): ties go up, i.e. away from zero
    sign = -1 if value < 0 else 1
    return Decimal(sign * rounded).scaleb(-places)


def period_of(day: date, time_period: str) -> tuple[date, date]:
    """The (start, inclusive end) of the daily/ISO-weekly/monthly period containing ``day``."""
    if time_period == "daily":
        return day, day
    if time_period == "weekly":
        monday = day - timedelta(days=day.weekday())
        return monday, monday + timedelta(days=6)
    if time_period == "monthly":
        last = calendar.monthrange(day.year, day.month)[1]
        return day.replace(day=1), day.replace(day=last)
    raise ValueError(time_period)


def next_period(period: tuple[date, date], time_period: str) -> tuple[date, date]:
    """The period right after ``period``."""
    return period_of(period[1] + timedelta(days=1), time_period)


def compute_goals(
    source: Source,
    daily: dict[tuple[UUID, date], DayFigures],
    by_category: dict[tuple[UUID, date, UUID | None], DayFigures],
    as_of: datetime,
) -> dict[tuple[UUID, date, date], GoalSnapshot]:
    """One snapshot per active goal and period, from its creation period to the as-of period."""
    snapshots: dict[tuple[UUID, date, date], GoalSnapshot] = {}
    for goal in source.goals:
        if not goal["is_active"]:
            continue
        user_id = goal["user_id"]
        tz_name = source.users[user_id]["timezone"]
        today = local_date_of(int(as_of.timestamp() // 60), tz_name)
        created_day = local_date_of(int(goal["created_at"].timestamp() // 60), tz_name)
        time_period, target_type, target = goal["time_period"], goal["target_type"], goal["target_value"]
        category_id = goal["category_id"]
        period = period_of(created_day, time_period)
        current = period_of(today, time_period)
        while period[0] <= current[0]:
            days = [period[0] + timedelta(days=i) for i in range((period[1] - period[0]).days + 1)]

            if category_id is None:
                rows: list[DayFigures] = [daily.get((user_id, d), DayFigures()) for d in days]
            else:
                rows = [by_category.get((user_id, d, category_id), DayFigures()) for d in days]
            totals = [daily.get((user_id, d), DayFigures()) for d in days]

            achieved: int | None
            if target_type == "minutes":
                achieved = sum(r.scheduled_minutes for r in rows)
            elif target_type == "task_count":
                achieved = sum(r.completed_tasks_count for r in rows)
            elif category_id is None:  # ASSUMPTION: percentage needs a category
                achieved = None
            else:
                total = sum(r.scheduled_minutes for r in totals)
                part = sum(r.scheduled_minutes for r in rows)
                achieved = int(round_half_away(Fraction(100 * part, total))) if total else 0

            percent: Decimal | None = None
            status: str | None = None
            if achieved is not None:
                percent = min(round_half_away(Fraction(100 * achieved, target), 2), Decimal("999.99"))
                if period[1] < today or achieved >= target:
                    status = "achieved" if achieved >= target else "missed"
                else:
                    elapsed = (today - period[0]).days + 1
                    expected = (
                        Fraction(target) if target_type == "percentage" else Fraction(target * elapsed, len(days))
                    )
                    if achieved >= expected:
                        status = "on_track"
                    elif achieved >= Fraction(4, 5) * expected:
                        status = "at_risk"
                    else:
                        status = "behind"
            key = (goal["goal_id"], period[0], period[1])
            snapshots[key] = GoalSnapshot(
                goal["goal_id"],
                user_id,
                period[0],
                period[1],
                time_period,
                target_type,
                target,
                achieved,
                percent,
                status,
            )
            period = next_period(period, time_period)
    return snapshots


def as_utc(moment: datetime) -> datetime:
    """``moment`` in UTC (naive input is taken as UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
