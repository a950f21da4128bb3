"""Bounded input: request bodies and heads have a size limit, and error bodies quote only a prefix of bad values.

Two layers, because the server reads a request's head before the app sees it:

- ``pulse serve`` runs uvicorn's h11 protocol with ``h11_max_incomplete_event_size`` set to the head
  limit, so an oversized head is refused while it arrives (:func:`server_options`); uvicorn answers
  that with a 400, :class:`HeadLimitedH11Protocol` answers 431 as h11 hints.
- :class:`RequestLimitsMiddleware`, pure ASGI, gives the same answers to an app run any other way
  (tests, another server): 431 for a head over the limit, 413 for a body over it, read in full
  before any parsing (chunked bodies without ``Content-Length`` included; a declared length over
  the limit is refused without reading a byte).
"""

from __future__ import annotations

import json
from typing import Any

import h11
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from pulse.settings import Settings

# How much of a bad value a 422 quotes.
QUOTE_CHARS = 80


def brief(value: Any, limit: int = QUOTE_CHARS) -> Any:
    """``value`` as a 422 may echo it: short scalars as they are, anything longer as a prefix ending in '...'."""
    if value is None or isinstance(value, bool | int | float):
        return value
    text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    if len(text) <= limit:
        return value
    return f"{text[:limit]}... ({len(text):,} characters)"


async def _refuse(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class RequestLimitsMiddleware:
    """413 for a body over ``max_body_bytes`` and 431 for a head over ``max_header_bytes``, before the app runs."""

    def __init__(self, app: ASGIApp, max_body_bytes: int, max_header_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_header_bytes = max_header_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        head = len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"")
        head += sum(len(name) + len(value) + 4 for name, value in headers)
        if head > self.max_header_bytes:
            await _refuse(send, 431, f"request headers are larger than {self.max_header_bytes:,} bytes")
            return
        declared = next((value for name, value in headers if name == b"content-length"), None)
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            await _refuse(send, 413, f"request body is larger than {self.max_body_bytes:,} bytes")
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                await _refuse(send, 413, f"request body is larger than {self.max_body_bytes:,} bytes")
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        buffered: list[Message] = [{"type": "http.request", "body": b"".join(chunks), "more_body": False}]

        async def replay() -> Message:
            return buffered.pop() if buffered else await receive()

        await self.app(scope, replay, send)


def install_request_limits(app: Any, settings: Settings) -> None:
    """Add the size limits of ``settings`` to a FastAPI/Starlette app (outermost, so nothing reads first)."""
    app.add_middleware(
        RequestLimitsMiddleware,
        max_body_bytes=settings.api_max_body_bytes,
        max_header_bytes=settings.api_max_header_bytes,
    )


class HeadLimitedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol answering 431 (as h11 hints) instead of 400 when a request's head is over the limit."""

    def send_400_response(self, msg: str) -> None:
        """A 431 when the unparsed head outgrew the limit, else uvicorn's 400."""
        limit = self.config.h11_max_incomplete_event_size
        if limit is None or len(self.conn.trailing_data[0]) <= limit:
            super().send_400_response(msg)
            return
        headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"connection", b"close")]
        for event in (
            h11.Response(status_code=431, headers=headers, reason=b"Request Header Fields Too Large"),
            h11.Data(data=f"request headers are larger than {limit:,} bytes".encode()),
            h11.EndOfMessage(),
        ):
            output = self.conn.send(event)
            if output:
                self.transport.write(output)
        self.transport.close()


def server_options(settings: Settings) -> dict[str, Any]:
    """uvicorn options that refuse an oversized request head while it arrives (``pulse serve``, tests)."""
    return {"http": HeadLimitedH11Protocol, "h11_max_incomplete_event_size": settings.api_max_header_bytes}
