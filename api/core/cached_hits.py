"""The fast path of the response cache: a repeated request answered from the cache before FastAPI routes it.

Profiled, a warm hit that went through FastAPI spent most of its time in routing and in solving the
route's dependencies and query parameters (bearer scheme, user, cached reads, each parameter
validated), far more than in the cache itself. Yet a repeated request needs none of that again:
when a route answers a request through the cache, it records what that exact request (user, path,
raw query string) meant, its normalised cache key and route (a :class:`RequestAlias`, in
api/core/cached_reads.py). This ASGI middleware, the innermost of the app's, answers a GET whose
bearer token is valid and whose user, path and query string have an alias, when the cache holds the
entry the alias names for the user's current local date; it sends exactly what the route would
(the stored body and headers, or a 304 for a matching ``If-None-Match``). Everything else (no or a
bad token, a new query string, a miss, a new local date, the cache off or its listener down) goes
on to FastAPI unchanged, which validates, answers errors and counts the miss.

The token is read by the app's own bearer scheme and checked by the app's token verifier (the same
401 reasons when it is refused, since a refused token goes on to the route). The route is put in the
scope as the router would, so the request metrics count the hit under the route's template.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from starlette.types import ASGIApp, Receive, Scope, Send

from api.core.cache import ResponseCache
from api.core.cached_reads import respond_from
from api.core.security import TokenError, TokenVerifier
from api.deps import bearer_scheme


class CachedHits:
    """ASGI middleware: answer a GET the response cache knows exactly, else pass it on."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            state = scope["app"].state
            cache: ResponseCache = state.response_cache
            if cache.active and scope["path"] in cache.alias_paths:
                response = await self.hit(scope, cache, state)
                if response is not None:
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)

    async def hit(self, scope: Scope, cache: ResponseCache, state: Any) -> Any:
        """The cached response to this request, or None when the route must answer it."""
        request = Request(scope)
        credentials = await bearer_scheme(request)
        if credentials is None:
            return None
        verifier: TokenVerifier = state.token_verifier
        try:
            user_id = verifier.user_id(credentials.credentials, state.settings)
        except TokenError:
            return None
        alias = cache.alias((user_id, scope["path"], scope["query_string"]))
        if alias is None:
            return None
        today = cache.today(user_id)
        if today is None or today.local_today != alias.local_today:
            return None
        entry = cache.get(alias.key, today, count_miss=False)
        if entry is None:
            return None
        scope["route"] = alias.route
        return respond_from(request, entry)


def install_cached_hits(app: FastAPI) -> None:
    """Add the fast path; call it before any other middleware is added, so it is the innermost of them."""
    app.add_middleware(CachedHits)
