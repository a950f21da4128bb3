"""``pulse token`` and ``pulse serve`` as a user runs them: real processes, the real database."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request

from fastapi.testclient import TestClient

from tests.api import dataset
from tests.api.conftest import TEST_SECRET

PULSE = [sys.executable, "-m", "pulse.cli"]


def pulse_env(url: str) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": url, "PULSE_ENV": "test", "PULSE_JWT_SECRET": TEST_SECRET}


def test_pulse_token_prints_a_token_the_api_accepts(goals_db: str, goals_client: TestClient) -> None:
    for who in ("ny@example.com", "NY@example.com", str(dataset.NY)):
        done = subprocess.run([*PULSE, "token", "--user", who], env=pulse_env(goals_db), capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        token = done.stdout.strip().splitlines()[-1]
        response = goals_client.get("/api/v1/goals", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200
        assert {goal["name"] for goal in response.json()} >= set(dataset.NY_GOALS)


def test_pulse_token_refuses_an_unknown_user_in_one_line(goals_db: str) -> None:
    for who in ("nobody@example.com", "00000000-0000-4000-8000-00000000ffff"):
        done = subprocess.run([*PULSE, "token", "--user", who], env=pulse_env(goals_db), capture_output=True, text=True)
        assert done.returncode == 1
        assert done.stderr.count("\n") == 1 and done.stderr.startswith("pulse: error: no user")


def test_pulse_token_refuses_the_placeholder_secret_outside_development(goals_db: str) -> None:
    env = {**pulse_env(goals_db), "PULSE_ENV": "production"}
    env.pop("PULSE_JWT_SECRET")
    done = subprocess.run([*PULSE, "token", "--user", "ny@example.com"], env=env, capture_output=True, text=True)
    assert done.returncode == 1
    assert done.stderr.startswith("pulse: error:") and "PULSE_JWT_SECRET" in done.stderr


def test_pulse_serve_answers_the_probes(goals_db: str) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [*PULSE, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=pulse_env(goals_db),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
                    assert response.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline, "pulse serve did not answer within 30 s"
                time.sleep(0.2)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
            assert response.status == 200
    finally:
        server.terminate()
        server.wait(timeout=30)
