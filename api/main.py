"""The Pulse API application: ``create_app()`` builds it, ``app`` is the one ``pulse serve`` runs.

The lifespan opens one psycopg connection pool on the selected database
(``DATABASE_URL`` or the embedded server) and closes it on shutdown.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline
from psycopg_pool import AsyncConnectionPool

from api.core.cache import ResponseCache
from api.core.cached_hits import install_cached_hits
from api.core.errors import install_error_handlers
from api.core.features import install_features, requires
from api.core.features import router as features_router
from api.core.invalidation import invalidation_listener
from api.core.limits import install_request_limits
from api.core.metrics import install_metrics
from api.core.resilience import ResilientPool, install_outage_handler
from api.core.security import TokenVerifier
from api.routes import analytics, categories, goals, health
from api.web import install_cors, mount_web
from pulse.roles import API_ROLE, role_url
from pulse.settings import Settings, get_settings

API_PREFIX = "/api/v1"

DESCRIPTION = """\
Pulse's goals and analytics, read from the dbt marts in PostgreSQL.

Every `/api/v1` request needs `Authorization: Bearer <token>` (HS256 JWT, `sub` = user id;
`pulse token --user ID|EMAIL` prints one). Dates are the caller's local dates.
Analytics responses carry `data_as_of` (when the marts were built) and an `ETag`.
"""


def create_pool(url: str, settings: Settings) -> AsyncConnectionPool[Any]:
    """A closed pool of autocommit connections to ``url``, sized by the settings."""
    options = f"-c statement_timeout={settings.api_statement_timeout_ms}"
    return ResilientPool(
        url,
        settings=settings,
        min_size=settings.api_pool_min_size,
        max_size=settings.api_pool_max_size,
        timeout=settings.api_pool_timeout,
        kwargs={"autocommit": True, "application_name": "pulse-api", "options": options},
        open=False,
        name="pulse-api",
    )


def create_app(settings: Settings | None = None, database_url: str | None = None) -> FastAPI:
    """The FastAPI app, with its routers, error handlers and a pool opened by the lifespan."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        url = database_url
        if url is None:
            from pulse.database import database_url as selected_database_url

            # Starting the embedded server can take seconds: keep the event loop free.
            url = await asyncio.to_thread(selected_database_url, settings)
        api_url = role_url(url, API_ROLE, settings)  # the API's role, not the URL's
        pool = create_pool(api_url, settings)
        await pool.open(wait=False)
        app.state.pool = pool
        try:
            async with invalidation_listener(app.state.response_cache, api_url):
                yield
        finally:
            await pool.close()

    # /docs and /redoc with Swagger UI and ReDoc from fastapi-offline's packaged copy (no CDN, no Google
    # fonts); no validator badge, which Swagger UI would load from validator.swagger.io.
    app = FastAPIOffline(
        title="Pulse API",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_url="/openapi.json",
        swagger_ui_parameters={"validatorUrl": None},
    )
    app.state.settings = settings
    app.state.response_cache = ResponseCache(settings.api_cache_max_entries, enabled=settings.api_cache_enabled)
    app.state.token_verifier = TokenVerifier(settings.api_token_cache_max_entries)
    install_error_handlers(app)
    install_outage_handler(app)
    install_features(app, settings)
    install_cached_hits(app)  # first, so innermost: the metrics and limits still see every request
    install_metrics(app)
    install_request_limits(app, settings)  # added last, so outermost: an oversized request meets nothing else
    app.include_router(health.router)
    app.include_router(features_router, prefix=API_PREFIX)
    app.include_router(goals.router, prefix=API_PREFIX, dependencies=[requires("goals")])
    app.include_router(analytics.router, prefix=API_PREFIX)
    app.include_router(categories.router, prefix=API_PREFIX)
    install_cors(app, settings.cors_origins)
    mount_web(app, settings.web_dist_dir)  # last: its catch-all must not shadow the routes above
    return app


app = create_app()
