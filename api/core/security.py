"""Bearer tokens of the API: minting (``pulse token``) and checking (every request), in one place.

Tokens are HS256 JWTs signed with ``PULSE_JWT_SECRET`` whose ``sub`` is a user
id. Only HS256 is accepted: a token signed with any other algorithm, ``alg:
none`` included, is refused, as is a token without ``exp``. ``aud`` and ``iss``
are checked when they are configured.

Checking a token's signature and claims costs about as much CPU as serving a cached response, so
each API process remembers the tokens it verified (:class:`TokenVerifier`): keyed by the token
string, bounded (least recently used go), each only until its own ``exp`` (never past it: an
expired token is verified again and refused), and only under the secret, audience and issuer it
was verified with (a changed signing key verifies every token again).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import jwt

from api.core.cache import LruStore
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
    return verify_token(token, settings)[0]


def verify_token(token: str, settings: Settings) -> tuple[UUID, float]:
    """The user id a valid token names and its ``exp`` (epoch seconds); ``TokenError`` for anything else."""
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
        user_id = UUID(str(subject))
    except ValueError as exc:
        raise TokenError("invalid token: `sub` is not a user id") from exc
    return user_id, float(claims["exp"])


@dataclass(frozen=True, slots=True)
class VerifiedToken:
    """A token that passed :func:`verify_token`: its user and the instant (epoch seconds) it expires."""

    user_id: UUID
    expires_at: float


class TokenVerifier:
    """:func:`verify_token` with the verified tokens remembered until their ``exp``, at most ``max_entries``.

    Only successes are kept (a refused token is checked again each time, so junk cannot fill the
    memory), each under the secret, audience, issuer and leeway it was verified with: when the
    settings name others, everything is forgotten. ``max_entries`` 0 verifies every request.
    """

    def __init__(self, max_entries: int, clock: Callable[[], float] = time.time) -> None:
        self.max_entries = max_entries
        self.clock = clock
        self.verified: LruStore[str, VerifiedToken] = LruStore(max(max_entries, 1))
        self.verified_with: tuple[str, str | None, str | None, int] | None = None

    def user_id(self, token: str, settings: Settings) -> UUID:
        """The user id of ``token``; ``TokenError`` when it is not valid now under ``settings``."""
        key = (settings.jwt_secret, settings.jwt_audience, settings.jwt_issuer, settings.jwt_leeway_seconds)
        if key != self.verified_with:
            self.verified.clear()
            self.verified_with = key
        known = self.verified.get(token)
        if known is not None:
            if self.clock() < known.expires_at:
                return known.user_id
            self.verified.pop(token)  # expired here; verify_token decides (with its leeway) and refuses later
        user_id, expires_at = verify_token(token, settings)
        if self.max_entries and self.clock() < expires_at:
            self.verified.put(token, VerifiedToken(user_id, expires_at))
        return user_id
