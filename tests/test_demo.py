"""``pulse demo`` by script: it comes up, its curl line answers, Ctrl-C/SIGTERM leave nothing, a restart reuses data.

The demo runs as a real process on a private embedded PostgreSQL (``PULSE_DATA_DIR``
in a folder of its own inside the checkout, so its Dagster instance and logs are
private too) and on free ports; the server is stopped and the folder removed at
the end.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil
import pytest

from pulse import REPO_ROOT
from pulse.seed import DEMO_USER_ID

READY_LINE = "press Ctrl-C to stop it"
START_TIMEOUT = 300.0
STOP_TIMEOUT = 60.0


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class DemoRun:
    """A running ``pulse demo``: its process, its output so far and every descendant seen."""

    process: subprocess.Popen[str]
    api_port: int
    dagster_port: int
    started: float = field(default_factory=time.perf_counter)
    lines: list[str] = field(default_factory=list)
    seen: dict[int, float] = field(default_factory=dict)  # pid -> create_time

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def read(self) -> None:
        """Collect the output (run in a thread, so the pipe never fills)."""
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def note_descendants(self) -> None:
        """Remember every process below the demo (the embedded PostgreSQL is not one: it daemonizes)."""
        try:
            for child in psutil.Process(self.process.pid).children(recursive=True):
                try:
                    if child.name() != "postgres":  # the embedded server: shared, it keeps running by design
                        self.seen[child.pid] = child.create_time()
                except psutil.NoSuchProcess:
                    continue
        except psutil.NoSuchProcess:
            return

    def wait_ready(self) -> float:
        """Seconds until the demo printed that it is up; fails with its output when it exits or times out."""
        deadline = time.monotonic() + START_TIMEOUT
        while not any(READY_LINE in line for line in self.lines):
            self.note_descendants()
            assert self.process.poll() is None, f"pulse demo exited {self.process.returncode}:\n{self.output}"
            assert time.monotonic() < deadline, f"pulse demo not up within {START_TIMEOUT} s:\n{self.output}"
            time.sleep(0.2)
        elapsed = time.perf_counter() - self.started
        self.note_descendants()
        return elapsed

    def stop(self, sig: signal.Signals, *more: signal.Signals, gap: float = 0.0) -> int:
        """Send ``sig`` (and then each of ``more``, ``gap`` seconds apart) and wait for the demo to exit; its code."""
        self.note_descendants()
        self.process.send_signal(sig)
        for extra in more:
            time.sleep(gap)
            if self.process.poll() is None:
                self.process.send_signal(extra)
        return self.process.wait(timeout=STOP_TIMEOUT)


def leftovers(run: DemoRun, data_dir: Path, grace: float = 10.0) -> list[str]:
    """What is still running after ``grace`` seconds (a multiprocessing helper may need a moment to see EOF)."""
    deadline = time.monotonic() + grace
    while (found := running_now(run, data_dir)) and time.monotonic() < deadline:
        time.sleep(0.5)
    return found


def running_now(run: DemoRun, data_dir: Path) -> list[str]:
    """Processes the demo started that still run, and any dagster/uvicorn/pulse process of its folder or ports."""
    alive = []
    for pid, created in run.seen.items():
        try:
            process = psutil.Process(pid)
            if process.create_time() == created and process.status() != psutil.STATUS_ZOMBIE:
                alive.append(f"{pid} {' '.join(process.cmdline())[:160]}")
        except psutil.NoSuchProcess:
            continue
    marks = (str(data_dir), f"-p {run.dagster_port}", f"--port {run.api_port}")
    for process in psutil.process_iter(attrs=("pid", "cmdline", "environ")):
        words = process.info["cmdline"] or []
        command = " ".join(words)
        programs = " ".join(Path(word).name for word in words[:3])  # e.g. "python -m dagster_webserver"
        if not any(name in programs for name in ("dagster", "uvicorn", "pulse")):
            continue
        environ = process.info["environ"] or {}
        if any(mark in command for mark in marks) or environ.get("PULSE_DATA_DIR") == str(data_dir):
            alive.append(f"{process.info['pid']} {command[:160]}")
    return sorted(set(alive))


@pytest.fixture(scope="module")
def demo_env() -> Iterator[dict[str, str]]:
    """The environment of a demo on a private embedded server inside the checkout; removed afterwards."""
    data_dir = REPO_ROOT / ".pulse" / f"test-demo-{uuid.uuid4().hex[:8]}"
    drop = ("DATABASE_URL", "PULSE_DATABASE_URL", "DAGSTER_HOME", "PULSE_API_PORT", "PULSE_DAGSTER_PORT")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env["PULSE_DATA_DIR"] = str(data_dir)
    yield env
    subprocess.run(
        [sys.executable, "-m", "pulse.cli", "db", "stop"], env=env, capture_output=True, timeout=60, check=False
    )
    shutil.rmtree(data_dir, ignore_errors=True)


def start_demo(env: dict[str, str], *extra: str) -> DemoRun:
    """Start ``pulse demo`` on free ports, its output collected."""
    api_port, dagster_port = free_port(), free_port()
    command = [sys.executable, "-m", "pulse.cli", "demo", "--api-port", str(api_port)]
    command += ["--dagster-port", str(dagster_port), *extra]
    process = subprocess.Popen(
        command, env=env, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
    )
    run = DemoRun(process, api_port, dagster_port)
    threading.Thread(target=run.read, daemon=True).start()
    return run


def curl_request(output: str) -> tuple[str, dict[str, str]]:
    """The URL and headers of the curl line the demo printed."""
    (line,) = [line for line in output.splitlines() if line.startswith("curl ")]
    words = shlex.split(line)
    headers = dict(words[i + 1].split(": ", 1) for i, word in enumerate(words) if word == "-H")
    return words[-1], headers


JOB_PAGE_RUNS = """
{ runsOrError(filter: {pipelineName: "warehouse_job",
                       tags: [{key: ".dagster/repository", value: "__repository__@orchestration.definitions"}]}) {
    ... on Runs { results { status repositoryOrigin { repositoryLocationName } } } } }
"""


def test_demo_comes_up_answers_and_leaves_nothing_running(demo_env: dict[str, str]) -> None:
    data_dir = Path(demo_env["PULSE_DATA_DIR"])
    first = start_demo(demo_env, "--users", "15", "--days", "10")
    try:
        first_seconds = first.wait_ready()
        out = first.output
        assert "seeding 15 users x 10 days" in out
        assert "building the marts through Dagster" in out and "succeeded" in out
        assert f"http://127.0.0.1:{first.dagster_port}" in out
        assert f"http://127.0.0.1:{first.api_port}/docs" in out
        assert "keeps running after the demo" in out
        # The front end comes first among the addresses, signed in as the demo user by the URL fragment.
        lines = out.splitlines()
        (app_line,) = [line for line in lines if line.startswith("Pulse app:")]
        assert lines.index(app_line) < min(i for i, line in enumerate(lines) if line.startswith(("Dagster UI:", "API")))
        app_url = app_line.split()[-1]
        assert app_url.startswith(f"http://127.0.0.1:{first.api_port}/#token=")
        page = httpx.get(app_url, timeout=30)
        assert page.status_code == 200 and '<div id="root">' in page.text, page.text[:200]
        assert httpx.get(f"http://127.0.0.1:{first.api_port}/goals", timeout=30).text == page.text

        url, headers = curl_request(out)
        assert url.startswith(f"http://127.0.0.1:{first.api_port}/api/v1/analytics/quick-stats")
        response = httpx.get(url, headers=headers, timeout=30)
        assert response.status_code == 200, response.text
        stats = response.json()
        assert stats["total_scheduled_minutes"] > 0, stats
        assert httpx.get(url, timeout=30).status_code == 401, "the token is what lets the curl line in"
        dagster = httpx.get(f"http://127.0.0.1:{first.dagster_port}/server_info", timeout=30)
        assert dagster.status_code == 200
        # The first build is a Dagster run the UI lists.
        runs = httpx.post(
            f"http://127.0.0.1:{first.dagster_port}/graphql",
            json={"query": "{ runsOrError { ... on Runs { results { jobName status } } } }"},
            timeout=30,
        ).json()["data"]["runsOrError"]["results"]
        assert {"jobName": "warehouse_job", "status": "SUCCESS"} in runs
        # ... on the job's own page (its Runs tab filters on this tag) and the timeline (it needs the origin).
        job_page = httpx.post(
            f"http://127.0.0.1:{first.dagster_port}/graphql",
            json={"query": JOB_PAGE_RUNS},
            timeout=30,
        ).json()["data"]["runsOrError"]["results"]
        assert [(r["status"], r["repositoryOrigin"]["repositoryLocationName"]) for r in job_page] == [
            ("SUCCESS", "orchestration.definitions")
        ], job_page
        # One line per step and a summary, no colour codes in the output or in the children's log files.
        steps = [line for line in lines if line.startswith("  step ")]
        assert 1 <= len(steps) <= 3 and all(" succeeded in " in line for line in steps), steps
        assert not any("check passed:" in line for line in lines)
        assert "\x1b" not in out
        logs = sorted((data_dir / "demo").glob("*.log"))
        assert [log.name for log in logs] == ["api.log", "dagster.log"]
        assert not [log.name for log in logs if "\x1b" in log.read_text(errors="replace")]
        assert len(first.seen) >= 2, "the webserver/daemon and the API run as children"
    finally:
        code = first.stop(signal.SIGINT) if first.process.poll() is None else first.process.returncode
    assert code == 0, first.output
    assert "stopped the Dagster webserver and daemon and the API" in first.output
    assert leftovers(first, data_dir) == []

    second = start_demo(demo_env, "--users", "15", "--days", "10")
    try:
        second_seconds = second.wait_ready()
        out = second.output
        assert "reusing the data" in out and "no seeding" in out
        assert "seeding 15" not in out and "building the marts through Dagster" not in out
        assert "what 'pulse refresh' does" in out
        url, headers = curl_request(out)
        assert (
            httpx.get(url, headers=headers, timeout=30).json()["total_scheduled_minutes"]
            == stats["total_scheduled_minutes"]
        )
    finally:
        code = second.stop(signal.SIGTERM) if second.process.poll() is None else second.process.returncode
    assert code == 0, second.output
    assert leftovers(second, data_dir) == []
    print(f"\npulse demo: first start {first_seconds:.1f} s, second start {second_seconds:.1f} s")
    assert second_seconds < first_seconds


def port_is_free(port: int) -> bool:
    """Whether a server could listen on ``port`` now (as the demo's children bind it)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@pytest.mark.parametrize(
    ("signals", "gap"),
    [
        ((signal.SIGTERM, signal.SIGTERM), 0.0),  # two in quick succession
        ((signal.SIGINT, signal.SIGTERM), 0.3),  # the second while the first is stopping the children
        ((signal.SIGINT, signal.SIGINT, signal.SIGTERM, signal.SIGTERM, signal.SIGINT), 0.05),
    ],
    ids=["SIGTERM-SIGTERM", "SIGINT-then-SIGTERM", "five-mixed"],
)
def test_any_mix_of_signals_stops_everything_and_frees_the_ports(
    demo_env: dict[str, str], signals: tuple[signal.Signals, ...], gap: float
) -> None:
    data_dir = Path(demo_env["PULSE_DATA_DIR"])
    run = start_demo(demo_env, "--users", "15", "--days", "10")
    try:
        run.wait_ready()
    finally:
        code = run.stop(*signals, gap=gap) if run.process.poll() is None else run.process.returncode
    assert code == 0, run.output
    assert "stopped the Dagster webserver and daemon and the API" in run.output
    assert "Traceback" not in run.output, run.output
    assert leftovers(run, data_dir) == []
    assert port_is_free(run.api_port) and port_is_free(run.dagster_port)


def test_make_demo_takes_its_ports_from_variables(demo_env: dict[str, str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            ["make", "--no-print-directory", "-s", "demo", f"API_PORT={free_port()}", f"DAGSTER_PORT={port}"],
            env=demo_env,
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert done.returncode != 0
    first = done.stderr.strip().splitlines()[0]
    option = "--dagster-port"
    assert first == f"pulse: error: {option} {port}: port already in use on 127.0.0.1 (pass another {option})"


def test_a_port_in_use_is_one_line_naming_the_option(demo_env: dict[str, str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "pulse.cli", "demo", "--api-port", str(port), "--dagster-port", str(free_port())],
            env=demo_env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 1
    assert (
        done.stderr.strip()
        == f"pulse: error: --api-port {port}: port already in use on 127.0.0.1 (pass another --api-port)"
    )


def test_demo_user_token_matches_the_seed() -> None:
    from pulse.demo import curl_line

    words = shlex.split(curl_line("http://127.0.0.1:8000", "abc.def.ghi"))
    assert words[:3] == ["curl", "-s", "-H"] and words[3] == "Authorization: Bearer abc.def.ghi"
    assert words[-1].endswith("/api/v1/analytics/quick-stats?date_range=30d")
    assert uuid.UUID(DEMO_USER_ID)


def test_the_app_is_the_first_address_printed_signed_in_by_the_fragment(tmp_path: Path) -> None:
    from pulse.demo import DemoOptions, _print_where_to_look

    options = DemoOptions(users=1, days=1, seed=1, host="127.0.0.1", api_port=8123, dagster_port=3123)
    for token, app in (("abc.def.ghi", "http://127.0.0.1:8123/#token=abc.def.ghi"), (None, "http://127.0.0.1:8123/")):
        printed: list[str] = []
        _print_where_to_look(
            options, "http://127.0.0.1:3123", "http://127.0.0.1:8123", token, tmp_path, False, printed.append
        )
        addresses = [line for line in printed if "http://" in line]
        assert addresses[0] == f"Pulse app:    {app}", printed
        assert any(line.startswith("Dagster UI:") for line in addresses[1:])


def test_the_front_end_is_rebuilt_when_a_source_is_newer(tmp_path: Path) -> None:
    from pulse.web import is_stale

    (tmp_path / "src").mkdir()
    source = tmp_path / "src" / "main.tsx"
    source.write_text("x")
    assert is_stale(tmp_path)
    (tmp_path / "dist").mkdir()
    index = tmp_path / "dist" / "index.html"
    index.write_text("<html>")
    os.utime(source, (1_000, 1_000))
    assert not is_stale(tmp_path)
    os.utime(source, None)
    os.utime(index, (1_000, 1_000))
    assert is_stale(tmp_path)


def test_the_demo_starts_the_partitions_at_its_data(pulse_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import date, timedelta

    from orchestration.partitions import first_partition_date
    from pulse.demo import BUILD_MARGIN_DAYS, data_dates, start_partitions_at_the_data
    from pulse.seed import SeedPlan, seed_database
    from pulse.settings import get_settings

    start = date(2026, 9, 1)
    seed_database(pulse_db, SeedPlan(users=2, days=5, start=start, seed=3), workers=1)
    monkeypatch.delenv("PULSE_PARTITIONS_START", raising=False)
    try:
        start_partitions_at_the_data(pulse_db)
        first = date.fromisoformat(os.environ["PULSE_PARTITIONS_START"])
        dates = data_dates(pulse_db)
        assert dates is not None and dates[0] <= start
        assert first == dates[0] - timedelta(days=BUILD_MARGIN_DAYS)
        assert first_partition_date() == first
        # An operator's own setting wins.
        monkeypatch.setenv("PULSE_PARTITIONS_START", "2024-01-01")
        start_partitions_at_the_data(pulse_db)
        assert os.environ["PULSE_PARTITIONS_START"] == "2024-01-01"
    finally:
        monkeypatch.delenv("PULSE_PARTITIONS_START", raising=False)
        get_settings.cache_clear()
