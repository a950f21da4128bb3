"""HTTP caching helpers: ETags, ``If-None-Match`` and the ``data_as_of`` header of analytics responses."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from email.utils import format_datetime

from fastapi import Request, Response

CACHE_CONTROL = "private, no-cache"
DATA_AS_OF_HEADER = "X-Data-As-Of"


def make_etag(*parts: bytes | str) -> str:
    """A strong ETag over ``parts``."""
    digest = hashlib.blake2b(digest_size=16)
    for part in parts:
        digest.update(part.encode() if isinstance(part, str) else part)
        digest.update(b"\x1f")
    return f'"{digest.hexdigest()}"'


def etag_matches(request: Request, etag: str) -> bool:
    """Whether the request's ``If-None-Match`` names ``etag`` (weak comparison, as RFC 9110 asks for GET)."""
    header = request.headers.get("if-none-match")
    if not header:
        return False
    if header.strip() == "*":
        return True
    return any(candidate.strip().removeprefix("W/") == etag for candidate in header.split(","))


def freshness_headers(etag: str, data_as_of: datetime | None) -> dict[str, str]:
    """The caching headers every analytics response carries (``Last-Modified``: the marts' build time)."""
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL}
    if data_as_of is not None:
        headers[DATA_AS_OF_HEADER] = data_as_of.isoformat()
        headers["Last-Modified"] = format_datetime(data_as_of.astimezone(UTC), usegmt=True)
    return headers


def not_modified(etag: str, data_as_of: datetime | None) -> Response:
    """A 304 for a client that already holds this representation."""
    return Response(status_code=304, headers=freshness_headers(etag, data_as_of))
