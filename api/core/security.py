"""Bearer tokens of the API: minting (``pulse token``) and checking (every request), in one place.

Tokens are HS256 JWTs signed with ``PULSE_JWT_SECRET`` whose ``sub`` is a user
id. Only HS256 is accepted: a token signed with any other algorithm, ``alg:
none`` included, is refused, as is a token without ``exp``. ``aud`` and ``iss``
are checked when they are configured.
"""

from __future__ import annotations

import time
from typing import Any
from uuid import UUID

import jwt

from pulse.settings import Settings

ALGORITHM = "HS256"


class TokenError(ValueError):
    """A bearer token that must be refused; the message says why (safe to show the caller)."""


def mint_token(user_id: UUID, settings: Settings, expires_in: int | None = None, now: float | None = None) -> str:
    """A signed token for ``user_id`` that expires ``expires_in`` seconds from now."""
    issued_at = int(time.time() if now is None else now)
    lifetime = settings.jwt_default_expires_in if expires_in is None else expires_in
    claims: dict[str, Any] = {"sub": str(user_id), "iat": issued_at, "exp": issued_at + lifetime}
    if settings.jwt_audience:
        claims["aud"] = settings.jwt_audience
    if settings.jwt_issuer:
        claims["iss"] = settings.jwt_issuer
    return jwt.encode(claims, settings.jwt_secret, algorithm=ALGORITHM)


def user_id_from_token(token: str, settings: Settings) -> UUID:
    """The user id a valid token names; ``TokenError`` for anything else."""
    required = ["exp", "sub"]
    if settings.jwt_audience:
        required.append("aud")
    if settings.jwt_issuer:
        required.append("iss")
    try:
        claims = jwt.decode(
            token,
            settings.jwt_secret,
            algorithms=[ALGORITHM],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            leeway=settings.jwt_leeway_seconds,
            options={"require": required, "verify_aud": settings.jwt_audience is not None},
        )
    except jwt.ExpiredSignatureError as exc:
        raise TokenError("the token has expired") from exc
    except jwt.InvalidTokenError as exc:
        raise TokenError(f"invalid token: {exc}") from exc
    subject = claims.get("sub")
    try:
        return UUID(str(subject))
    except ValueError as exc:
        raise TokenError("invalid token: `sub` is not a user id") from exc
