"""Bounded input: 413 for bodies over the limit (declared or chunked), 431 for oversized heads, short 422s.

Both layers are tested: the ASGI middleware through the real app in TestClient, and the server's own
limit through a real uvicorn server with ``pulse serve``'s options on a free port, spoken to over a
raw socket (so nothing on the client side trims or refuses what is sent).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

from api.core.limits import QUOTE_CHARS, server_options
from api.main import create_app
from pulse.settings import Settings
from tests.api import dataset
from tests.api.conftest import Auth

GOALS = "/api/v1/goals"


def goal(name: str) -> dict[str, object]:
    return {"name": name, "target_type": "minutes", "target_value": 60, "time_period": "daily"}


def test_a_body_over_the_limit_is_413_before_auth_or_parsing(goals_client: TestClient) -> None:
    response = goals_client.post(
        GOALS, content=b"{" + b" " * 70_000 + b"}", headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert "65,536 bytes" in response.json()["detail"]


def test_a_chunked_body_without_length_over_the_limit_is_413(goals_client: TestClient, auth: Auth) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"name": "'
        for _ in range(100):
            yield b"x" * 1000
        yield b'"}'

    response = goals_client.post(
        GOALS, content=chunks(), headers={**auth(dataset.NY), "content-type": "application/json"}
    )
    assert response.status_code == 413


def test_a_body_under_the_limit_is_read(goals_client: TestClient, auth: Auth) -> None:
    response = goals_client.post(GOALS, json=goal("fits"), headers=auth(dataset.NY))
    assert response.status_code == 201, response.text
    goals_client.delete(f"{GOALS}/{response.json()['goal_id']}", headers=auth(dataset.NY))


def test_a_422_quotes_a_short_prefix_of_a_long_bad_value_and_names_the_field(
    goals_client: TestClient, auth: Auth
) -> None:
    body = goal("a long name") | {"target_value": "9" * 60_000}
    response = goals_client.post(GOALS, json=body, headers=auth(dataset.NY))
    assert response.status_code == 422
    assert len(response.content) < 1000
    first = response.json()["detail"][0]
    assert first["loc"] == ["body", "target_value"]
    assert first["input"].startswith("9" * QUOTE_CHARS) and "60,000 characters" in first["input"]


def test_a_short_bad_value_is_quoted_whole(goals_client: TestClient, auth: Auth) -> None:
    response = goals_client.post(GOALS, json=goal("x") | {"time_period": "hourly"}, headers=auth(dataset.NY))
    assert response.status_code == 422
    assert response.json()["detail"][0]["input"] == "hourly"


def test_a_head_over_the_limit_is_431_in_the_app(goals_client: TestClient) -> None:
    response = goals_client.get("/healthz", headers={"x-filler": "y" * 20_000})
    assert response.status_code == 431
    assert goals_client.get("/healthz", headers={"x-filler": "y" * 4_000}).status_code == 200


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def served(api_settings: Settings, goals_db: str) -> Iterator[str]:
    """The app under a real uvicorn server with ``pulse serve``'s options, on a free port."""
    port = _free_port()
    config = uvicorn.Config(
        create_app(api_settings, goals_db),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        **server_options(api_settings),
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def _raw(address: str, payload: Iterator[bytes]) -> bytes:
    """Send ``payload`` over a socket (stopping early if the server closes it) and return the answer."""
    host, port = address.split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        try:
            for piece in payload:
                sock.sendall(piece)
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
        return answer


def test_the_server_refuses_a_50_mb_header_with_431_while_it_arrives(served: str) -> None:
    def request() -> Iterator[bytes]:
        yield b"GET /healthz HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
        for _ in range(50 * 16):
            yield b"a" * 65536
        yield b"\r\n\r\n"

    began = time.perf_counter()
    answer = _raw(served, request())
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:100]
    assert time.perf_counter() - began < 2
    assert httpx.get(f"http://{served}/healthz").status_code == 200


def test_the_server_refuses_a_chunked_body_over_the_limit_with_413(served: str) -> None:
    def request() -> Iterator[bytes]:
        yield b"POST /api/v1/goals HTTP/1.1\r\nHost: x\r\n"
        yield b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        for _ in range(5 * 16):
            yield b"10000\r\n" + b" " * 65536 + b"\r\n"
        yield b"0\r\n\r\n"

    answer = _raw(served, request())
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:100]


def test_the_server_refuses_a_declared_5_mb_body_without_reading_it(served: str) -> None:
    def request() -> Iterator[bytes]:
        yield b"POST /api/v1/goals HTTP/1.1\r\nHost: x\r\n"
        yield b"Content-Type: application/json\r\nContent-Length: 5242880\r\n\r\n"

    answer = _raw(served, request())
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:100]
