"""Error responses: validation errors that name their field, and database errors mapped to what caused them.

FastAPI's own 422 bodies already name the field (``loc``); ``field_error``
builds the same shape for checks made in the routes. A database error is a
4xx only when the caller's input caused it; an unreachable database is a 503.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import psycopg
from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from psycopg_pool import PoolTimeout

logger = logging.getLogger("api")


def field_error(
    loc: Sequence[str | int], msg: str, value: Any = None, kind: str = "value_error"
) -> RequestValidationError:
    """A 422 naming the field at ``loc`` (e.g. ``("body", "category_id")``), shaped like FastAPI's own."""
    return RequestValidationError([{"type": kind, "loc": tuple(loc), "msg": msg, "input": value}])


async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    logger.warning("database unavailable for %s %s: %s", request.method, request.url.path, exc)
    return JSONResponse(
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        content={"detail": "the database is not available; try again shortly"},
        headers={"Retry-After": "5"},
    )


async def _data_error(request: Request, exc: Exception) -> JSONResponse:
    # Every input is validated before it reaches SQL; a DataError left over means a value the
    # database could not take (out of its range), which is the request's to fix.
    logger.info("data error for %s %s: %s", request.method, request.url.path, exc)
    return JSONResponse(
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        content={"detail": [{"type": "value_error", "loc": ["request"], "msg": f"value not accepted: {exc}"}]},
    )


async def _marts_missing(request: Request, exc: Exception) -> JSONResponse:
    logger.warning("marts missing for %s %s: %s", request.method, request.url.path, exc)
    return JSONResponse(
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        content={"detail": "the analytics marts have not been built yet: run `pulse build`"},
        headers={"Retry-After": "60"},
    )


def install_error_handlers(app: FastAPI) -> None:
    """Map database failures to 503 (unreachable, marts not built) and 422 (values it refused)."""
    app.add_exception_handler(psycopg.errors.UndefinedTable, _marts_missing)
    app.add_exception_handler(PoolTimeout, _database_unavailable)
    app.add_exception_handler(psycopg.OperationalError, _database_unavailable)
    app.add_exception_handler(psycopg.DataError, _data_error)
