"""``pulse seed``: deterministic synthetic source data for demos, tests and benchmarks, loaded with COPY.

Every user gets a ``random.Random`` of its own, seeded from (seed, user index),
so the rows of a user do not depend on how many users are generated or on how
the work is split between processes: the same seed and arguments always give
the same rows, UUIDs and timestamps included (they derive from the RNG and the
dates, never from the wall clock). User 0 is the demo user
(``demo@pulse.example``, ``DEMO_USER_ID``) with rich, mostly valid data.

The mix covers every time-zone kind (UTC, whole-hour with and without DST in
both hemispheres, half-hour and 45-minute offsets with and without DST, the
extremes, zones whose DST change happens at local midnight) and, at a rate of
about 2%, every kind of invalid slot SPEC section 1 lists.
"""

from __future__ import annotations

import multiprocessing
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
from psycopg import sql

from pulse.database import DatabaseError, connect

DEMO_USER_ID = "00000000-0000-4000-8000-00000000de70"
DEMO_EMAIL = "demo@pulse.example"
DEMO_TIMEZONE = "America/New_York"

# The app tables in load order (parents before children) with the columns COPY writes.
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "users": ("user_id", "email", "timezone", "created_at", "updated_at"),
    "categories": ("category_id", "user_id", "name", "color", "created_at", "updated_at"),
    "tasks": (
        "task_id",
        "user_id",
        "category_id",
        "title",
        "status",
        "scheduled_slots",
        "completed_at",
        "deleted_at",
        "created_at",
        "updated_at",
    ),
    "user_calendar_days": ("user_id", "date", "focus_slots", "updated_at"),
    "goals": (
        "goal_id",
        "user_id",
        "name",
        "target_type",
        "target_value",
        "time_period",
        "category_id",
        "is_active",
        "created_at",
        "updated_at",
    ),
}
TABLES = tuple(TABLE_COLUMNS)

# Every kind of time zone the metrics must get right; users are spread over all of them.
TIMEZONE_KINDS: dict[str, tuple[str, ...]] = {
    "utc": ("UTC", "Etc/UTC"),
    "whole_hour_dst_north": ("America/New_York", "America/Los_Angeles", "Europe/Berlin", "Europe/London"),
    "whole_hour_dst_south": ("Australia/Sydney", "Pacific/Auckland"),
    "whole_hour_no_dst": ("Asia/Tokyo", "Asia/Shanghai", "America/Sao_Paulo", "Africa/Lagos", "America/Phoenix"),
    "half_hour_no_dst": ("Asia/Kolkata", "Australia/Darwin"),
    "half_hour_dst_north": ("America/St_Johns",),
    "half_hour_dst_south": ("Australia/Adelaide",),
    "thirty_minute_dst": ("Australia/Lord_Howe",),
    "forty_five_minute_no_dst": ("Asia/Kathmandu",),
    "forty_five_minute_dst": ("Pacific/Chatham",),
    "extreme_east": ("Pacific/Kiritimati",),
    "extreme_west": ("Etc/GMT+12", "Pacific/Pago_Pago"),
    # DST changes at local midnight (checked with zoneinfo for 2024-2027 in tests/test_seed.py).
    "dst_at_midnight": ("America/Santiago", "America/Havana", "Africa/Cairo", "Asia/Beirut", "Atlantic/Azores"),
}
TIMEZONES: tuple[str, ...] = tuple(zone for zones in TIMEZONE_KINDS.values() for zone in zones)

# Invalid scheduled slots (one bad element inside a valid array) and invalid scheduled_slots values
# (not an array: the whole value counts as one invalid slot), per SPEC section 1.
INVALID_SLOT_KINDS = (
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
)
INVALID_SLOTS_VALUE_KINDS = ("slots_object", "slots_string", "slots_number", "slots_null")
SCHEDULED_INVALID_KINDS = INVALID_SLOT_KINDS + INVALID_SLOTS_VALUE_KINDS
FOCUS_INVALID_KINDS = (
    "not_object_string",
    "not_object_number",
    "not_object_null",
    "not_object_array",
    "missing_start",
    "missing_end",
    "hour_25",
    "text_9am",
    "minute_60",
    "start_24",
    "end_equals_start",
    "end_before_start",
)

INVALID_SLOT_RATE = 0.015
INVALID_VALUE_RATE = 0.004
INVALID_FOCUS_RATE = 0.02
BATCH_USERS = 250

CATEGORY_NAMES = (
    "Work",
    "Deep work",
    "Meetings",
    "Exercise",
    "Reading",
    "Family",
    "Admin",
    "Learning",
    "Side project",
    "Errands",
    "Health",
    "Music",
)
COLORS = ("#ef4444", "#f97316", "#eab308", "#22c55e", "#14b8a6", "#3b82f6", "#8b5cf6", "#ec4899", "#64748b")
TITLES = (
    "Write report",
    "Review pull requests",
    "Team sync",
    "Plan the week",
    "Go for a run",
    "Read a chapter",
    "Pay bills",
    "Call the bank",
    "Prepare slides",
    "Grocery shopping",
    "Fix the bike",
    "Answer email",
    "Yoga",
    "Study Spanish",
    "Draft blog post",
    "One-on-one",
    "Clean the kitchen",
    "Practice guitar",
    "Doctor appointment",
    "Refactor module",
)
OTHER_OFFSETS = (-720, -600, -480, -300, -180, -150, 0, 60, 120, 330, 345, 540, 570, 765, 840)
GOAL_TYPES = ("minutes", "percentage", "task_count")
GOAL_PERIODS = ("daily", "weekly", "monthly")
GOAL_TARGETS = {
    ("minutes", "daily"): (60, 360),
    ("minutes", "weekly"): (300, 1800),
    ("minutes", "monthly"): (1200, 7200),
    ("task_count", "daily"): (1, 6),
    ("task_count", "weekly"): (5, 30),
    ("task_count", "monthly"): (20, 100),
    ("percentage", "daily"): (10, 60),
    ("percentage", "weekly"): (10, 60),
    ("percentage", "monthly"): (10, 60),
}
UUID_VERSION_MASK = ~((0xF000 << 64) | (0xC000 << 48))
UUID_VERSION_BITS = (4 << 76) | (0x8000 << 48)
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()

Progress = Callable[[str], None]


@dataclass(frozen=True)
class SeedPlan:
    """What to generate: users, the first local date, the number of days and the seed."""

    users: int
    days: int
    start: date
    seed: int = 42

    @property
    def end(self) -> date:
        """The last generated date (inclusive)."""
        return self.start + timedelta(days=self.days - 1)

    @property
    def reference_day(self) -> date:
        """The "today" of the data: tasks after it are not completed yet; no timestamp lies beyond its end."""
        return max(self.start, self.end - timedelta(days=1))


@dataclass
class SeedReport:
    """Rows written per table and where the time went."""

    rows: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TABLES, 0))
    generate_seconds: float = 0.0
    copy_seconds: float = 0.0
    total_seconds: float = 0.0

    @property
    def total_rows(self) -> int:
        """Rows written over all tables."""
        return sum(self.rows.values())


def default_start(days: int, today: date | None = None) -> date:
    """The first date of ``days`` days ending tomorrow, so the data reaches today and a bit of the future."""
    today = today or datetime.now(UTC).date()
    return today + timedelta(days=1) - timedelta(days=days - 1)


def uuid4_from(rng: random.Random) -> str:
    """A version-4 UUID string drawn from ``rng`` (same bits as ``uuid.UUID(int=..., version=4)``)."""
    value = (rng.getrandbits(128) & UUID_VERSION_MASK) | UUID_VERSION_BITS
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class _Calendar:
    """Date strings and per-zone UTC offsets for the plan's days, computed once per process."""

    def __init__(self, plan: SeedPlan) -> None:
        self.first_day = plan.start.toordinal() - EPOCH_ORDINAL - 2
        self.count = plan.days + 6
        self.date_text: dict[int, str] = {}
        self.offset_text: dict[int, str] = {}
        self.zone_offsets: dict[str, list[int]] = {}
        for zone in TIMEZONES:
            tz = ZoneInfo(zone)
            offsets = []
            for i in range(self.count):
                noon = datetime.fromordinal(self.first_day + i + EPOCH_ORDINAL).replace(hour=12, tzinfo=tz)
                delta = noon.utcoffset()
                offsets.append(int(delta.total_seconds()) // 60 if delta is not None else 0)
            self.zone_offsets[zone] = offsets

    def day_text(self, day: int) -> str:
        """'YYYY-MM-DD' of a day number (days since 1970-01-01)."""
        text = self.date_text.get(day)
        if text is None:
            text = self.date_text[day] = date.fromordinal(day + EPOCH_ORDINAL).isoformat()
        return text

    def offset(self, offset: int) -> str:
        """'+05:30' for 330 minutes."""
        text = self.offset_text.get(offset)
        if text is None:
            sign = "-" if offset < 0 else "+"
            text = self.offset_text[offset] = f"{sign}{abs(offset) // 60:02d}:{abs(offset) % 60:02d}"
        return text

    def timestamp(self, minute: int, second: int = 0) -> str:
        """A COPY timestamptz literal (UTC) of an epoch minute."""
        day, rest = divmod(minute, 1440)
        return f"{self.day_text(day)} {rest // 60:02d}:{rest % 60:02d}:{second:02d}+00"

    def instant(self, minute: int, offset: int, zulu: bool = False, second: int = 0) -> str:
        """An ISO-8601 instant of an epoch minute written with a UTC offset in minutes."""
        day, rest = divmod(minute + offset, 1440)
        suffix = "Z" if zulu else self.offset(offset)
        return f"{self.day_text(day)}T{rest // 60:02d}:{rest % 60:02d}:{second:02d}{suffix}"


class _UserGenerator:
    """Writes one batch of users' rows as COPY text, one buffer per table."""

    def __init__(self, plan: SeedPlan) -> None:
        self.plan = plan
        self.cal = _Calendar(plan)
        self.start_day = plan.start.toordinal() - EPOCH_ORDINAL
        self.reference_day = plan.reference_day.toordinal() - EPOCH_ORDINAL
        # No timestamp lies beyond the reference day, nor after the moment the seed runs: an updated_at
        # in the future would make the change sensor launch runs on its own as the clock passes it.
        self.cap_minute = min((self.reference_day + 1) * 1440 - 1, int(time.time() // 60) - 1)
        self.year = plan.start.year
        self.out: dict[str, list[str]] = {table: [] for table in TABLES}

    def take(self) -> dict[str, list[str]]:
        """The buffered lines, emptying the buffers."""
        out, self.out = self.out, {table: [] for table in TABLES}
        return out

    def local_day_start(self, zone: str, day: int) -> int:
        """Epoch minute of local midnight of ``day`` (with the offset in force at local noon)."""
        return day * 1440 - self.cal.zone_offsets[zone][day - self.cal.first_day]

    def user(self, index: int) -> None:
        """Generate every row of user ``index``."""
        plan, cal = self.plan, self.cal
        rng = random.Random(f"pulse-seed:{plan.seed}:{index}")  # noqa: S311 - reproducible test data
        r = rng.random
        demo = index == 0
        if demo:
            user_id, email, zone = DEMO_USER_ID, DEMO_EMAIL, DEMO_TIMEZONE
            uuid4_from(rng)
        else:
            user_id, email = uuid4_from(rng), f"user{index:06d}@example.com"
            zone = TIMEZONES[(index - 1) % len(TIMEZONES)] if index <= len(TIMEZONES) else rng.choice(TIMEZONES)
        user_created = (self.start_day - 30 - int(r() * 400)) * 1440 + int(r() * 1440)
        self.out["users"].append(
            f"{user_id}\t{email}\t{zone}\t{cal.timestamp(user_created)}\t"
            f"{cal.timestamp(min(user_created + 5, self.cap_minute))}\n"
        )

        # Categories.
        n_categories = 5 if demo else 2 + int(r() * 5)
        names = rng.sample(CATEGORY_NAMES, n_categories)
        categories = []
        lines = self.out["categories"]
        for name in names:
            category_id = uuid4_from(rng)
            color = rng.choice(COLORS) if r() < 0.9 else "\\N"
            created = user_created + 10 + int(r() * 20000)
            created = min(created, self.start_day * 1440)
            categories.append(category_id)
            lines.append(
                f"{category_id}\t{user_id}\t{name}\t{color}\t{cal.timestamp(created)}\t"
                f"{cal.timestamp(min(created + int(r() * 3000), self.cap_minute))}\n"
            )

        # Showcase: the first users each carry one invalid slot of a kind in turn, so every kind shows up.
        showcase_scheduled = SCHEDULED_INVALID_KINDS[(index - 1) % len(SCHEDULED_INVALID_KINDS)] if not demo else None
        showcase_focus = FOCUS_INVALID_KINDS[(index - 1) % len(FOCUS_INVALID_KINDS)] if not demo else None

        task_lines = self.out["tasks"]
        day_lines = self.out["user_calendar_days"]
        for d in range(plan.days):
            day = self.start_day + d
            midnight = self.local_day_start(zone, day)
            offset_today = cal.zone_offsets[zone][day - cal.first_day]
            n_tasks = (4 + int(r() * 3)) if demo else (2 + int(r() * 3.2))
            for _ in range(n_tasks):
                task_lines.append(
                    self.task(rng, user_id, categories, day, midnight, offset_today, demo, showcase_scheduled)
                )
                showcase_scheduled = None
            focus = self.focus_day(rng, user_id, day, demo, showcase_focus)
            showcase_focus = None
            if focus is not None:
                day_lines.append(focus)

        self.goals(rng, user_id, categories, demo, index)

    def task(
        self,
        rng: random.Random,
        user_id: str,
        categories: list[str],
        day: int,
        midnight: int,
        offset_today: int,
        demo: bool,
        forced_invalid: str | None,
    ) -> str:
        """One app.tasks COPY line for a task planned on local ``day``."""
        cal, r = self.cal, rng.random
        task_id = uuid4_from(rng)
        category = rng.choice(categories) if r() < (0.92 if demo else 0.85) else "\\N"
        title = rng.choice(TITLES)
        x = r()
        n_slots = (
            (1 if x < 0.6 else 2 if x < 0.88 else 3)
            if demo
            else (0 if x < 0.1 else 1 if x < 0.6 else 2 if x < 0.85 else 3)
        )
        slots: list[str] = []
        last_end = midnight + 8 * 60
        slot_start = midnight + (6 * 60 + int(r() * 60) * 15 if r() < 0.93 else 22 * 60 + int(r() * 6) * 15)
        for i in range(n_slots):
            if i > 0:
                # Later slots follow the previous one, or overlap it now and then.
                slot_start = last_end - int(r() * 45) if r() < 0.2 else last_end + 15 + int(r() * 16) * 15
            y = r()
            duration = 15 + int(r() * 8) * 15 if y < 0.75 else 120 + int(r() * 16) * 15
            slot_end = slot_start + duration
            last_end = slot_end
            slots.append(self.slot(rng, slot_start, slot_end, offset_today))
        invalid_kind = forced_invalid
        if invalid_kind is None and not demo:
            if r() < INVALID_VALUE_RATE:
                invalid_kind = INVALID_SLOTS_VALUE_KINDS[int(r() * len(INVALID_SLOTS_VALUE_KINDS))]
            elif r() < INVALID_SLOT_RATE * max(n_slots, 1):
                invalid_kind = INVALID_SLOT_KINDS[int(r() * len(INVALID_SLOT_KINDS))]
        if invalid_kind in INVALID_SLOTS_VALUE_KINDS:
            slots_json = self.invalid_slots_value(invalid_kind, slot_start, offset_today)
        else:
            if invalid_kind is not None:
                bad = self.invalid_slot(invalid_kind, slot_start, offset_today)
                if slots:
                    slots[int(r() * len(slots))] = bad
                else:
                    slots.append(bad)
            slots_json = "[" + ", ".join(slots) + "]"

        # Status and completion, relative to the plan's reference day.
        created = midnight - 60 - int(r() * 6 * 1440)
        z = r()
        past = day <= self.reference_day
        if z < 0.07:
            status = "cancelled"
        elif past and z < (0.87 if demo else 0.67):
            status = "completed"
        elif n_slots and z < 0.9:
            status = "scheduled"
        else:
            status = "pending"
        completed_at = "\\N"
        updated = created + int(r() * 600)
        if status == "completed":
            done = (last_end if n_slots else midnight + 12 * 60) + int(r() * 120)
            w = r()
            if w < 0.06:
                done += 1440 + int(r() * 1440)  # completed a day or two later
            elif w < 0.09:
                done -= 1440  # completed ahead, the day before
            done = min(max(done, created + 1), self.cap_minute)
            completed_at = cal.timestamp(done, int(r() * 60))
            updated = max(updated, done)
        elif status == "cancelled":
            updated = max(updated, min(midnight + int(r() * 1440), self.cap_minute))
        deleted_at = "\\N"
        if r() < (0.01 if demo else 0.03):
            deleted = min(max(updated, created) + 30 + int(r() * 2000), self.cap_minute)
            deleted_at = cal.timestamp(deleted)
            updated = max(updated, deleted)
        created = min(created, self.cap_minute)
        updated = min(max(updated, created), self.cap_minute)
        return (
            f"{task_id}\t{user_id}\t{category}\t{title}\t{status}\t{slots_json}\t{completed_at}\t{deleted_at}\t"
            f"{cal.timestamp(created)}\t{cal.timestamp(updated)}\n"
        )

    def slot(self, rng: random.Random, start: int, end: int, own_offset: int) -> str:
        """A valid scheduled slot, each end written with an offset of its own."""
        return f'{{"start": "{self.instant(rng, start, own_offset)}", "end": "{self.instant(rng, end, own_offset)}"}}'

    def instant(self, rng: random.Random, minute: int, own_offset: int) -> str:
        """An instant as the app writes it: the user's offset, Z, or any other offset; now and then with seconds."""
        r = rng.random
        x = r()
        second = int(r() * 60) if r() < 0.05 else 0
        if x < 0.45:
            return self.cal.instant(minute, own_offset, second=second)
        if x < 0.75:
            return self.cal.instant(minute, 0, zulu=True, second=second)
        return self.cal.instant(minute, OTHER_OFFSETS[int(r() * len(OTHER_OFFSETS))], second=second)

    def invalid_slot(self, kind: str, start: int, offset: int) -> str:
        """One invalid element of a scheduled_slots array."""
        cal = self.cal
        good_start = cal.instant(start, offset)
        good_end = cal.instant(start + 60, offset)
        if kind == "not_object_string":
            return f'"{good_start}"'
        if kind == "not_object_number":
            return "42"
        if kind == "not_object_null":
            return "null"
        if kind == "not_object_array":
            return f'["{good_start}", "{good_end}"]'
        if kind == "missing_start":
            return f'{{"end": "{good_end}"}}'
        if kind == "missing_end":
            return f'{{"begin": "{good_start}", "start": "{good_start}"}}'
        if kind == "unparseable_text":
            return f'{{"start": "tomorrow morning", "end": "{good_end}"}}'
        if kind == "unparseable_date":
            return f'{{"start": "{self.year}-02-30T10:00:00Z", "end": "{self.year}-02-30T11:00:00Z"}}'
        if kind == "unparseable_number":
            return f'{{"start": {start * 60}, "end": {(start + 60) * 60}}}'
        if kind == "no_offset":
            return f'{{"start": "{good_start[:19]}", "end": "{good_end[:19]}"}}'
        if kind == "end_before_start":
            return f'{{"start": "{good_end}", "end": "{good_start}"}}'
        if kind == "end_equals_start_after_truncation":
            return (
                f'{{"start": "{cal.instant(start, offset, second=10)}", '
                f'"end": "{cal.instant(start, offset, zulu=offset == 0, second=50)}"}}'
            )
        raise ValueError(f"unknown invalid slot kind {kind}")

    def invalid_slots_value(self, kind: str, start: int, offset: int) -> str:
        """A scheduled_slots value that is not a JSON array."""
        good = f'{{"start": "{self.cal.instant(start, offset)}", "end": "{self.cal.instant(start + 30, offset)}"}}'
        if kind == "slots_object":
            return good
        if kind == "slots_string":
            return '"9:00 to 10:00"'
        if kind == "slots_number":
            return "3"
        if kind == "slots_null":
            return "null"
        raise ValueError(f"unknown scheduled_slots kind {kind}")

    def focus_day(
        self, rng: random.Random, user_id: str, day: int, demo: bool, forced_invalid: str | None
    ) -> str | None:
        """The app.user_calendar_days COPY line of one day, or None for a day without a row."""
        r = rng.random
        if forced_invalid is None and r() < (0.05 if demo else 0.15):
            return None
        slots: list[str] = []
        x = r()
        n = 1 if x < 0.35 else 2 if x < 0.85 else 3
        start = 7 * 60 + int(r() * 12) * 15
        end = start
        for i in range(n):
            if i > 0:
                start = (start + 30) if r() < 0.15 else (end + int(r() * 8) * 15)
            end = start + 60 + int(r() * 16) * 15
            if end >= 1440 or (i == n - 1 and r() < 0.05):
                end = 1440
            if start >= 1440 - 15:
                break
            slots.append(f'{{"start": "{start // 60:02d}:{start % 60:02d}", "end": "{_hhmm(end)}"}}')
            if end == 1440:
                break
        invalid_kind = forced_invalid
        if invalid_kind is None and not demo and r() < INVALID_FOCUS_RATE * n:
            invalid_kind = FOCUS_INVALID_KINDS[int(r() * len(FOCUS_INVALID_KINDS))]
        if invalid_kind is not None:
            slots.append(_invalid_focus_slot(invalid_kind))
        updated = min(day * 1440 - 600 + int(r() * 1800), self.cap_minute)
        return f"{user_id}\t{self.cal.day_text(day)}\t[{', '.join(slots)}]\t{self.cal.timestamp(updated)}\n"

    def goals(self, rng: random.Random, user_id: str, categories: list[str], demo: bool, index: int) -> None:
        """The user's goals: every type x period for the demo user, a few random ones for the others."""
        r = rng.random
        combos = [(t, p) for t in GOAL_TYPES for p in GOAL_PERIODS]
        if demo:
            chosen = combos
        else:
            chosen = rng.sample(combos, 1 + int(r() * 4))
            showcase = combos[(index - 1) % len(combos)]
            if showcase not in chosen:
                chosen.append(showcase)
        lines = self.out["goals"]
        for target_type, period in chosen:
            goal_id = uuid4_from(rng)
            low, high = GOAL_TARGETS[(target_type, period)]
            target = low + int(r() * (high - low + 1))
            if demo:
                target = low + (high - low) // 4  # reachable, so the demo shows progress
            category = rng.choice(categories) if target_type == "percentage" or r() < 0.4 else "\\N"
            active = "t" if demo or r() < 0.85 else "f"
            created_day = self.start_day + int(r() * self.plan.days * 0.8) if r() < 0.6 else self.start_day - 10
            if demo:
                created_day = self.start_day - 10
            created = min(created_day * 1440 + int(r() * 1440), self.cap_minute)
            updated = min(created + int(r() * 4000), self.cap_minute)
            name = f"{target_type.replace('_', ' ')} {period}".capitalize()
            lines.append(
                f"{goal_id}\t{user_id}\t{name}\t{target_type}\t{target}\t{period}\t{category}\t{active}\t"
                f"{self.cal.timestamp(created)}\t{self.cal.timestamp(updated)}\n"
            )


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _invalid_focus_slot(kind: str) -> str:
    """One invalid element of a focus_slots array."""
    return {
        "not_object_string": '"09:00-10:00"',
        "not_object_number": "900",
        "not_object_null": "null",
        "not_object_array": '["09:00", "10:00"]',
        "missing_start": '{"end": "11:00"}',
        "missing_end": '{"start": "11:00"}',
        "hour_25": '{"start": "23:00", "end": "25:00"}',
        "text_9am": '{"start": "9am", "end": "10:00"}',
        "minute_60": '{"start": "12:60", "end": "13:30"}',
        "start_24": '{"start": "24:00", "end": "24:00"}',
        "end_equals_start": '{"start": "14:00", "end": "14:00"}',
        "end_before_start": '{"start": "16:00", "end": "15:00"}',
    }[kind]


def generate(plan: SeedPlan, first: int, stop: int) -> dict[str, list[str]]:
    """COPY text lines of users ``first`` to ``stop - 1``, per table (for tests and the loader)."""
    generator = _UserGenerator(plan)
    for index in range(first, stop):
        generator.user(index)
    return generator.take()


@dataclass(frozen=True)
class _Batch:
    url: str
    plan: SeedPlan
    first: int
    stop: int


def _load_batch(batch: _Batch) -> tuple[int, dict[str, int], float, float]:
    """Generate one batch of users and COPY it in one transaction; (users, rows per table, gen s, copy s)."""
    began = time.perf_counter()
    lines = generate(batch.plan, batch.first, batch.stop)
    generated = time.perf_counter()
    with connect(batch.url) as conn, conn.cursor() as cur:
        for table, columns in TABLE_COLUMNS.items():
            statement = sql.SQL("copy app.{} ({}) from stdin").format(
                sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
            )
            with cur.copy(statement) as copy:
                buffer = lines[table]
                for i in range(0, len(buffer), 5000):
                    copy.write("".join(buffer[i : i + 5000]))
    copied = time.perf_counter()
    return batch.stop - batch.first, {t: len(v) for t, v in lines.items()}, generated - began, copied - generated


def _check_target(url: str, replace: bool) -> None:
    """Fail unless the app tables exist; empty them with ``replace``, else fail unless they are empty."""
    with connect(url, autocommit=True) as conn:
        found = conn.execute(
            "select count(*) from information_schema.tables where table_schema = 'app' and table_name = any(%s)",
            (list(TABLES),),
        ).fetchone()
        if not found or found[0] < len(TABLES):
            raise DatabaseError("the app tables do not exist in this database: run 'pulse db init' first")
        if replace:
            conn.execute("truncate " + ", ".join(f"app.{t}" for t in TABLES))
            return
        filled = [t for t in TABLES if conn.execute(f"select exists (select from app.{t})").fetchone() == (True,)]
        if filled:
            raise DatabaseError(
                f"app tables already hold data ({', '.join(filled)}): pass --replace to empty them and seed again"
            )


def _batches(url: str, plan: SeedPlan, batch_users: int) -> Iterator[_Batch]:
    for first in range(0, plan.users, batch_users):
        yield _Batch(url, plan, first, min(first + batch_users, plan.users))


def seed_database(
    url: str,
    plan: SeedPlan,
    replace: bool = False,
    workers: int = 2,
    batch_users: int | None = None,
    progress: Progress | None = None,
) -> SeedReport:
    """Generate ``plan``'s rows and COPY them into ``url`` (app tables must exist, and be empty unless ``replace``).

    Batches of users are generated and loaded by ``workers`` processes in parallel, each
    batch in its own transaction; a failure part way leaves the batches already loaded,
    so the error says to seed again with ``replace``.
    """
    if plan.users < 1 or plan.days < 1:
        raise DatabaseError("seed needs at least one user and one day (--users N --days D, both >= 1)")
    report = SeedReport()
    began = time.perf_counter()
    try:
        _check_target(url, replace)
    except psycopg.Error as exc:
        raise DatabaseError(f"cannot prepare the app tables for seeding: {str(exc).strip().splitlines()[0]}") from exc
    if batch_users is None:  # at least 4 batches per worker, so the workers finish together
        batch_users = max(1, min(BATCH_USERS, -(-plan.users // (4 * max(workers, 1)))))
    batches = list(_batches(url, plan, batch_users))
    done = 0

    def record(result: tuple[int, dict[str, int], float, float]) -> None:
        nonlocal done
        users, rows, gen_seconds, copy_seconds = result
        done += users
        for table, count in rows.items():
            report.rows[table] += count
        report.generate_seconds += gen_seconds
        report.copy_seconds += copy_seconds
        if progress:
            counts = ", ".join(f"{t} {n:,}" for t, n in report.rows.items())
            progress(f"seeded {done:,}/{plan.users:,} users ({counts}) in {time.perf_counter() - began:.1f} s")

    try:
        if workers <= 1 or len(batches) == 1:
            for batch in batches:
                record(_load_batch(batch))
        else:
            context = multiprocessing.get_context("fork")
            pool = context.Pool(min(workers, len(batches)))
            try:
                for result in pool.imap_unordered(_load_batch, batches):
                    record(result)
                # let the workers exit on their own (Pool's context manager terminates them): one loaded suite
                # run stalled twice after the last batch had loaded, which points at the pool's shutdown
                pool.close()
            except BaseException:
                pool.terminate()
                raise
            finally:
                pool.join()
    except psycopg.Error as exc:
        raise DatabaseError(
            f"seeding failed after {done:,} users ({str(exc).strip().splitlines()[0]}); "
            "run 'pulse seed ... --replace' to start over"
        ) from exc
    report.total_seconds = time.perf_counter() - began
    return report
