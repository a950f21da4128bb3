"""Hard source data for the warehouse checks, written straight into the ``app`` tables of a test database.

Every time-zone kind (whole, half-hour and 45-minute offsets, +14 and -12,
30-minute DST, DST changes at local midnight), the days around each DST
transition of 2025, slots that cross or touch local midnight, sit in gap and
ambiguous hours, overlap within and across tasks and categories, span several
days or carry odd offsets and seconds; focus slots that overlap, end at 24:00
or span the DST hour; every kind of invalid slot and garbage JSON of every type
in both slot columns; cancelled, deleted and completed-at-midnight tasks; goals
of every type and period, some inactive. Deterministic for a given seed.

The generator only chooses inputs; the expected figures come from
``reference.py`` (and the SQL marts are compared against those).
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import psycopg
from psycopg.types.json import Jsonb

AS_OF = datetime(2025, 11, 5, 12, 0, tzinfo=UTC)  # a Wednesday

ZONES = [
    "UTC",
    "America/New_York",
    "Europe/London",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Pacific/Chatham",
    "America/St_Johns",
    "Pacific/Kiritimati",
    "Etc/GMT+12",
    "America/Santiago",
    "America/Havana",
    "Africa/Cairo",
    "Mars/Olympus_Mons",  # not a zone: computed in UTC, and must not stop the run
]

# Offsets (minutes) the slot strings are written in, whatever the user's zone.
ODD_OFFSETS = [0, 345, -210, 840, -720, 330, 765, -150, 60, -300]

GARBAGE_JSON: list[Any] = [
    None,
    True,
    False,
    0,
    -3.5,
    "",
    "2025-06-01T10:00:00Z",
    {},
    {"start": "2025-06-01T10:00:00Z", "end": "2025-06-01T11:00:00Z"},
]

INVALID_SCHEDULED: list[Any] = [
    "not an object",
    42,
    None,
    True,
    [],
    ["2025-06-01T10:00:00Z", "2025-06-01T11:00:00Z"],
    {},
    {"start": "2025-06-01T10:00:00Z"},
    {"end": "2025-06-01T10:00:00Z"},
    {"begin": "2025-06-01T10:00:00Z", "finish": "2025-06-01T11:00:00Z"},
    {"start": "garbage", "end": "2025-06-01T11:00:00Z"},
    {"start": "2025-06-01T10:00:00Z", "end": "tomorrow"},
    {"start": "2025-06-01T10:00:00Z", "end": "infinity"},
    {"start": "now", "end": "2025-06-01T11:00:00Z"},
    {"start": "epoch", "end": "2025-06-01T11:00:00Z"},
    {"start": "2025-02-30T10:00:00Z", "end": "2025-03-01T11:00:00Z"},
    {"start": "2025-13-01T10:00:00Z", "end": "2025-13-01T11:00:00Z"},
    {"start": "2025-03-09T25:00:00Z", "end": "2025-03-09T26:00:00Z"},
    {"start": "2025-03-09T10:61:00Z", "end": "2025-03-09T11:00:00Z"},
    {"start": "2025-03-09T10:00:00+25:00", "end": "2025-03-09T11:00:00Z"},
    {"start": "2025-03-09", "end": "2025-03-10"},
    {"start": 1741514400, "end": 1741518000},
    {"start": None, "end": "2025-06-01T11:00:00Z"},
    {"start": "2025-06-01T10:00:00Z", "end": None},
    {"start": {"at": "2025-06-01T10:00:00Z"}, "end": "2025-06-01T11:00:00Z"},
    {"start": ["2025-06-01T10:00:00Z"], "end": "2025-06-01T11:00:00Z"},
    {"start": "2025-06-01T10:00:00", "end": "2025-06-01T11:00:00Z"},
    {"start": "2025-06-01T10:00:00Z", "end": "2025-06-01T11:00:00"},
    {"start": "2025-06-01T10:00:00Z", "end": "2025-06-01T10:00:00Z"},
    {"start": "2025-06-01T11:00:00Z", "end": "2025-06-01T10:00:00Z"},
    {"start": "2025-06-01T10:00:10Z", "end": "2025-06-01T10:00:50Z"},
    {"start": "2025-06-01T15:30:59+05:30", "end": "2025-06-01T10:00:30Z"},
    {"Start": "2025-06-01T10:00:00Z", "End": "2025-06-01T11:00:00Z"},
]

# Both ends truncate to 10:00 (end <= start: invalid), but rounding to microseconds first would make it valid.
SUB_MICROSECOND_INVALID = {"start": "2025-06-01T10:00:00.9999999Z", "end": "2025-06-01T10:00:59.9999999Z"}

INVALID_FOCUS: list[Any] = [
    "09:00-10:00",
    900,
    None,
    [],
    {},
    {"start": "09:00"},
    {"end": "10:00"},
    {"start": "24:00", "end": "24:00"},
    {"start": "24:00", "end": "23:00"},
    {"start": "25:00", "end": "26:00"},
    {"start": "12:60", "end": "13:00"},
    {"start": "9:00", "end": "10:00"},
    {"start": "09:00:00", "end": "10:00:00"},
    {"start": "noon", "end": "13:00"},
    {"start": 9, "end": 10},
    {"start": None, "end": "10:00"},
    {"start": "", "end": "10:00"},
    {"start": "10:00", "end": "10:00"},
    {"start": "22:00", "end": "02:00"},
    {"start": "10:00", "end": "09:59"},
    {"start": "00:00", "end": "00:00"},
]


@dataclass
class Summary:
    """What was written, for the tests' own sanity checks."""

    users: int = 0
    tasks: int = 0
    calendar_days: int = 0
    goals: int = 0
    user_zones: dict[uuid.UUID, str] = field(default_factory=dict)
    task_ids: list[uuid.UUID] = field(default_factory=list)


def zone_or_utc(zone_name: str) -> ZoneInfo:
    """The zone of that name, or UTC for a name that is not a zone."""
    try:
        return ZoneInfo(zone_name)
    except (ValueError, ZoneInfoNotFoundError):
        return ZoneInfo("UTC")


def transitions(zone_name: str, year: int = 2025) -> list[datetime]:
    """UTC instants at which the zone's offset changes during ``year`` (scanned every 15 minutes)."""
    tz = zone_or_utc(zone_name)
    moment = datetime(year, 1, 1, tzinfo=UTC)
    previous = moment.astimezone(tz).utcoffset()
    found = []
    while moment.year == year:
        moment += timedelta(minutes=15)
        offset = moment.astimezone(tz).utcoffset()
        if offset != previous:
            found.append(moment)
            previous = offset
    return found


def at_local(day: date, hour: int, minute: int, zone_name: str) -> datetime:
    """An instant showing that wall time (the earlier one when ambiguous; shifted when in a gap)."""
    local = datetime(day.year, day.month, day.day, tzinfo=zone_or_utc(zone_name)) + timedelta(
        hours=hour, minutes=minute
    )
    return local.astimezone(UTC)


def instant_text(moment: datetime, offset_minutes: int, rng: random.Random, jitter: bool = True) -> str:
    """ISO-8601 text of ``moment`` written with that offset, with seconds inside the same minute."""
    local = moment.astimezone(UTC) + timedelta(minutes=offset_minutes)
    text = local.strftime("%Y-%m-%dT%H:%M")
    if jitter:
        choice = rng.randrange(5)
        if choice == 1:
            text += f":{rng.randrange(60):02d}"
        elif choice == 2:
            text += f":{rng.randrange(60):02d}.{rng.randrange(1000):03d}"
        elif choice == 3:
            text += ":59.999999"
        elif choice == 4:
            text += ":00"
    else:
        text += ":00"
    if offset_minutes == 0 and rng.random() < 0.5:
        return text + "Z"
    sign = "+" if offset_minutes >= 0 else "-"
    hours, minutes = divmod(abs(offset_minutes), 60)
    return f"{text}{sign}{hours:02d}:{minutes:02d}"


class Writer:
    """Collects rows and inserts them in one go."""

    def __init__(self, rng: random.Random, instant_edges: bool) -> None:
        self.rng = rng
        self.instant_edges = instant_edges
        self.users: list[tuple[Any, ...]] = []
        self.categories: list[tuple[Any, ...]] = []
        self.tasks: list[tuple[Any, ...]] = []
        self.days: dict[tuple[uuid.UUID, date], Any] = {}
        self.goals: list[tuple[Any, ...]] = []
        self.summary = Summary()

    def new_id(self) -> uuid.UUID:
        """A version-4 UUID drawn from the seeded generator."""
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def slot(self, start: datetime, end: datetime) -> dict[str, str]:
        """A scheduled slot written with random odd offsets and sub-minute seconds."""
        return {
            "start": instant_text(start, self.rng.choice(ODD_OFFSETS), self.rng),
            "end": instant_text(end, self.rng.choice(ODD_OFFSETS), self.rng),
        }

    def task(
        self,
        user_id: uuid.UUID,
        category_id: uuid.UUID | None,
        slots: Any,
        status: str | None = None,
        completed_at: datetime | None = None,
        deleted_at: datetime | None = None,
        may_delete: bool = True,
    ) -> uuid.UUID:
        """Add a task; status drawn at random unless given; soft-deleted now and then when ``may_delete``."""
        rng = self.rng
        if status is None:
            status = rng.choices(["pending", "scheduled", "completed", "cancelled"], [2, 4, 4, 1])[0]
        if status == "completed" and completed_at is None and rng.random() < 0.9:
            completed_at = AS_OF - timedelta(minutes=rng.randrange(60 * 24 * 300))
        if deleted_at is None and may_delete and rng.random() < 0.08:
            deleted_at = AS_OF - timedelta(days=1)
        task_id = self.new_id()
        self.tasks.append(
            (task_id, user_id, category_id, f"task {len(self.tasks)}", status, Jsonb(slots), completed_at, deleted_at)
        )
        self.summary.task_ids.append(task_id)
        return task_id

    def focus(self, user_id: uuid.UUID, day: date, slots: Any) -> None:
        """Set (or extend, when both are arrays) the focus slots of a day."""
        key = (user_id, day)
        if key in self.days and isinstance(self.days[key], list) and isinstance(slots, list):
            self.days[key] = self.days[key] + slots
        else:
            self.days[key] = slots

    def goal(
        self,
        user_id: uuid.UUID,
        target_type: str,
        target: int,
        period: str,
        created_at: datetime,
        category_id: uuid.UUID | None,
        active: bool = True,
    ) -> None:
        """Add a goal."""
        self.goals.append(
            (
                self.new_id(),
                user_id,
                f"{target_type} {period}",
                target_type,
                target,
                period,
                category_id,
                active,
                created_at,
            )
        )

    def write(self, conn: psycopg.Connection[Any]) -> Summary:
        """Insert everything (one transaction)."""
        with conn.cursor() as cur:
            cur.executemany("insert into app.users (user_id, email, timezone) values (%s, %s, %s)", self.users)
            cur.executemany(
                "insert into app.categories (category_id, user_id, name, color) values (%s, %s, %s, %s)",
                self.categories,
            )
            cur.executemany(
                "insert into app.tasks (task_id, user_id, category_id, title, status, scheduled_slots,"
                " completed_at, deleted_at) values (%s, %s, %s, %s, %s, %s, %s, %s)",
                self.tasks,
            )
            cur.executemany(
                "insert into app.user_calendar_days (user_id, date, focus_slots) values (%s, %s, %s)",
                [(u, d, Jsonb(s)) for (u, d), s in self.days.items()],
            )
            cur.executemany(
                "insert into app.goals (goal_id, user_id, name, target_type, target_value, time_period,"
                " category_id, is_active, created_at) values (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                self.goals,
            )
        conn.commit()
        self.summary.users = len(self.users)
        self.summary.tasks = len(self.tasks)
        self.summary.calendar_days = len(self.days)
        self.summary.goals = len(self.goals)
        return self.summary


def add_zone_user(writer: Writer, zone_name: str) -> None:
    """One user in ``zone_name`` with hard slots around each of its 2025 transitions."""
    rng = writer.rng
    user_id = writer.new_id()
    writer.users.append((user_id, f"{zone_name.lower().replace('/', '.')}@example.com", zone_name))
    writer.summary.user_zones[user_id] = zone_name
    categories = [writer.new_id() for _ in range(3)]
    for index, category_id in enumerate(categories):
        writer.categories.append((category_id, user_id, f"category {index}", None))

    def pick_category() -> uuid.UUID | None:
        return rng.choice([*categories, None])

    moments = transitions(zone_name)
    tz = zone_or_utc(zone_name)
    key_days = sorted({m.astimezone(tz).date() for m in moments} | {date(2025, 3, 9), date(2025, 11, 2)})
    key_days += [AS_OF.date() - timedelta(days=k) for k in (0, 1, 2, 9)] + [AS_OF.date() + timedelta(days=3)]
    for moment in moments:  # the hour around each transition instant, and the transition local wall times
        before, after = moment - timedelta(minutes=1), moment
        for offset in (-90, -45, -30, 0, 15, 30):
            start = moment + timedelta(minutes=offset)
            writer.task(user_id, pick_category(), [writer.slot(start, start + timedelta(minutes=60))])
        wall_before = before.astimezone(tz)
        wall_after = after.astimezone(tz)
        day = wall_after.date()
        # Focus slots that span, start in and end in the changed hour, written as wall-clock times.
        low = min(wall_before.hour, wall_after.hour)
        high = max(wall_before.hour, wall_after.hour) + 1
        focus = [
            {"start": f"{max(low - 1, 0):02d}:00", "end": f"{min(high + 1, 24):02d}:00"},
            {"start": f"{low:02d}:30", "end": f"{min(high, 24):02d}:00" if high > low else "24:00"},
            {"start": f"{low:02d}:{wall_after.minute:02d}", "end": f"{low:02d}:59"},
        ]
        writer.focus(user_id, day, focus)
        # A completed task at the transition instant and one a minute before it.
        writer.task(user_id, pick_category(), [], status="completed", completed_at=moment)
        writer.task(user_id, pick_category(), [], status="completed", completed_at=before)

    for day in key_days:
        midnight = at_local(day, 0, 0, zone_name)
        next_midnight = at_local(day + timedelta(days=1), 0, 0, zone_name)
        # Crossing, starting at and ending at local midnight; multi-day; overlapping within and across tasks.
        writer.task(
            user_id,
            pick_category(),
            [writer.slot(next_midnight - timedelta(minutes=35), next_midnight + timedelta(minutes=50))],
        )
        writer.task(user_id, pick_category(), [writer.slot(midnight, midnight + timedelta(minutes=90))])
        ends_at_midnight = writer.task(
            user_id,
            pick_category(),
            [
                writer.slot(next_midnight - timedelta(minutes=120), next_midnight),
                writer.slot(midnight + timedelta(hours=8), midnight + timedelta(hours=9)),
            ],
            status=rng.choice(["completed", "scheduled"]),
        )
        del ends_at_midnight
        writer.task(
            user_id,
            pick_category(),
            [writer.slot(midnight - timedelta(hours=13), next_midnight + timedelta(hours=11, minutes=7))],
        )
        base = midnight + timedelta(hours=rng.randrange(2, 20), minutes=rng.choice([0, 15, 30, 45]))
        shared_category = pick_category()
        writer.task(
            user_id,
            shared_category,
            [
                writer.slot(base, base + timedelta(minutes=45)),
                writer.slot(base + timedelta(minutes=30), base + timedelta(minutes=80)),
                writer.slot(base + timedelta(minutes=30), base + timedelta(minutes=80)),
            ],
        )
        writer.task(
            user_id, pick_category(), [writer.slot(base + timedelta(minutes=10), base + timedelta(minutes=100))]
        )
        # Completed exactly at local midnight (counts for the day that starts there) and just before it.
        writer.task(user_id, pick_category(), [writer.slot(base, base + timedelta(minutes=5))], "completed", midnight)
        writer.task(
            user_id, pick_category(), [], "completed", next_midnight - timedelta(microseconds=1)
        )  # last instant of the day
        # Cancelled and deleted tasks with valid slots: no minutes, but their invalid slots are listed.
        writer.task(
            user_id,
            pick_category(),
            [writer.slot(base, base + timedelta(hours=2)), rng.choice(INVALID_SCHEDULED)],
            status="cancelled",
        )
        writer.task(
            user_id,
            pick_category(),
            [writer.slot(base, base + timedelta(hours=3)), rng.choice(INVALID_SCHEDULED)],
            status="completed",
            completed_at=base,
            deleted_at=base + timedelta(days=1),
        )
        # A valid task carrying invalid neighbours: only the valid slot counts.
        writer.task(
            user_id,
            pick_category(),
            [
                rng.choice(INVALID_SCHEDULED),
                writer.slot(base, base + timedelta(minutes=20)),
                rng.choice(INVALID_SCHEDULED),
            ],
        )
        # Focus: overlapping slots, one ending at 24:00, one invalid neighbour.
        start_hour = rng.randrange(0, 20)
        writer.focus(
            user_id,
            day,
            [
                {"start": f"{start_hour:02d}:00", "end": f"{start_hour + 2:02d}:30"},
                {"start": f"{start_hour + 1:02d}:15", "end": f"{start_hour + 3:02d}:00"},
                {"start": "22:45", "end": "24:00"},
                rng.choice(INVALID_FOCUS),
            ],
        )
        # The next morning's focus meets the part of the crossing slot after midnight.
        writer.focus(user_id, day + timedelta(days=1), [{"start": "00:00", "end": "00:30"}])

    # Extra keys, the same invalid slot twice in one task, and a 40-day slot across the autumn transitions.
    writer.task(
        user_id,
        pick_category(),
        [
            {
                **writer.slot(*(at_local(date(2025, 6, 11), 9, 0, zone_name) + timedelta(minutes=m) for m in (0, 30))),
                "x": 1,
            }
        ]
        + [INVALID_SCHEDULED[10]] * 2,
        status="scheduled",
    )
    if writer.instant_edges:
        # Seven- and eight-digit fractions just below a minute: truncation, not rounding to microseconds first.
        near_minute = at_local(date(2025, 6, 10), 9, 0, zone_name)
        writer.task(
            user_id,
            pick_category(),
            [
                {
                    "start": near_minute.strftime("%Y-%m-%dT%H:%M:59.9999999Z"),
                    "end": (near_minute + timedelta(minutes=330 + 30)).strftime("%Y-%m-%dT%H:%M:59.99999999+05:30"),
                },
                SUB_MICROSECOND_INVALID,
            ],
            status="scheduled",
        )
        # A space for the T (an instant all the same), and a UTC offset past PostgreSQL's +-15:59 (unparseable).
        writer.task(
            user_id,
            pick_category(),
            [
                {
                    "start": near_minute.strftime("%Y-%m-%d %H:%M:00Z"),
                    "end": (near_minute + timedelta(minutes=45)).strftime("%Y-%m-%dT%H:%M:00Z"),
                },
                {
                    "start": (near_minute + timedelta(hours=16)).strftime("%Y-%m-%dT%H:%M:00+16:00"),
                    "end": (near_minute + timedelta(minutes=45)).strftime("%Y-%m-%dT%H:%M:00Z"),
                },
            ],
            status="scheduled",
        )
        writer.focus(user_id, date(2025, 6, 10), [{"start": "08:59", "end": "09:10", "note": 1}, INVALID_FOCUS[11]])
    writer.task(
        user_id,
        categories[2],
        [writer.slot(at_local(date(2025, 10, 1), 7, 0, zone_name), at_local(date(2025, 11, 10), 7, 0, zone_name))],
        status="scheduled",
    )

    # Every garbage JSON type as a whole scheduled_slots / focus_slots value.
    for index, garbage in enumerate(GARBAGE_JSON):
        writer.task(user_id, pick_category(), garbage, status=rng.choice(["scheduled", "cancelled", "completed"]))
        writer.focus(user_id, date(2025, 5, 1) + timedelta(days=index), garbage)

    # Goals of every type and period, created in the past; some inactive.
    for target_type in ("minutes", "percentage", "task_count"):
        for period, created_days_ago, target in (("daily", 12, 60), ("weekly", 75, 300), ("monthly", 260, 40)):
            created = AS_OF - timedelta(days=created_days_ago, minutes=rng.randrange(1440))
            goal_target = {"minutes": target, "percentage": rng.choice([10, 25, 50, 100]), "task_count": 2}[target_type]
            for with_category in (True, False):
                if target_type == "percentage" and not with_category:
                    continue
                category = rng.choice(categories) if with_category else None
                writer.goal(user_id, target_type, goal_target, period, created, category)
            writer.goal(user_id, target_type, goal_target, period, created, categories[0], active=False)
    # Created exactly at a local Monday midnight, and a minute before it (the week before).
    monday = date(2025, 9, 1)
    writer.goal(user_id, "minutes", 120, "weekly", at_local(monday, 0, 0, zone_name), None)
    writer.goal(user_id, "task_count", 1, "weekly", at_local(monday, 0, 0, zone_name) - timedelta(minutes=1), None)
    writer.goal(user_id, "task_count", 1, "monthly", at_local(date(2025, 10, 1), 0, 0, zone_name), categories[1])
    # Created at the first 00:30 of 2025-11-02: in Havana that hour repeats at midnight (01:00 CDT -> 00:00 CST), and
    # its first occurrence lies in the window of 11-01, so the goal's first daily period is 11-01.
    if writer.instant_edges:
        writer.goal(user_id, "minutes", 30, "daily", at_local(date(2025, 11, 2), 0, 30, zone_name), None)


def add_rounding_user(writer: Writer) -> None:
    """A UTC user whose figures sit exactly on rounding and pace boundaries (floats would get them wrong)."""
    user_id = writer.new_id()
    writer.users.append((user_id, "rounding@example.com", "UTC"))
    writer.summary.user_zones[user_id] = "UTC"
    work, other = writer.new_id(), writer.new_id()
    writer.categories += [(work, user_id, "work", "#ff0000"), (other, user_id, "other", None)]

    def minutes_task(day: date, minutes: int, category: uuid.UUID | None, hour: int = 9) -> None:
        start = datetime(day.year, day.month, day.day, hour, tzinfo=UTC)
        slots = [writer.slot(start, start + timedelta(minutes=minutes))]
        writer.task(user_id, category, slots, status="scheduled", may_delete=False)

    # 2025-10-13 (Mon): 1 of 8 minutes is work = 12.5 % -> 13; 2025-10-14: 1 of 200 = 0.5 % -> 1;
    # 2025-10-15: 5 of 200 = 2.5 % -> 3; week 2025-10-13: 201 minutes + 0 more -> target 20000 gives 1.005 -> 1.01.
    minutes_task(date(2025, 10, 13), 1, work)
    minutes_task(date(2025, 10, 13), 7, None, 10)
    minutes_task(date(2025, 10, 14), 1, work)
    minutes_task(date(2025, 10, 14), 199, other, 10)
    minutes_task(date(2025, 10, 15), 5, work)
    minutes_task(date(2025, 10, 15), 195, None, 12)
    created = datetime(2025, 10, 13, 0, 0, tzinfo=UTC)
    writer.goal(user_id, "percentage", 13, "daily", created, work)
    writer.goal(user_id, "percentage", 1, "daily", created, work)
    # The week of 10-13 has 408 minutes: 100 x 408 / 32000 = 1.275 -> 1.28, / 96000 = 0.425 -> 0.43 (binary
    # floating point rounds both down), / 6400 = 6.375 -> 6.38, / 3264 = 12.5 exactly.
    for target in (32000, 96000, 6400, 3264, 81600):
        writer.goal(user_id, "minutes", target, "weekly", created, None)
    writer.goal(user_id, "minutes", 1, "daily", created, None)  # far over target: capped at 999.99
    # Current week (Mon 2025-11-03 .. Sun 11-09), as of Wednesday: 3 of 7 days elapsed.
    # 30 minutes on Monday: target 70 expects 30 -> on_track (equal); target 87.5 impossible, use 88 -> expects
    # 37.71, 80 % = 30.17 -> behind; target 87 -> 37.29, 80 % = 29.83 -> at_risk; target 30 -> achieved.
    minutes_task(date(2025, 11, 3), 30, work)
    current = datetime(2025, 11, 3, 0, 0, tzinfo=UTC)
    for target in (70, 88, 87, 30, 35):
        writer.goal(user_id, "minutes", target, "weekly", current, work)
    # Exactly on the at_risk edge: 12 of a weekly 35 expects 15 after 3 days, 80 % = 12; 20 of a daily 25 = 80 %.
    minutes_task(date(2025, 11, 3), 12, other, 14)
    writer.goal(user_id, "minutes", 35, "weekly", current, other)
    minutes_task(date(2025, 11, 5), 20, None, 8)
    writer.goal(user_id, "minutes", 25, "daily", datetime(2025, 11, 5, 0, 0, tzinfo=UTC), None)
    # An ISO week across the new year (Mon 2024-12-30 .. Sun 2025-01-05) and the December month before it.
    minutes_task(date(2024, 12, 30), 15, work)
    minutes_task(date(2025, 1, 5), 25, work, 23)
    year_end = datetime(2024, 12, 31, 12, tzinfo=UTC)
    writer.goal(user_id, "minutes", 40, "weekly", year_end, work)
    writer.goal(user_id, "percentage", 50, "monthly", year_end, work)
    # Monthly task counts in November (30 days, 5 elapsed): 1 completed; target 6 expects 1 -> on_track.
    writer.task(
        user_id, work, [], status="completed", completed_at=datetime(2025, 11, 1, 0, 0, tzinfo=UTC), may_delete=False
    )
    for target in (6, 7, 8, 1):
        writer.goal(user_id, "task_count", target, "monthly", datetime(2025, 11, 1, tzinfo=UTC), work)
    # Percentage goal with pace: current-period expectation is the target itself.
    writer.goal(user_id, "percentage", 100, "weekly", current, work)
    writer.goal(user_id, "percentage", 80, "monthly", current, work)


def generate(conn: psycopg.Connection[Any], seed: int = 20251105, instant_edges: bool = True) -> Summary:
    """Write the adversarial dataset into the (empty, initialised) ``app`` tables of ``conn``'s database.

    ``instant_edges=False`` leaves out the cases about how one instant is read (slots with more than six
    fractional digits, a goal created inside a repeated midnight hour), for tests about something else
    (incremental builds) that should not fail for those causes; test_reference_marts.py covers them.
    """
    writer = Writer(random.Random(seed), instant_edges)
    for zone_name in ZONES:
        add_zone_user(writer, zone_name)
    add_rounding_user(writer)
    return writer.write(conn)
