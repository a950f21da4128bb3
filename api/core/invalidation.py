"""Invalidation of the response cache: one ``LISTEN`` connection per API process, and the goal writes' NOTIFY.

Builds announce what they changed on the channel ``pulse_marts_changed`` (the dbt on-run-end hook,
dbt_project/macros/notify_marts_changed.sql); the API's goal writes announce a user's goals there
too, inside their transaction, so every process (workers, other instances) hears of them at commit.
Payloads (JSON objects):

- ``{"start_date": D1, "end_date": D2}``: a build of local dates ``[D1, D2)``: drop the entries that read them;
- ``{"user_id": U, "scope": "goals"}``: drop U's entries that hold goal progress;
- anything else (``{}``, a payload this code does not know): drop everything.

While the connection is down the cache is cleared and bypassed (a change announced then is never
heard), and the listener reconnects every ``listener_retry_seconds`` of the cache.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from datetime import date
from typing import Any
from uuid import UUID

import psycopg
from fastapi import Request
from psycopg import AsyncConnection

from api.core import cache_metrics
from api.core.cache import ResponseCache

CHANNEL = "pulse_marts_changed"
APPLICATION_NAME = "pulse-api-cache-listener"

logger = logging.getLogger(__name__)


def apply_payload(cache: ResponseCache, payload: str) -> None:
    """Drop what one notification says changed (everything when it does not say clearly)."""
    try:
        message = json.loads(payload)
        if isinstance(message, dict) and message.get("scope") == "goals" and "user_id" in message:
            cache.drop_user_goals(UUID(str(message["user_id"])))
            return
        if isinstance(message, dict) and "start_date" in message and "end_date" in message:
            cache.drop_dates(date.fromisoformat(message["start_date"]), date.fromisoformat(message["end_date"]))
            return
    except (ValueError, TypeError):
        logger.warning("cache invalidation: unreadable payload %r: dropping every entry", payload[:200])
    cache.drop_all()


async def _clock_skew(conn: AsyncConnection[Any], cache: ResponseCache) -> float:
    """The database's clock minus the cache's (seconds): the database computes the entries' expiry instants."""
    before = cache.clock()
    cur = await conn.execute("select extract(epoch from clock_timestamp())::float8")
    row = await cur.fetchone()
    after = cache.clock()
    return float(row[0]) - (before + after) / 2 if row else 0.0


async def listen(cache: ResponseCache, url: str, heartbeat_seconds: float = 10.0) -> None:
    """Hold the ``LISTEN`` connection and apply every notification, forever (cancel to stop).

    The cache is ready only while the connection is: it is cleared when it is (re)established and
    suspended when it is lost. A query every ``heartbeat_seconds`` of silence notices a connection
    that died without a word.
    """
    while True:
        try:
            conn = await AsyncConnection.connect(url, autocommit=True, application_name=APPLICATION_NAME)
            async with conn:
                await conn.execute(f"listen {CHANNEL}")
                cache.resume(await _clock_skew(conn, cache))
                logger.info("cache invalidation: listening on %s", CHANNEL)
                while True:
                    async for notify in conn.notifies(timeout=heartbeat_seconds):
                        apply_payload(cache, notify.payload)
                    await conn.execute("select 1")
        except (psycopg.Error, OSError) as exc:
            if cache.ready:
                cache_metrics.LISTENER_LOST.inc()
            logger.warning(
                "cache invalidation: listener connection lost (%s); bypassing the cache until it is back",
                " ".join(str(exc).split()) or type(exc).__name__,
            )
        finally:
            cache.suspend()
        await asyncio.sleep(cache.listener_retry_seconds)


@contextlib.asynccontextmanager
async def invalidation_listener(cache: ResponseCache, url: str) -> AsyncIterator[None]:
    """Run :func:`listen` for the app's lifetime (nothing when the cache is turned off)."""
    if not cache.enabled:
        yield
        return
    task = asyncio.create_task(listen(cache, url), name="pulse-api-cache-listener")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def goals_payload(user_id: UUID) -> str:
    """The notification of a change to ``user_id``'s goals."""
    return json.dumps({"user_id": str(user_id), "scope": "goals"})


@contextlib.asynccontextmanager
async def goals_written(request: Request, conn: AsyncConnection[Any], user_id: UUID) -> AsyncIterator[None]:
    """A transaction that writes ``user_id``'s goals and, when it commits, tells every cache.

    The NOTIFY is part of the transaction (other processes hear it at commit); this process drops
    the user's goal entries right after the commit, before the response goes out.
    """
    async with conn.transaction():
        yield
        await conn.execute("select pg_notify(%s, %s)", (CHANNEL, goals_payload(user_id)))
    cache: ResponseCache = request.app.state.response_cache
    cache.drop_user_goals(user_id)
