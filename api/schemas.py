"""Request and response models of the API: the JSON shapes of SPEC section 5, with OpenAPI examples.

Request bodies refuse unknown fields (``extra="forbid"``). Dates accepted from
callers are bounded to years 1900..2999 so no period or range computed from
them can leave the range PostgreSQL and Python share.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

TargetType = Literal["minutes", "percentage", "task_count"]
TimePeriod = Literal["daily", "weekly", "monthly"]
DashboardPeriod = Literal["weekly", "monthly"]
GoalStatus = Literal["achieved", "missed", "on_track", "at_risk", "behind"]
ViewContext = Literal["calendar", "tasks"]
DateRange = Literal["7d", "30d", "90d"]
ExportFormat = Literal["csv"]

MIN_DATE = date(1900, 1, 1)
MAX_DATE = date(2999, 12, 31)
MAX_RANGE_DAYS = 366
PG_INT_MAX = 2_147_483_647


def _encodable(text: str) -> str:
    """Refuse text that is not valid Unicode (lone surrogates from JSON escapes cannot be stored)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("must be valid Unicode text (no lone surrogate escapes)") from exc
    return text


GoalName = Annotated[
    str,
    Field(min_length=1, max_length=200, pattern=r"^[^\x00]*[^\x00\s][^\x00]*$", examples=["Deep work"]),
    AfterValidator(_encodable),
]

GOAL_EXAMPLE: JsonDict = {
    "goal_id": "3f1c2a9e-6b7d-4c1e-9a51-2b8f0f6d9e10",
    "name": "Deep work",
    "target_type": "minutes",
    "target_value": 600,
    "time_period": "weekly",
    "category_id": "0b8e5a34-1f7c-4d2a-8e3b-5c6d7e8f9a01",
    "is_active": True,
    "created_at": "2025-03-03T09:00:00Z",
    "updated_at": "2025-03-03T09:00:00Z",
}
PROGRESS_EXAMPLE: JsonDict = {
    "goal_id": "3f1c2a9e-6b7d-4c1e-9a51-2b8f0f6d9e10",
    "name": "Deep work",
    "target_type": "minutes",
    "target_value": 600,
    "time_period": "weekly",
    "category_id": "0b8e5a34-1f7c-4d2a-8e3b-5c6d7e8f9a01",
    "period": {"start": "2025-03-03", "end": "2025-03-09"},
    "achieved_value": 420,
    "percent_complete": 70.0,
    "status": "on_track",
}
TOTALS_EXAMPLE: JsonDict = {
    "total_scheduled_minutes": 1260,
    "completed_tasks_count": 14,
    "focus_minutes": 540,
    "focus_time_utilization": 0.75,
    "top_category": {"category_id": "0b8e5a34-1f7c-4d2a-8e3b-5c6d7e8f9a01", "name": "Work", "minutes": 900},
    "streak_days_completed": 5,
    "completion_rate": 0.8,
}


class GoalCreate(BaseModel):
    """A new goal. ``percentage`` goals need a ``category_id`` and a ``target_value`` of at most 100."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Deep work",
                    "target_type": "minutes",
                    "target_value": 600,
                    "time_period": "weekly",
                    "category_id": "0b8e5a34-1f7c-4d2a-8e3b-5c6d7e8f9a01",
                }
            ]
        },
    )

    name: GoalName
    target_type: TargetType
    target_value: int = Field(gt=0, le=PG_INT_MAX, examples=[600])
    time_period: TimePeriod
    category_id: UUID | None = Field(default=None, description="One of the caller's categories; null: all tasks.")
    is_active: bool = True


class GoalUpdate(BaseModel):
    """Changes to a goal: only the fields present are changed; ``category_id: null`` removes the category."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"target_value": 720}, {"category_id": None}, {"is_active": False}]},
    )

    # Absent means "leave as it is" (the None default is never validated nor stored: only
    # model_fields_set is applied); an explicit null is refused for the fields that cannot be null.
    name: GoalName = None  # type: ignore[assignment]
    target_type: TargetType = None  # type: ignore[assignment]
    target_value: Annotated[int, Field(gt=0, le=PG_INT_MAX)] = None  # type: ignore[assignment]
    time_period: TimePeriod = None  # type: ignore[assignment]
    category_id: UUID | None = None
    is_active: bool = None  # type: ignore[assignment]


class Goal(BaseModel):
    """A goal as stored."""

    model_config = ConfigDict(json_schema_extra={"examples": [GOAL_EXAMPLE]})

    goal_id: UUID
    name: str
    target_type: TargetType
    target_value: int
    time_period: TimePeriod
    category_id: UUID | None
    is_active: bool
    created_at: datetime
    updated_at: datetime


class ProgressPeriod(BaseModel):
    """The local dates of a goal's period, both inclusive."""

    start: date
    end: date = Field(description="Inclusive.")


class GoalProgress(BaseModel):
    """A goal's progress over one period (SPEC section 3), computed live from the daily marts."""

    model_config = ConfigDict(json_schema_extra={"examples": [PROGRESS_EXAMPLE]})

    goal_id: UUID
    name: str
    target_type: TargetType
    target_value: int
    time_period: TimePeriod
    category_id: UUID | None
    period: ProgressPeriod
    achieved_value: int
    percent_complete: float = Field(ge=0, le=999.99)
    status: GoalStatus


class DateRangeOut(BaseModel):
    """An inclusive range of the user's local dates."""

    start_date: date
    end_date: date


class TopCategory(BaseModel):
    """The category with the most scheduled minutes; ``category_id: null`` is "Uncategorized"."""

    category_id: UUID | None
    name: str
    minutes: int


class Totals(BaseModel):
    """The quick-stats figures of a range (SPEC section 2)."""

    model_config = ConfigDict(json_schema_extra={"examples": [TOTALS_EXAMPLE]})

    total_scheduled_minutes: int
    completed_tasks_count: int
    focus_minutes: int
    focus_time_utilization: float | None = Field(description="null when no focus time was available.")
    top_category: TopCategory | None
    streak_days_completed: int
    completion_rate: float | None = Field(description="null when no task was due.")


class QuickStats(Totals):
    """Quick stats of a range ending today (``date_range``) or of explicit dates."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "view_context": "calendar",
                    "range": {"start_date": "2025-03-01", "end_date": "2025-03-30"},
                    "data_as_of": "2025-03-30T02:10:00Z",
                    **TOTALS_EXAMPLE,
                }
            ]
        }
    )

    view_context: ViewContext
    range: DateRangeOut
    data_as_of: datetime | None = Field(description="When the marts behind these figures were last built.")


class CategoryShare(BaseModel):
    """Minutes of one category in a period and their share of the total."""

    category_id: UUID | None
    name: str
    minutes: int
    share: float = Field(ge=0, le=1)


class TrendDay(BaseModel):
    """One day of a period (zeros when nothing happened)."""

    date: date
    scheduled_minutes: int
    focus_minutes: int
    completed_tasks_count: int


class Dashboard(BaseModel):
    """A week or a month at a glance: totals, category split, daily trend and the goals of that period type."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "period": "weekly",
                    "category_id": None,
                    "range": {"start_date": "2025-03-03", "end_date": "2025-03-09"},
                    "data_as_of": "2025-03-10T02:10:00Z",
                    "totals": TOTALS_EXAMPLE,
                    "category_distribution": [
                        {
                            "category_id": "0b8e5a34-1f7c-4d2a-8e3b-5c6d7e8f9a01",
                            "name": "Work",
                            "minutes": 900,
                            "share": 0.7143,
                        },
                        {"category_id": None, "name": "Uncategorized", "minutes": 360, "share": 0.2857},
                    ],
                    "trends": [
                        {
                            "date": "2025-03-03",
                            "scheduled_minutes": 180,
                            "focus_minutes": 90,
                            "completed_tasks_count": 2,
                        }
                    ],
                    "goals": [PROGRESS_EXAMPLE],
                }
            ]
        }
    )

    period: DashboardPeriod
    category_id: UUID | None
    range: DateRangeOut
    data_as_of: datetime | None
    totals: Totals
    category_distribution: list[CategoryShare]
    trends: list[TrendDay]
    goals: list[GoalProgress]


class Category(BaseModel):
    """One of the caller's task categories."""

    category_id: UUID
    name: str
    color: str | None


class ErrorMessage(BaseModel):
    """An error that is not about one field: a missing or invalid token, a missing goal, an unavailable database."""

    detail: str


class Health(BaseModel):
    """Liveness or readiness."""

    status: Literal["ok", "unavailable"]
    detail: str | None = None
