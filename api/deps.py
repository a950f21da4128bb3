"""FastAPI dependencies: the settings, a pooled database connection and the authenticated user."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from api.core.security import TokenError, TokenVerifier
from pulse.settings import Settings

bearer_scheme = HTTPBearer(auto_error=False, description="HS256 JWT whose `sub` is the user id (`pulse token`).")


def unauthorized(detail: str) -> HTTPException:
    """A 401 that tells the client to authenticate with a bearer token."""
    return HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED, detail=detail, headers={"WWW-Authenticate": "Bearer"}
    )


async def get_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


def get_pool(request: Request) -> AsyncConnectionPool[Any]:
    """The app's connection pool (opened in the lifespan)."""
    pool: AsyncConnectionPool[Any] = request.app.state.pool
    return pool


async def get_connection(request: Request) -> AsyncIterator[AsyncConnection[Any]]:
    """A connection from the pool for this request, returned after the response is sent."""
    async with get_pool(request).connection() as conn:
        yield conn


async def get_current_user(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> UUID:
    """The user id of the request's bearer token; 401 when it is missing or not valid."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise unauthorized("missing bearer token: send `Authorization: Bearer <token>`")
    verifier: TokenVerifier = request.app.state.token_verifier
    try:
        return verifier.user_id(credentials.credentials, request.app.state.settings)
    except TokenError as exc:
        raise unauthorized(str(exc)) from exc


Connection = Annotated[AsyncConnection[Any], Depends(get_connection)]
CurrentUser = Annotated[UUID, Depends(get_current_user)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
