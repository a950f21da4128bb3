"""A small fixed source dataset for the API tests, and the figures it must produce, computed by hand.

Two users carry the hand-computed cases: ``NY`` (America/New_York; the week
2025-03-03..09 ends on the day clocks spring forward) and ``KTM``
(Asia/Kathmandu, UTC+05:45, so UTC hours split local days at :15/:45). A third
user, ``OTHER``, owns a goal and a category that the other two must never see.
``NY`` also gets two completed tasks on the two local days before today, for
the "ending today" ranges and the streak rule.

Hand computation for NY, week 2025-03-03..09 (EST = UTC-5 until 2025-03-09 02:00, EDT = UTC-4 after):

| day | tasks (minutes) | focus avail / focus | completed | due / due completed |
|---|---|---|---|---|
| 03 | T1 Work 14:00-15:30Z = 09:00-10:30 (90); T2 Health 04-06Z on 04 = 23-01 (60) | 09-10: 60 / 60 | T1 | 1 / 1 |
| 04 | T2 Health (60 after midnight) | - | - | T2 (ends 01:00): 1 / 0 |
| 05 | T3 uncategorized 15:00-16:00Z = 10:00-11:00 (60); T5 cancelled | 10:30-12:00: 90 / 30 | T3 | T3: 1 / 1 |
| 06 | T7 Health 14:00-14:30Z (30) + one slot without offset (invalid); T6 deleted | - | T7 | T7: 1 / 1 |
| 09 | T4 Work 13:00-14:00Z = 09:00-10:00 EDT (60) | 01:00-04:00 = 06:00Z-08:00Z: 120 / 0 | T4 | T4: 1 / 1 |

Week: 360 scheduled minutes (Work 150, Health 150, uncategorized 60), 4 completed, focus 90 of 270
available, 5 due of which 4 completed, streak as of 09 = 1 (08 has none).

KTM (UTC+05:45), same week:
- K1 Study 2025-03-03T18:00Z-19:00Z = 03 23:45 - 04 00:45: 15 minutes on 03, 45 on 04; completed 18:30Z = 04 00:15.
- K2 uncategorized, pending, 2025-03-04T18:15Z-18:45Z = 05 00:00-00:30: 30 on 05, due 05.
- K3 Study, completed, 2025-03-05T17:15Z-18:15Z = 05 23:00-24:00: 60 on 05; due 05 (ends at midnight);
  completed 17:30Z = 05 23:15.
- focus 04: 00:00-00:30 (30 available; K1 covers it: 30 focus).
Week: 150 minutes (Study 120, uncategorized 30), 2 completed (04, 05), focus 30 of 30, 3 due / 2 completed.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import psycopg

NY = UUID("00000000-0000-4000-8000-000000000001")
KTM = UUID("00000000-0000-4000-8000-000000000002")
OTHER = UUID("00000000-0000-4000-8000-000000000003")
EMPTY = UUID("00000000-0000-4000-8000-000000000004")
UNKNOWN_ZONE = UUID("00000000-0000-4000-8000-000000000005")
NY_ZONE = ZoneInfo("America/New_York")

WORK = UUID("00000000-0000-4000-8000-0000000000c1")
HEALTH = UUID("00000000-0000-4000-8000-0000000000c2")
STUDY = UUID("00000000-0000-4000-8000-0000000000c3")
OTHERS_CATEGORY = UUID("00000000-0000-4000-8000-0000000000c4")

OTHERS_GOAL = UUID("00000000-0000-4000-8000-0000000000f1")
GOALS_CREATED_AT = "2025-03-01T12:00:00Z"

# Goals of NY: every target type x period, plus an inactive one. name -> (type, value, period, category)
NY_GOALS: dict[str, tuple[str, int, str, UUID | None]] = {
    "daily minutes": ("minutes", 60, "daily", None),
    "daily percentage health": ("percentage", 50, "daily", HEALTH),
    "daily tasks": ("task_count", 1, "daily", None),
    "weekly minutes work": ("minutes", 200, "weekly", WORK),
    "weekly percentage work": ("percentage", 50, "weekly", WORK),
    "weekly tasks": ("task_count", 3, "weekly", None),
    "monthly minutes": ("minutes", 300, "monthly", None),
    "monthly percentage health": ("percentage", 40, "monthly", HEALTH),
    "monthly tasks work": ("task_count", 10, "monthly", WORK),
}
KTM_GOALS: dict[str, tuple[str, int, str, UUID | None]] = {
    "weekly study minutes": ("minutes", 100, "weekly", STUDY),
    "weekly study share": ("percentage", 90, "weekly", STUDY),
    "daily tasks": ("task_count", 1, "daily", None),
}

# Hand-computed progress of NY's goals over the periods containing 2025-03-03 (all long ended).
# name -> (period_start, period_end, achieved_value, percent_complete, status)
NY_PROGRESS_2025_03_03: dict[str, tuple[str, str, int, float, str]] = {
    "daily minutes": ("2025-03-03", "2025-03-03", 150, 250.0, "achieved"),
    "daily percentage health": ("2025-03-03", "2025-03-03", 40, 80.0, "missed"),  # 60 of 150 minutes
    "daily tasks": ("2025-03-03", "2025-03-03", 1, 100.0, "achieved"),
    "weekly minutes work": ("2025-03-03", "2025-03-09", 150, 75.0, "missed"),
    "weekly percentage work": ("2025-03-03", "2025-03-09", 42, 84.0, "missed"),  # round(41.67) = 42
    "weekly tasks": ("2025-03-03", "2025-03-09", 4, 133.33, "achieved"),
    "monthly minutes": ("2025-03-01", "2025-03-31", 360, 120.0, "achieved"),
    "monthly percentage health": ("2025-03-01", "2025-03-31", 42, 105.0, "achieved"),
    "monthly tasks work": ("2025-03-01", "2025-03-31", 2, 20.0, "missed"),
}


def goal_id(owner: UUID, name: str) -> UUID:
    """The fixed id of a goal of the dataset."""
    import uuid

    return uuid.uuid5(owner, name)


def _slot(start: str, end: str) -> dict[str, str]:
    return {"start": start, "end": end}


def ny_local_today() -> date:
    """NY's local date now (an independent reference: zoneinfo, not the database)."""
    return datetime.now(NY_ZONE).date()


def _ny_instant(day: date, hour: int, minute: int = 0) -> str:
    return datetime.combine(day, time(hour, minute), NY_ZONE).isoformat()


def recent_ny_tasks(today: date) -> list[tuple[Any, ...]]:
    """R1 (Work, 60 min, yesterday) and R2 (uncategorized, 30 min, two days ago), both completed."""
    yesterday, before = today - timedelta(days=1), today - timedelta(days=2)
    return [
        (
            UUID("00000000-0000-4000-8000-0000000000e1"),
            NY,
            WORK,
            "R1",
            "completed",
            [_slot(_ny_instant(yesterday, 10), _ny_instant(yesterday, 11))],
            _ny_instant(yesterday, 11, 30),
            None,
        ),
        (
            UUID("00000000-0000-4000-8000-0000000000e2"),
            NY,
            None,
            "R2",
            "completed",
            [_slot(_ny_instant(before, 10), _ny_instant(before, 10, 30))],
            _ny_instant(before, 10, 45),
            None,
        ),
    ]


def tasks(today: date) -> list[tuple[Any, ...]]:
    """(task_id, user_id, category_id, title, status, slots, completed_at, deleted_at) of every task."""
    t = UUID
    return [
        (t("00000000-0000-4000-8000-0000000000a1"), NY, WORK, "T1", "completed",
         [_slot("2025-03-03T14:00:00Z", "2025-03-03T15:30:00Z")], "2025-03-03T16:00:00Z", None),
        (t("00000000-0000-4000-8000-0000000000a2"), NY, HEALTH, "T2", "scheduled",
         [_slot("2025-03-04T04:00:00Z", "2025-03-04T06:00:00Z")], None, None),
        (t("00000000-0000-4000-8000-0000000000a3"), NY, None, "T3", "completed",
         [_slot("2025-03-05T15:00:00Z", "2025-03-05T16:00:00Z")], "2025-03-05T17:00:00Z", None),
        (t("00000000-0000-4000-8000-0000000000a4"), NY, WORK, "T4", "completed",
         [_slot("2025-03-09T13:00:00Z", "2025-03-09T14:00:00Z")], "2025-03-09T15:00:00Z", None),
        (t("00000000-0000-4000-8000-0000000000a5"), NY, WORK, "T5", "cancelled",
         [_slot("2025-03-05T14:00:00Z", "2025-03-05T15:00:00Z")], None, None),
        (t("00000000-0000-4000-8000-0000000000a6"), NY, WORK, "T6", "completed",
         [_slot("2025-03-06T15:00:00Z", "2025-03-06T16:00:00Z")], "2025-03-06T16:00:00Z", "2025-03-07T00:00:00Z"),
        (t("00000000-0000-4000-8000-0000000000a7"), NY, HEALTH, "T7", "completed",
         [_slot("2025-03-06T14:00:00Z", "2025-03-06T14:30:00Z"), _slot("2025-03-06T10:00:00", "2025-03-06T11:00:00")],
         "2025-03-06T15:00:00Z", None),
        (t("00000000-0000-4000-8000-0000000000b1"), KTM, STUDY, "K1", "completed",
         [_slot("2025-03-03T18:00:00Z", "2025-03-03T19:00:00Z")], "2025-03-03T18:30:00Z", None),
        (t("00000000-0000-4000-8000-0000000000b2"), KTM, None, "K2", "pending",
         [_slot("2025-03-04T18:15:00Z", "2025-03-04T18:45:00Z")], None, None),
        (t("00000000-0000-4000-8000-0000000000b3"), KTM, STUDY, "K3", "completed",
         [_slot("2025-03-05T17:15:00Z", "2025-03-05T18:15:00Z")], "2025-03-05T17:30:00Z", None),
        (t("00000000-0000-4000-8000-0000000000d1"), OTHER, OTHERS_CATEGORY, "O1", "completed",
         [_slot("2025-03-03T10:00:00Z", "2025-03-03T12:00:00Z")], "2025-03-03T12:00:00Z", None),
        *recent_ny_tasks(today),
    ]  # fmt: skip


CALENDAR_DAYS: list[tuple[UUID, str, list[dict[str, str]]]] = [
    (NY, "2025-03-03", [_slot("09:00", "10:00")]),
    (NY, "2025-03-05", [_slot("10:30", "12:00")]),
    (NY, "2025-03-09", [_slot("01:00", "04:00")]),
    (KTM, "2025-03-04", [_slot("00:00", "00:30")]),
]


def load(url: str) -> None:
    """Insert the dataset into the ``app`` tables of ``url`` (after ``pulse db init``)."""
    today = ny_local_today()
    with psycopg.connect(url, autocommit=False) as conn, conn.cursor() as cur:
        cur.executemany(
            "insert into app.users (user_id, email, timezone, created_at) values (%s, %s, %s, '2025-02-01T00:00Z')",
            [
                (NY, "ny@example.com", "America/New_York"),
                (KTM, "ktm@example.com", "Asia/Kathmandu"),
                (OTHER, "other@example.com", "UTC"),
                (EMPTY, "empty@example.com", "Europe/Berlin"),
                (UNKNOWN_ZONE, "mars@example.com", "Mars/Olympus_Mons"),  # the marts fall back to UTC
            ],
        )
        cur.executemany(
            "insert into app.categories (category_id, user_id, name) values (%s, %s, %s)",
            [(WORK, NY, "Work"), (HEALTH, NY, "Health"), (STUDY, KTM, "Study"), (OTHERS_CATEGORY, OTHER, "Private")],
        )
        cur.executemany(
            "insert into app.tasks (task_id, user_id, category_id, title, status, scheduled_slots, completed_at,"
            " deleted_at) values (%s, %s, %s, %s, %s, %s, %s, %s)",
            [(*row[:5], json.dumps(row[5]), *row[6:]) for row in tasks(today)],
        )
        cur.executemany(
            "insert into app.user_calendar_days (user_id, date, focus_slots) values (%s, %s, %s)",
            [(user, day, json.dumps(slots)) for user, day, slots in CALENDAR_DAYS],
        )
        goal_rows = [
            (goal_id(owner, name), owner, name, *spec, GOALS_CREATED_AT)
            for owner, goals in ((NY, NY_GOALS), (KTM, KTM_GOALS))
            for name, spec in goals.items()
        ]
        goal_rows.append((goal_id(NY, "inactive"), NY, "inactive", "minutes", 10, "weekly", None, GOALS_CREATED_AT))
        goal_rows.append((OTHERS_GOAL, OTHER, "private goal", "minutes", 30, "weekly", None, GOALS_CREATED_AT))
        cur.executemany(
            "insert into app.goals (goal_id, user_id, name, target_type, target_value, time_period, category_id,"
            " created_at, updated_at) values (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [(*row, row[-1]) for row in goal_rows],
        )
        cur.execute("update app.goals set is_active = false where goal_id = %s", (goal_id(NY, "inactive"),))
        conn.commit()
