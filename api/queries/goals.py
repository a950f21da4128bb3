"""SQL of the goals endpoints: ``app.goals`` rows of one user, and the user's categories."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from psycopg import AsyncConnection, sql
from psycopg.rows import dict_row

GOAL_COLUMNS = (
    "goal_id",
    "name",
    "target_type",
    "target_value",
    "time_period",
    "category_id",
    "is_active",
    "created_at",
    "updated_at",
)
_SELECT_LIST = sql.SQL(", ").join(sql.Identifier(column) for column in GOAL_COLUMNS)


async def user_exists(conn: AsyncConnection[Any], user_id: UUID) -> bool:
    """Whether ``user_id`` is a user of the app."""
    cur = await conn.execute("select 1 from app.users where user_id = %s", (user_id,))
    return await cur.fetchone() is not None


async def owns_category(conn: AsyncConnection[Any], user_id: UUID, category_id: UUID) -> bool:
    """Whether ``category_id`` is one of ``user_id``'s categories."""
    cur = await conn.execute(
        "select 1 from app.categories where category_id = %s and user_id = %s", (category_id, user_id)
    )
    return await cur.fetchone() is not None


async def list_goals(conn: AsyncConnection[Any], user_id: UUID) -> list[dict[str, Any]]:
    """Every goal of the user, oldest first."""
    query = sql.SQL("select {} from app.goals where user_id = %s order by created_at, goal_id").format(_SELECT_LIST)
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(query, (user_id,))
        return await cur.fetchall()


async def get_goal(
    conn: AsyncConnection[Any], user_id: UUID, goal_id: UUID, lock: bool = False
) -> dict[str, Any] | None:
    """One goal of the user (None when missing or someone else's), locked for update when asked."""
    query = sql.SQL("select {} from app.goals where goal_id = %s and user_id = %s{}").format(
        _SELECT_LIST, sql.SQL(" for update") if lock else sql.SQL("")
    )
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(query, (goal_id, user_id))
        return await cur.fetchone()


async def insert_goal(conn: AsyncConnection[Any], user_id: UUID, values: dict[str, Any]) -> dict[str, Any]:
    """Store a new goal of the user; return it."""
    columns = ["user_id", *values]
    query = sql.SQL("insert into app.goals ({}) values ({}) returning {}").format(
        sql.SQL(", ").join(map(sql.Identifier, columns)),
        sql.SQL(", ").join(sql.Placeholder() * len(columns)),
        _SELECT_LIST,
    )
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(query, (user_id, *values.values()))
        row = await cur.fetchone()
    assert row is not None  # insert ... returning always gives the row
    return row


async def update_goal(
    conn: AsyncConnection[Any], user_id: UUID, goal_id: UUID, changes: dict[str, Any]
) -> dict[str, Any] | None:
    """Apply ``changes`` to one goal of the user and bump ``updated_at``; None when there is no such goal."""
    assignments: list[sql.Composable] = [
        sql.SQL("{} = {}").format(sql.Identifier(column), sql.Placeholder()) for column in changes
    ]
    assignments.append(sql.SQL("updated_at = now()"))
    query = sql.SQL("update app.goals set {} where goal_id = %s and user_id = %s returning {}").format(
        sql.SQL(", ").join(assignments), _SELECT_LIST
    )
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(query, (*changes.values(), goal_id, user_id))
        return await cur.fetchone()


async def delete_goal(conn: AsyncConnection[Any], user_id: UUID, goal_id: UUID) -> bool:
    """Delete one goal of the user; False when there is no such goal."""
    cur = await conn.execute(
        "delete from app.goals where goal_id = %s and user_id = %s returning goal_id", (goal_id, user_id)
    )
    return await cur.fetchone() is not None


async def list_categories(conn: AsyncConnection[Any], user_id: UUID) -> list[dict[str, Any]]:
    """Every category of the user, by name then id."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "select category_id, name, color from app.categories"
            ' where user_id = %s order by name collate "C", category_id',
            (user_id,),
        )
        return await cur.fetchall()
