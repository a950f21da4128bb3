"""HTTP caching helpers: ETags, ``If-None-Match`` and the ``data_as_of`` header of analytics responses."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from email.utils import format_datetime

from fastapi import Request, Response
from pydantic import BaseModel

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
    """The caching headers every analytics response carries."""
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL}
    if data_as_of is not None:
        headers[DATA_AS_OF_HEADER] = data_as_of.isoformat()
    return headers


def not_modified(etag: str, data_as_of: datetime | None) -> Response:
    """A 304 for a client that already holds this representation."""
    return Response(status_code=304, headers=freshness_headers(etag, data_as_of))


def json_with_etag(request: Request, model: BaseModel, data_as_of: datetime | None) -> Response:
    """``model`` as JSON with an ETag of its bytes, or a 304 when the client's copy is current."""
    return json_bytes_with_etag(request, model.model_dump_json().encode(), data_as_of)


def json_bytes_with_etag(
    request: Request, body: bytes, data_as_of: datetime | None, *, last_modified: bool = False
) -> Response:
    """JSON ``body`` with an ETag of its bytes (and ``Last-Modified`` = ``data_as_of`` when asked), or a 304."""
    etag = make_etag(body)
    headers = freshness_headers(etag, data_as_of)
    if last_modified and data_as_of is not None:
        headers["Last-Modified"] = format_datetime(data_as_of.astimezone(UTC), usegmt=True)
    if etag_matches(request, etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)
