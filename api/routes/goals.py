"""Goals: the user's goals (``app.goals``) and their live progress per period."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID

import psycopg
from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from psycopg import AsyncConnection
from pydantic import RootModel

from api.core.cached_reads import Computed, Reads, period_start
from api.core.errors import field_error
from api.core.invalidation import goals_written
from api.deps import Connection, CurrentUser, unauthorized
from api.queries import analytics as analytics_queries
from api.queries import goals as queries
from api.schemas import (
    MAX_DATE,
    MIN_DATE,
    ErrorMessage,
    Goal,
    GoalCreate,
    GoalProgress,
    GoalUpdate,
    TimePeriod,
)

router = APIRouter(
    prefix="/goals",
    tags=["goals"],
    responses={
        400: {"model": ErrorMessage, "description": "The body could not be read (not UTF-8 JSON)."},
        401: {"model": ErrorMessage, "description": "Missing, expired or invalid bearer token."},
    },
)

NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorMessage, "description": "No goal with this id belongs to the caller."}
}
GOAL_NOT_FOUND = "goal_id: no goal with this id"


class GoalProgressList(RootModel[list[GoalProgress]]):
    """The progress of every active goal of one period type: the JSON list the front end reads."""


async def _require_user(conn: Connection, user_id: UUID) -> None:
    if not await queries.user_exists(conn, user_id):
        raise unauthorized("the token's user does not exist")


async def _check_goal(conn: Connection, user_id: UUID, goal: dict[str, Any], changed: set[str]) -> None:
    """Refuse a goal that breaks the rules of SPEC section 3, naming the field to fix."""
    category_id = goal.get("category_id")
    if (
        category_id is not None
        and "category_id" in changed
        and not await queries.owns_category(conn, user_id, category_id)
    ):
        # The same answer whether the category is missing or someone else's.
        raise field_error(("body", "category_id"), "not one of your categories", str(category_id))
    if goal["target_type"] == "percentage":
        if category_id is None:
            raise field_error(("body", "category_id"), "a percentage goal needs a category_id", None)
        if goal["target_value"] > 100:
            raise field_error(
                ("body", "target_value"), "a percentage goal's target_value must be at most 100", goal["target_value"]
            )


def _integrity_error(exc: psycopg.errors.IntegrityError) -> Exception:
    """A constraint the database enforced after the checks passed: a row deleted in between by someone else."""
    constraint = getattr(exc.diag, "constraint_name", None) or ""
    if "category" in constraint:
        return field_error(("body", "category_id"), "not one of your categories")
    if "user" in constraint:
        return unauthorized("the token's user does not exist")
    return field_error(("body",), f"the goal breaks a rule of the database ({constraint or 'constraint'})")


def _not_found() -> HTTPException:
    return HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail=GOAL_NOT_FOUND)


@router.get("", response_model=list[Goal], summary="List the caller's goals")
async def list_goals(user_id: CurrentUser, conn: Connection) -> list[dict[str, Any]]:
    """Every goal of the caller, active or not, oldest first."""
    await _require_user(conn, user_id)
    return await queries.list_goals(conn, user_id)


@router.post("", response_model=Goal, status_code=status.HTTP_201_CREATED, summary="Create a goal")
async def create_goal(body: GoalCreate, request: Request, user_id: CurrentUser, conn: Connection) -> dict[str, Any]:
    """Create a goal; its progress shows at once in ``GET /goals/progress``."""
    values = body.model_dump()
    async with goals_written(request, conn, user_id):
        await _require_user(conn, user_id)
        await _check_goal(conn, user_id, values, set(values))
        try:
            return await queries.insert_goal(conn, user_id, values)
        except psycopg.errors.IntegrityError as exc:
            raise _integrity_error(exc) from exc


@router.get(
    "/progress",
    response_model=list[GoalProgress],
    summary="Live progress of the active goals of one period type",
    responses={
        200: {
            "description": "One entry per active goal of that period type, by name; `Last-Modified` is the time"
            " of the marts' last build covering the period's days (absent before any build)."
        },
        304: {"description": "The client's copy (If-None-Match) is current."},
        503: {"model": ErrorMessage, "description": "The database is unavailable or the marts are not built."},
    },
)
async def goal_progress(
    request: Request,
    user_id: CurrentUser,
    reads: Reads,
    period: Annotated[TimePeriod, Query(description="Which goals: daily, weekly or monthly ones.")] = "weekly",
    start_date: Annotated[
        date | None,
        Query(ge=MIN_DATE, le=MAX_DATE, description="A date of the period wanted; default the caller's today."),
    ] = None,
) -> Response:
    """Progress of every active goal of ``period`` type over the period containing ``start_date``.

    Computed live from the daily marts, so a goal created a moment ago is there at once.
    Goals created after that period (and periods in the future) have no progress.
    """
    today = await reads.today()
    if today is not None:  # one cache entry per period
        start_date = period_start(period, start_date or today.local_today)

    async def compute(conn: AsyncConnection[Any]) -> Computed:
        row = await analytics_queries.goal_progress(conn, user_id, period=period, start_date=start_date)
        if row is None:
            raise unauthorized("the token's user does not exist")
        model = GoalProgressList.model_validate(row["goals"])
        return Computed(model, row["data_as_of"], row["start_date"], row["end_date"])

    key = ("goal_progress", period, start_date)
    return await reads.json(key, compute, today=today, start_date=start_date, reaches_back=False, goals=True)


@router.get("/{goal_id}", response_model=Goal, responses=NOT_FOUND, summary="One goal")
async def read_goal(goal_id: UUID, user_id: CurrentUser, conn: Connection) -> dict[str, Any]:
    """One goal of the caller."""
    goal = await queries.get_goal(conn, user_id, goal_id)
    if goal is None:
        raise _not_found()
    return goal


@router.put("/{goal_id}", response_model=Goal, responses=NOT_FOUND, summary="Change a goal")
async def update_goal(
    goal_id: UUID, body: GoalUpdate, request: Request, user_id: CurrentUser, conn: Connection
) -> dict[str, Any]:
    """Change the fields present in the body (``category_id: null`` removes the category)."""
    changes = body.model_dump(include=body.model_fields_set)
    async with goals_written(request, conn, user_id):
        current = await queries.get_goal(conn, user_id, goal_id, lock=True)
        if current is None:
            raise _not_found()
        await _check_goal(conn, user_id, {**current, **changes}, set(changes))
        try:
            updated = await queries.update_goal(conn, user_id, goal_id, changes)
        except psycopg.errors.IntegrityError as exc:
            raise _integrity_error(exc) from exc
    if updated is None:
        raise _not_found()
    return updated


@router.delete("/{goal_id}", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND, summary="Delete a goal")
async def delete_goal(goal_id: UUID, request: Request, user_id: CurrentUser, conn: Connection) -> Response:
    """Delete a goal of the caller."""
    async with goals_written(request, conn, user_id):
        if not await queries.delete_goal(conn, user_id, goal_id):
            raise _not_found()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
