"""Categories: the caller's categories (``app.categories``), for the front end's category pickers."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.deps import Connection, CurrentUser
from api.queries import goals as queries
from api.schemas import Category, ErrorMessage

router = APIRouter(
    prefix="/categories",
    tags=["categories"],
    responses={401: {"model": ErrorMessage, "description": "Missing, expired or invalid bearer token."}},
)


@router.get("", response_model=list[Category], summary="List the caller's categories")
async def list_categories(user_id: CurrentUser, conn: Connection) -> list[dict[str, Any]]:
    """Every category of the caller, by name (goal forms and the dashboard's category filter use them)."""
    return await queries.list_categories(conn, user_id)
