"""The Python reference checked against figures computed by hand, so that it can be trusted to judge the marts."""

from __future__ import annotations

import sys
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import reference as ref

AS_OF = datetime(2025, 11, 5, 12, 0, tzinfo=UTC)


class World:
    """A tiny in-memory source: one user per instance."""

    def __init__(self, timezone: str) -> None:
        self.user_id = uuid.uuid4()
        self.source = ref.Source({self.user_id: {"user_id": self.user_id, "timezone": timezone}}, {}, [], [], [])

    def category(self, name: str) -> uuid.UUID:
        category_id = uuid.uuid4()
        self.source.categories[category_id] = {"category_id": category_id, "user_id": self.user_id, "name": name}
        return category_id

    def task(self, slots: Any, **fields: Any) -> uuid.UUID:
        task_id = uuid.uuid4()
        row = {
            "task_id": task_id,
            "user_id": self.user_id,
            "category_id": None,
            "status": "scheduled",
            "scheduled_slots": slots,
            "completed_at": None,
            "deleted_at": None,
        }
        row.update(fields)
        self.source.tasks.append(row)
        return task_id

    def focus(self, day: date, slots: Any) -> None:
        self.source.calendar_days.append({"user_id": self.user_id, "date": day, "focus_slots": slots})

    def goal(self, target_type: str, target: int, period: str, created: datetime, category: Any = None) -> uuid.UUID:
        goal_id = uuid.uuid4()
        self.source.goals.append(
            {
                "goal_id": goal_id,
                "user_id": self.user_id,
                "target_type": target_type,
                "target_value": target,
                "time_period": period,
                "category_id": category,
                "is_active": True,
                "created_at": created,
            }
        )
        return goal_id

    def compute(self, as_of: datetime = AS_OF) -> ref.Reference:
        return ref.compute(self.source, as_of)

    def minutes(self, result: ref.Reference) -> dict[date, int]:
        return {d: f.scheduled_minutes for (_, d), f in result.daily.items() if f.scheduled_minutes}


def slot(start: str, end: str) -> dict[str, str]:
    return {"start": start, "end": end}


def test_new_york_spring_forward_day_has_23_hours() -> None:
    world = World("America/New_York")
    world.task([slot("2025-03-09T00:00:00-05:00", "2025-03-10T00:00:00-04:00")])
    assert world.minutes(world.compute()) == {date(2025, 3, 9): 23 * 60}


def test_new_york_fall_back_day_has_25_hours() -> None:
    world = World("America/New_York")
    world.task([slot("2025-11-02T04:00:00Z", "2025-11-03T05:00:00Z")])
    assert world.minutes(world.compute()) == {date(2025, 11, 2): 25 * 60}


def test_kathmandu_slot_crossing_midnight_is_split_and_due_next_day() -> None:
    world = World("Asia/Kathmandu")  # +05:45: 18:00Z is 23:45 local
    world.task([slot("2025-06-01T18:00:00Z", "2025-06-01T19:00:00Z")])
    result = world.compute()
    assert world.minutes(result) == {date(2025, 6, 1): 15, date(2025, 6, 2): 45}
    assert result.daily[(world.user_id, date(2025, 6, 2))].tasks_due_count == 1
    assert result.daily[(world.user_id, date(2025, 6, 1))].tasks_due_count == 0


def test_slot_ending_exactly_at_local_midnight_is_due_on_the_day_that_ends_there() -> None:
    world = World("Asia/Kathmandu")
    world.task([slot("2025-06-01T23:00:00+05:45", "2025-06-02T00:00:00+05:45")], status="completed")
    result = world.compute()
    assert world.minutes(result) == {date(2025, 6, 1): 60}
    day = result.daily[(world.user_id, date(2025, 6, 1))]
    assert (day.tasks_due_count, day.tasks_due_completed_count) == (1, 1)
    assert (world.user_id, date(2025, 6, 2)) not in result.daily


def test_lord_howe_half_hour_dst_days() -> None:
    world = World("Australia/Lord_Howe")  # +10:30 standard, +11:00 daylight from 2025-10-05 02:00
    world.task([slot("2025-10-04T00:00:00Z", "2025-10-06T00:00:00Z")])
    # 10-04 window starts 10-03 13:30Z; 10-05 runs 10-04 13:30Z .. 10-05 13:00Z (23.5 h); 10-06 from 10-05 13:00Z.
    assert world.minutes(world.compute()) == {date(2025, 10, 4): 810, date(2025, 10, 5): 1410, date(2025, 10, 6): 660}


def test_lord_howe_fall_back_day_has_24_and_a_half_hours() -> None:
    world = World("Australia/Lord_Howe")
    world.focus(date(2025, 4, 6), [slot("00:00", "24:00")])
    result = world.compute()
    assert result.daily[(world.user_id, date(2025, 4, 6))].focus_available_minutes == 1470


def test_focus_slot_across_the_spring_forward_gap_is_two_hours() -> None:
    world = World("America/New_York")
    world.focus(date(2025, 3, 9), [slot("01:00", "04:00")])
    # 01:30 EST .. 03:30 EDT = 06:30Z .. 07:30Z: one hour of it inside focus.
    world.task([slot("2025-03-09T06:30:00Z", "2025-03-09T07:30:00Z")])
    day = world.compute().daily[(world.user_id, date(2025, 3, 9))]
    assert (day.focus_available_minutes, day.focus_minutes, day.scheduled_minutes) == (120, 60, 60)


def test_focus_slot_inside_the_gap_is_valid_and_empty() -> None:
    world = World("America/New_York")
    # 02:30 does not exist and resolves to 07:30Z (= 03:30 EDT); 03:00 EDT is 07:00Z: an empty interval.
    world.focus(date(2025, 3, 9), [slot("02:30", "03:00"), slot("02:00", "03:00")])
    result = world.compute()
    assert result.invalid_slots == []
    assert (world.user_id, date(2025, 3, 9)) not in result.daily


def test_ambiguous_focus_times_take_the_offset_after_the_transition() -> None:
    world = World("America/New_York")
    world.focus(date(2025, 11, 2), [slot("01:00", "02:00")])  # 06:00Z .. 07:00Z
    world.focus(date(2025, 11, 1), [slot("00:00", "24:00")])
    result = world.compute()
    assert result.daily[(world.user_id, date(2025, 11, 2))].focus_available_minutes == 60
    assert result.daily[(world.user_id, date(2025, 11, 1))].focus_available_minutes == 1440
    world2 = World("America/New_York")
    world2.focus(date(2025, 11, 2), [slot("00:00", "01:30"), slot("01:00", "02:00")])  # 04:00Z..06:30Z + 06:00Z..07:00Z
    assert world2.compute().daily[(world2.user_id, date(2025, 11, 2))].focus_available_minutes == 180


def test_focus_ending_24_00_on_a_25_hour_day() -> None:
    world = World("America/New_York")
    world.focus(date(2025, 11, 2), [slot("00:00", "24:00")])
    assert world.compute().daily[(world.user_id, date(2025, 11, 2))].focus_available_minutes == 1500


def test_havana_ambiguous_midnight_puts_the_first_hour_in_the_previous_day() -> None:
    world = World("America/Havana")  # 2025-11-02 01:00 CDT -> 00:00 CST; 00:00 resolves to CST (05:00Z)
    world.task([], status="completed", completed_at=datetime(2025, 11, 2, 4, 30, tzinfo=UTC))
    world.task([], status="completed", completed_at=datetime(2025, 11, 2, 5, 0, tzinfo=UTC))
    world.focus(date(2025, 11, 1), [slot("23:00", "24:00")])  # 03:00Z .. 05:00Z
    result = world.compute()
    assert result.daily[(world.user_id, date(2025, 11, 1))].completed_tasks_count == 1
    assert result.daily[(world.user_id, date(2025, 11, 2))].completed_tasks_count == 1
    assert result.daily[(world.user_id, date(2025, 11, 1))].focus_available_minutes == 120


def test_santiago_midnight_gap_day_starts_at_the_old_offset() -> None:
    world = World("America/Santiago")  # 2025-09-07 00:00 -04 -> 01:00 -03
    world.task([slot("2025-09-07T03:00:00Z", "2025-09-07T05:00:00Z")])
    assert world.minutes(world.compute()) == {date(2025, 9, 6): 60, date(2025, 9, 7): 60}


def test_truncation_to_the_minute_and_overlaps_sum() -> None:
    world = World("UTC")
    world.focus(date(2025, 6, 1), [slot("10:00", "11:00"), slot("10:30", "12:00")])
    world.task(
        [
            slot("2025-06-01T10:00:59.999999Z", "2025-06-01T10:30:01+00:00"),  # 10:00 .. 10:30
            slot("2025-06-01T10:15:00Z", "2025-06-01T10:45:30Z"),  # 10:15 .. 10:45, overlaps the first
        ]
    )
    world.task([slot("2025-06-01T15:29:00+05:30", "2025-06-01T16:00+05:30")])  # 09:59 .. 10:30
    day = world.compute().daily[(world.user_id, date(2025, 6, 1))]
    assert day.scheduled_minutes == 30 + 30 + 31
    assert day.focus_available_minutes == 120
    assert day.focus_minutes == 45  # union 09:59 .. 10:45 inside focus 10:00 .. 12:00


def test_counted_tasks_and_categories() -> None:
    world = World("UTC")
    work, home = world.category("work"), world.category("home")
    one_hour = [slot("2025-06-01T10:00:00Z", "2025-06-01T11:00:00Z")]
    world.task(
        one_hour, category_id=work, status="completed", completed_at=datetime(2025, 6, 1, 23, 59, 59, tzinfo=UTC)
    )
    world.task(one_hour, category_id=home)
    world.task(one_hour)
    world.task(one_hour, status="cancelled")
    world.task(one_hour, deleted_at=datetime(2025, 6, 2, tzinfo=UTC))
    world.task([], status="completed", completed_at=datetime(2025, 6, 2, tzinfo=UTC), category_id=home)
    world.focus(date(2025, 6, 1), [slot("10:30", "12:00")])
    result = world.compute()
    day = result.daily[(world.user_id, date(2025, 6, 1))]
    assert day.scheduled_minutes == 180
    assert day.category_minutes == {str(work): 60, str(home): 60, "uncategorized": 60}
    assert (day.completed_tasks_count, day.tasks_due_count, day.tasks_due_completed_count) == (1, 3, 1)
    assert day.focus_minutes == 30
    per_category = {c: f.focus_minutes for (_, d, c), f in result.by_category.items() if d == date(2025, 6, 1)}
    assert per_category == {work: 30, home: 30, None: 30}
    assert result.daily[(world.user_id, date(2025, 6, 2))].completed_tasks_count == 1


def test_every_invalid_kind_is_listed_once() -> None:
    world = World("UTC")
    bad = [
        "a string",
        {"start": "2025-06-01T10:00:00Z"},
        {"start": "2025-06-01T10:00:00Z", "end": "tomorrow"},
        {"start": "2025-06-01T10:00:00", "end": "2025-06-01T11:00:00Z"},
        {"start": "2025-06-01T10:00:10Z", "end": "2025-06-01T10:00:50Z"},
        {"start": "2025-02-30T10:00:00Z", "end": "2025-03-01T11:00:00Z"},
        {"start": 1, "end": 2},
    ]
    good = {"start": "2025-06-01T10:00:00Z", "end": "2025-06-01T11:00:00Z"}
    task_id = world.task([*bad, good], status="cancelled")
    world.task({"start": "x"}, deleted_at=datetime(2025, 6, 1, tzinfo=UTC))
    world.focus(date(2025, 6, 1), [slot("24:00", "24:00"), slot("09:00", "08:00"), slot("9:00", "10:00"), [], "x"])
    world.focus(date(2025, 6, 2), {"start": "09:00"})
    result = world.compute()
    scheduled = [s for s in result.invalid_slots if s.source == "scheduled" and s.task_id == task_id]
    assert [s.reasons for s in scheduled] == [
        {ref.NOT_OBJECT},
        {ref.MISSING},
        {ref.UNPARSEABLE},
        {ref.NO_OFFSET},
        {ref.NOT_AFTER},
        {ref.UNPARSEABLE},
        {ref.UNPARSEABLE},
    ]
    assert sum(s.reasons == {ref.NOT_ARRAY} for s in result.invalid_slots) == 2
    focus = [s.reasons for s in result.invalid_slots if s.source == "focus" and s.date == date(2025, 6, 1)]
    assert focus == [
        {ref.UNPARSEABLE, ref.NOT_AFTER},
        {ref.NOT_AFTER},
        {ref.UNPARSEABLE},
        {ref.NOT_OBJECT},
        {ref.NOT_OBJECT},
    ]
    assert result.daily == {}  # the cancelled task's valid slot is not counted


def test_instant_spellings_at_the_edges_of_the_grammar() -> None:
    ten_utc = int(datetime(2025, 6, 1, 10, 0, tzinfo=UTC).timestamp()) // 60
    assert ref.parse_instant("2025-06-01 10:00:00Z") == ten_utc  # a space for the T, as PostgreSQL reads it
    assert ref.parse_instant("2025-06-01T15:59:30+05:59") == ten_utc
    assert ref.parse_instant("2025-06-02T01:59:59.5+15:59") == ten_utc  # the largest offset timestamptz holds
    assert ref.parse_instant("2025-06-01 10:00") == ref.NO_OFFSET
    assert ref.parse_instant("2025-06-02T02:00:00+16:00") == ref.UNPARSEABLE
    assert ref.parse_instant("2025-06-01T10:00:00-25:00") == ref.UNPARSEABLE


def test_goal_rounding_and_caps() -> None:
    world = World("UTC")
    work = world.category("work")
    # 2025-06-02 is a Monday. 1 minute of work among 8 minutes: 12.5 % -> 13 (half away from zero).
    world.task([slot("2025-06-02T10:00:00Z", "2025-06-02T10:01:00Z")], category_id=work)
    world.task([slot("2025-06-02T11:00:00Z", "2025-06-02T11:07:00Z")])
    world.task([slot("2025-06-03T11:00:00Z", "2025-06-03T11:10:00Z")])  # Tuesday, uncategorized
    created = datetime(2025, 6, 2, 8, tzinfo=UTC)
    percentage = world.goal("percentage", 50, "daily", created, work)
    tiny = world.goal("minutes", 1, "weekly", created)
    huge = world.goal("minutes", 800, "weekly", created)
    result = world.compute(as_of=datetime(2025, 6, 3, 12, tzinfo=UTC))
    snap = result.goals[(percentage, date(2025, 6, 2), date(2025, 6, 2))]
    assert (snap.achieved_value, snap.percent_complete, snap.status) == (13, Decimal("26.00"), "missed")
    today = result.goals[(percentage, date(2025, 6, 3), date(2025, 6, 3))]
    assert (today.achieved_value, today.status) == (0, "behind")
    week = result.goals[(tiny, date(2025, 6, 2), date(2025, 6, 8))]
    assert (week.achieved_value, week.percent_complete, week.status) == (18, Decimal("999.99"), "achieved")
    # 18 of 800 after 2 of 7 days: expected 228.57, 80 % of it 182.86 -> behind; 2.25 %.
    slow = result.goals[(huge, date(2025, 6, 2), date(2025, 6, 8))]
    assert (slow.achieved_value, slow.percent_complete, slow.status) == (18, Decimal("2.25"), "behind")
    assert len(result.goals) == 4


def test_goal_pace_boundaries() -> None:
    world = World("UTC")
    # 20 minutes on a Monday; weekly target 70: day 1 expects 10 -> on_track; day 2 expects 20 -> on_track (equal);
    # day 3 expects 30, 80 % = 24 -> behind. Target 25 * 7 days: day 1 expects 25, 80 % = 20 -> at_risk (equal).
    world.task([slot("2025-06-02T10:00:00Z", "2025-06-02T10:20:00Z")])
    created = datetime(2025, 6, 2, tzinfo=UTC)
    weekly = world.goal("minutes", 70, "weekly", created)
    pace = world.goal("minutes", 175, "weekly", created)
    monthly = world.goal("task_count", 3, "monthly", datetime(2025, 4, 30, 23, tzinfo=UTC))
    week = (date(2025, 6, 2), date(2025, 6, 8))

    def status(goal_id: uuid.UUID, as_of: datetime, period: tuple[date, date] = week) -> str | None:
        return world.compute(as_of).goals[(goal_id, *period)].status

    assert status(weekly, datetime(2025, 6, 2, 23, tzinfo=UTC)) == "on_track"
    assert status(weekly, datetime(2025, 6, 3, 1, tzinfo=UTC)) == "on_track"
    assert status(weekly, datetime(2025, 6, 4, 1, tzinfo=UTC)) == "behind"
    assert status(pace, datetime(2025, 6, 2, 1, tzinfo=UTC)) == "at_risk"
    goals = world.compute(datetime(2025, 6, 4, tzinfo=UTC)).goals
    months = sorted(k[1] for k in goals if k[0] == monthly)
    assert months == [date(2025, 4, 1), date(2025, 5, 1), date(2025, 6, 1)]
    assert goals[(monthly, date(2025, 4, 1), date(2025, 4, 30))].status == "missed"


def test_resolve_local_matches_postgres_rules() -> None:
    # Gap: offset before the transition; ambiguous: offset after it (PostgreSQL's documented behaviour).
    gap = ref.resolve_local(datetime(2025, 3, 9, 2, 30), "America/New_York")
    ambiguous = ref.resolve_local(datetime(2025, 11, 2, 1, 30), "America/New_York")
    assert datetime.fromtimestamp(gap, UTC) == datetime(2025, 3, 9, 7, 30, tzinfo=UTC)
    assert datetime.fromtimestamp(ambiguous, UTC) == datetime(2025, 11, 2, 6, 30, tzinfo=UTC)
    lord_howe = ref.resolve_local(datetime(2025, 4, 6, 1, 45), "Australia/Lord_Howe")
    assert datetime.fromtimestamp(lord_howe, UTC) == datetime(2025, 4, 5, 15, 15, tzinfo=UTC)
    cairo = ref.resolve_local(datetime(2025, 4, 25, 0, 30), "Africa/Cairo")
    assert datetime.fromtimestamp(cairo, UTC) == datetime(2025, 4, 24, 22, 30, tzinfo=UTC)


def test_goal_today_and_creation_day_follow_the_day_windows() -> None:
    # Havana, 2025-11-02: 01:00 CDT -> 00:00 CST. 04:30Z is the first 00:30, inside the 25-hour window of 11-01
    # (04:00Z .. 05:00Z next day), so both the creation day and "today" are 11-01 and 11-02 is still future.
    world = World("America/Havana")
    moment = datetime(2025, 11, 2, 4, 30, tzinfo=UTC)
    goal = world.goal("minutes", 30, "daily", moment)
    periods = {k[1]: s.status for k, s in world.compute(as_of=moment).goals.items() if k[0] == goal}
    assert periods == {date(2025, 11, 1): "behind"}
    later = {k[1]: s.status for k, s in world.compute(as_of=moment + timedelta(minutes=30)).goals.items()}
    assert later == {date(2025, 11, 1): "missed", date(2025, 11, 2): "behind"}
