"""Error responses: validation errors that name their field, and database errors mapped to what caused them.

FastAPI's own 422 bodies already name the field (``loc``); ``field_error``
builds the same shape for checks made in the routes. A database error is a
4xx only when the caller's input caused it; an unreachable database is a 503.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any

import psycopg
from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from psycopg_pool import PoolTimeout

from api.core.limits import brief

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


async def _too_slow(request: Request, exc: Exception) -> JSONResponse:
    logger.warning("statement timeout for %s %s: %s", request.method, request.url.path, exc)
    return JSONResponse(
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        content={"detail": "the query took longer than the API's statement timeout; try again later"},
        headers={"Retry-After": "30"},
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


def _json_safe(value: Any) -> Any:
    """``value`` with what JSON cannot carry (infinities, NaN, lone surrogates) turned into readable strings."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, dict):
        return {str(_json_safe(k)): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return _json_safe(str(value))


_ERROR_KEYS = ("type", "loc", "msg", "input", "ctx")


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    # FastAPI's own handler, made safe for inputs JSON cannot echo (1e400, "\ud800"): never a 500.
    assert isinstance(exc, RequestValidationError)
    errors = [
        {key: _json_safe(brief(error[key]) if key == "input" else error[key]) for key in _ERROR_KEYS if key in error}
        for error in exc.errors()
    ]
    return JSONResponse(status_code=status.HTTP_422_UNPROCESSABLE_CONTENT, content={"detail": errors})


def install_error_handlers(app: FastAPI) -> None:
    """Map database failures to 503 (unreachable, marts not built) and 422 (values it refused)."""
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(psycopg.errors.UndefinedTable, _marts_missing)
    app.add_exception_handler(psycopg.errors.QueryCanceled, _too_slow)
    app.add_exception_handler(PoolTimeout, _database_unavailable)
    app.add_exception_handler(psycopg.OperationalError, _database_unavailable)
    app.add_exception_handler(psycopg.DataError, _data_error)
