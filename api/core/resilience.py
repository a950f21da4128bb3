"""Fail fast while the database is down, and serve again as soon as it is back.

psycopg_pool alone does neither: a request waits the whole pool timeout for a connection the pool
cannot make, and the pool's reconnect backoff doubles without a cap (after a 41 s outage the API took
13 s to answer again). :class:`ResilientPool` adds a circuit to the pool:

- a probe task keeps one connection of its own and runs ``select 1`` every ``PROBE_INTERVAL`` seconds
  (reconnecting at the same pace while the database is down), so the state "down" or "up" is never
  older than that;
- while the database is down, ``getconn`` raises :class:`DatabaseDown` at once (a 503 with
  ``Retry-After``), and requests already waiting for a connection get it too;
- the pool gives up its own reconnection after ``api_reconnect_max_seconds`` (no backoff to grow),
  checks every connection it hands out, and makes new ones when the requests come back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import psycopg
from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from pulse.settings import Settings

logger = logging.getLogger("api")

PROBE_INTERVAL = 0.25
RETRY_AFTER_SECONDS = 1


class DatabaseDown(PoolTimeout):
    """The circuit is open: the last probe of the database failed."""


class ResilientPool(AsyncConnectionPool[Any]):
    """An ``AsyncConnectionPool`` with a probe of the database and a circuit that fails fast while it is down."""

    def __init__(self, conninfo: str, *, settings: Settings, **options: Any) -> None:
        kwargs = dict(options.pop("kwargs", None) or {})
        kwargs.setdefault("connect_timeout", max(1, round(settings.api_connect_timeout)))
        # The URL's own options (the SET ROLE fallback of pulse/roles.py) survive the pool's (statement_timeout).
        url_options = conninfo_to_dict(conninfo).get("options")
        if url_options and kwargs.get("options"):
            kwargs["options"] = f"{url_options} {kwargs['options']}"
        super().__init__(
            conninfo,
            kwargs=kwargs,
            check=AsyncConnectionPool.check_connection,
            reconnect_timeout=settings.api_reconnect_max_seconds,
            **options,
        )
        self.probe_conninfo = conninfo
        self.connect_timeout = settings.api_connect_timeout
        self.up = True
        self._down = asyncio.Event()
        self._probe: asyncio.Task[None] | None = None

    async def open(self, wait: bool = False, timeout: float = 30.0) -> None:
        """Open the pool and start the probe."""
        await super().open(wait=wait, timeout=timeout)
        if self._probe is None:
            self._probe = asyncio.create_task(self._watch(), name=f"{self.name}-probe")

    async def close(self, timeout: float = 5.0) -> None:
        """Stop the probe and close the pool."""
        if self._probe is not None:
            self._probe.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._probe
            self._probe = None
        await super().close(timeout=timeout)

    def _set_up(self, up: bool) -> None:
        if up == self.up:
            return
        self.up = up
        if up:
            self._down.clear()
            logger.warning("database %s is back: serving again", self.name)
        else:
            self._down.set()
            logger.warning("database %s is down: answering 503 until it is back", self.name)

    async def _watch(self) -> None:
        conn: psycopg.AsyncConnection[Any] | None = None
        try:
            while True:
                try:
                    async with asyncio.timeout(self.connect_timeout):
                        if conn is None or conn.closed:
                            conn = await psycopg.AsyncConnection.connect(self.probe_conninfo, autocommit=True)
                        await conn.execute("select 1")
                    if not self.up:
                        await self.check()  # drop the connections the outage broke before requests come
                    self._set_up(True)
                except (psycopg.Error, OSError, TimeoutError):
                    self._set_up(False)
                    if conn is not None:
                        await conn.close()
                        conn = None
                await asyncio.sleep(PROBE_INTERVAL)
        finally:
            if conn is not None:
                await conn.close()

    async def getconn(self, timeout: float | None = None) -> Any:
        """A connection, or :class:`DatabaseDown` at once while the database is down (also for waiting requests)."""
        if not self.up:
            raise DatabaseDown("the database is down")
        waiting = asyncio.ensure_future(super().getconn(timeout))
        down = asyncio.ensure_future(self._down.wait())
        try:
            await asyncio.wait({waiting, down}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            down.cancel()
        if not waiting.done():
            waiting.cancel()  # psycopg_pool keeps a connection that reaches a cancelled waiter
            with contextlib.suppress(asyncio.CancelledError, PoolTimeout, psycopg.Error):
                conn = await waiting
                await self.putconn(conn)
            raise DatabaseDown("the database went down")
        return waiting.result()


async def _database_down(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        content={"detail": "the database is not available; try again shortly"},
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def install_outage_handler(app: FastAPI) -> None:
    """503 with a short ``Retry-After`` while the circuit is open (recovery takes about a probe interval)."""
    app.add_exception_handler(DatabaseDown, _database_down)
