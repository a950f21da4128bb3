"""The built front end (``web/dist``) served by the API at ``/``, with ``index.html`` for the app's client routes.

Routes added here come after the API's, the docs and the probes, so those keep answering as before; paths
under ``/api/`` never fall back to the app (an unknown API path is still a JSON 404). Without a build, ``/``
says how to make one. Also the CORS middleware for a front end hosted on another origin (none by default).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, HTTPException
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.types import Scope

NOT_BUILT = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Pulse</title></head>
<body><h1>Pulse's front end is not built</h1>
<p>Build it with <code>cd web &amp;&amp; npm ci &amp;&amp; npm run build</code> (or run <code>make demo</code>),
then reload this page. The API is at <a href="/docs">/docs</a>.</p></body></html>"""

# Hashed file names under assets/ never change content: cache them for a year. index.html is always revalidated.
IMMUTABLE = "public, max-age=31536000, immutable"


def install_cors(app: FastAPI, origins: list[str]) -> None:
    """Let the listed origins call the API from a browser (with the Authorization header)."""
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "If-None-Match"],
            expose_headers=["ETag", "Last-Modified", "X-Data-As-Of", "Content-Disposition"],
        )


class _ImmutableStatic(StaticFiles):
    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            response.headers["Cache-Control"] = IMMUTABLE
        return response


def mount_web(app: FastAPI, dist: Path) -> None:
    """Serve ``dist`` at ``/`` (files as they are, any other path outside ``/api/`` as ``index.html``)."""
    dist = dist.resolve()
    index = dist / "index.html"
    if (dist / "assets").is_dir():
        app.mount("/assets", _ImmutableStatic(directory=dist / "assets"), name="web-assets")

    @app.get("/{path:path}", include_in_schema=False)
    async def web_app(path: str) -> Response:
        if path == "api" or path.startswith("api/"):
            raise HTTPException(status_code=404, detail="Not Found")
        if not index.is_file():
            return HTMLResponse(NOT_BUILT, status_code=503 if path == "" else 404)
        if path:
            candidate = (dist / path).resolve()
            if candidate.is_relative_to(dist) and candidate.is_file():
                return FileResponse(candidate)
        return FileResponse(index, headers={"Cache-Control": "no-cache"})
