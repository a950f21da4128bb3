"""Liveness and readiness probes; no token needed."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.deps import get_pool
from api.schemas import Health

router = APIRouter(tags=["health"])

READY_TIMEOUT_SECONDS = 2.0


@router.get("/healthz", response_model=Health, summary="Liveness: the process answers")
async def healthz() -> Health:
    """Always ok while the process serves requests."""
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Health,
    responses={503: {"model": Health, "description": "The database does not answer."}},
    summary="Readiness: the database answers",
)
async def readyz(request: Request) -> JSONResponse:
    """200 when a pooled connection answers ``select 1`` within two seconds, else 503."""
    try:
        async with asyncio.timeout(READY_TIMEOUT_SECONDS):
            async with get_pool(request).connection(timeout=READY_TIMEOUT_SECONDS) as conn:
                await conn.execute("select 1")
    except Exception as exc:  # any failure means "not ready"; say which
        detail = f"database unavailable: {type(exc).__name__}"
        return JSONResponse(status_code=503, content=Health(status="unavailable", detail=detail).model_dump())
    return JSONResponse(content=Health(status="ok").model_dump())
