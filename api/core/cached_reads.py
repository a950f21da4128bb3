"""Cached analytics reads: the request-side half of the response cache (api/core/cache.py).

A route takes :data:`Reads` instead of a pooled connection. While the cache is active, a read
resolves its range through the user's local today (kept until the user's next local midnight, so
a warm read needs no database round trip), looks the normalised key up and, on a hit, answers
(``If-None-Match`` included) without a connection. A miss, or any read while the cache is off or
its listener is down, takes a connection and runs the route's SQL as before.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated, Any
from uuid import UUID

import psycopg
from fastapi import Depends, Request, Response
from psycopg import AsyncConnection
from pydantic import BaseModel

from api.core.cache import EARLIEST, CachedResponse, CacheKey, RequestAlias, ResponseCache, UserToday
from api.core.http import etag_matches, freshness_headers, make_etag, not_modified
from api.deps import CurrentUser, get_pool, unauthorized

# The user's local today and when it ends (the next local midnight by the marts' day windows, computed
# in dbt's user_local_today), as an instant in epoch seconds.
USER_TODAY_SQL = """
select u.local_today, extract(epoch from u.local_today_ends_at)::float8 as ends_at
from analytics.user_local_today as u
where u.user_id = %s"""


@dataclass(frozen=True, slots=True)
class Computed:
    """A response computed from the database: the model, its freshness and the local dates it covers."""

    model: BaseModel
    data_as_of: datetime | None
    start_date: date
    end_date: date


def period_start(period: str, day: date) -> date:
    """First date of the day, ISO week or month holding ``day`` (as the SQL's ``date_trunc`` has it)."""
    if period == "weekly":
        return day - timedelta(days=day.weekday())
    if period == "monthly":
        return day.replace(day=1)
    return day


def respond_from(request: Request, entry: CachedResponse) -> Response:
    """A stored response, or a 304 when the client holds it (the headers as stored, formatted once)."""
    if etag_matches(request, entry.etag):
        return Response(status_code=304, headers=entry.headers)
    return Response(entry.body, media_type="application/json", headers=entry.headers)


def json_response(request: Request, computed: Computed) -> tuple[Response, bytes, str]:
    """``computed`` as JSON with an ETag of its bytes (or a 304), and the body and ETag to store."""
    body = computed.model.model_dump_json().encode()
    etag = make_etag(body)
    if etag_matches(request, etag):
        return not_modified(etag, computed.data_as_of), body, etag
    headers = freshness_headers(etag, computed.data_as_of)
    return Response(body, media_type="application/json", headers=headers), body, etag


class CachedReads:
    """One request's access to the cache and, only when needed, to a pooled connection."""

    def __init__(self, request: Request, user_id: UUID, stack: contextlib.AsyncExitStack) -> None:
        self.request = request
        self.user_id = user_id
        self.cache: ResponseCache = request.app.state.response_cache
        self.active = self.cache.active
        # Taken before anything is read: a response computed across an invalidation is not stored.
        self.generation = self.cache.generation
        self._stack = stack
        self._conn: AsyncConnection[Any] | None = None

    async def connection(self) -> AsyncConnection[Any]:
        """A pooled connection for the rest of the request (returned after the response is sent)."""
        if self._conn is None:
            conn: AsyncConnection[Any] = await self._stack.enter_async_context(get_pool(self.request).connection())
            self._conn = conn
            return conn
        return self._conn

    async def today(self) -> UserToday | None:
        """The user's local today while the cache is active (None otherwise: the SQL resolves it)."""
        if not self.active:
            return None
        today = self.cache.today(self.user_id)
        if today is None:
            conn = await self.connection()
            try:
                cur = await conn.execute(USER_TODAY_SQL, (self.user_id,))
            except psycopg.errors.UndefinedTable:
                # No marts yet: nothing to cache; the route's own SQL says so after checking its input.
                self.active = False
                return None
            row = await cur.fetchone()
            if row is None:
                raise unauthorized("the token's user does not exist")
            today = UserToday(local_today=row[0], valid_until=row[1])
            self.cache.put_today(self.user_id, today, self.generation)
        return today

    async def json(
        self,
        key: tuple[Hashable, ...],
        compute: Callable[[AsyncConnection[Any]], Awaitable[Computed]],
        *,
        today: UserToday | None,
        start_date: date | None,
        reaches_back: bool,
        goals: bool,
    ) -> Response:
        """The response of ``key`` (endpoint name first, then its normalised parameters) from the cache,
        else from ``compute``, stored for later.

        ``start_date``: the first date the key resolved to; a computed response over other dates (the
        user's date changed in between) is not stored. ``reaches_back``: the figures read every date up
        to the range's end (the streak); ``goals``: the response holds goal progress (dropped when the
        user's goals change).
        """
        full_key = (self.user_id, *key)
        if self.active:
            entry = self.cache.get(full_key, today)
            if entry is not None:
                self._learn(full_key, today)
                return respond_from(self.request, entry)
        computed = await compute(await self.connection())
        response, body, etag = json_response(self.request, computed)
        if self.active and today is not None and computed.start_date == start_date:
            entry = CachedResponse(
                endpoint=str(key[0]),
                body=body,
                etag=etag,
                data_as_of=computed.data_as_of,
                first_date=EARLIEST if reaches_back else computed.start_date,
                last_date=computed.end_date,
                goals=goals,
                local_today=today.local_today,
                valid_until=today.valid_until,
                headers=freshness_headers(etag, computed.data_as_of),
            )
            self.cache.put(full_key, entry, self.generation)
            self._learn(full_key, today)
        return response

    def _learn(self, full_key: CacheKey, today: UserToday | None) -> None:
        """Remember that this exact request (user, path, query string) means ``full_key``: the fast path's alias."""
        if today is None:
            return
        scope = self.request.scope
        alias = RequestAlias(key=full_key, route=scope.get("route"), local_today=today.local_today)
        self.cache.put_alias((self.user_id, scope["path"], scope["query_string"]), alias, self.generation)

    async def etag(
        self,
        key: tuple[Hashable, ...],
        compute: Callable[[AsyncConnection[Any]], Awaitable[tuple[str, datetime | None]]],
        *,
        start_date: date,
        end_date: date,
    ) -> tuple[str, datetime | None]:
        """The ETag and ``data_as_of`` of a response over fixed dates (the export), cached when active."""
        full_key = (self.user_id, *key)
        if self.active:
            entry = self.cache.get(full_key, None)
            if entry is not None:
                return entry.etag, entry.data_as_of
        etag, data_as_of = await compute(await self.connection())
        if self.active:
            entry = CachedResponse(
                endpoint=str(key[0]),
                body=None,
                etag=etag,
                data_as_of=data_as_of,
                first_date=start_date,
                last_date=end_date,
                goals=False,
                local_today=None,
            )
            self.cache.put(full_key, entry, self.generation)
        return etag, data_as_of


async def cached_reads(request: Request, user_id: CurrentUser) -> AsyncIterator[CachedReads]:
    """The request's :class:`CachedReads`; a connection it took goes back to the pool after the response."""
    async with contextlib.AsyncExitStack() as stack:
        yield CachedReads(request, user_id, stack)


Reads = Annotated[CachedReads, Depends(cached_reads)]
