"""docker-compose.yml and the Dockerfile checked against the real entry points and settings; its commands run here.

Docker cannot run here, so this checks what Docker would run: every service
command parses with the real CLI (``pulse``'s argparse parser, the click
commands of ``dagster-webserver`` and ``dagster-daemon``), the code location
imports and holds Definitions, every setting without a safe production default
and every variable dagster.yaml reads is given to the services that need it,
every ``${VAR}`` is in .env.example, and the image copies every folder the entry
points import and builds the dbt manifest. Then it runs the same commands
(``pulse db init``, ``pulse serve``, ``dagster-webserver``) against a fresh
database with the production settings, probes them and stops each by its PID.
"""

from __future__ import annotations

import importlib
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import httpx
import psutil
import psycopg
import pytest
import yaml
from dagster import Definitions

from pulse import REPO_ROOT
from pulse.cli import build_parser
from pulse.settings import JWT_SECRET_PLACEHOLDER, Settings

COMPOSE = REPO_ROOT / "docker-compose.yml"
DOCKERFILE = REPO_ROOT / "Dockerfile"
ENV_EXAMPLE = REPO_ROOT / ".env.example"
VENV_BIN = Path(sys.executable).parent
VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")
PULSE_IMAGE_SERVICES = ("init", "dagster-webserver", "dagster-daemon", "api")
DAGSTER_SERVICES = ("dagster-webserver", "dagster-daemon")
START_TIMEOUT = 120.0


def compose() -> dict[str, Any]:
    """The compose file with its anchors and merge keys resolved (PyYAML does both)."""
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def env_example() -> dict[str, str]:
    """The variables .env.example sets."""
    pairs = (line.split("=", 1) for line in ENV_EXAMPLE.read_text().splitlines() if "=" in line and line[0] != "#")
    return {key.strip(): value.strip() for key, value in pairs}


def interpolate(text: str, values: dict[str, str]) -> str:
    """``${VAR}``, ``${VAR:-default}`` and ``${VAR:?message}`` as docker compose resolves them."""

    def one(match: re.Match[str]) -> str:
        name, operator, argument = match.group(1), match.group(2), match.group(3)
        value = values.get(name, "")
        if operator == ":-" and not value:
            return argument
        if operator == ":?" and not value:
            raise AssertionError(f"compose would stop: {argument}")
        return value

    return VARIABLE.sub(one, text)


def service_env(name: str, values: dict[str, str]) -> dict[str, str]:
    """The environment compose gives service ``name``, with .env values filled in."""
    environment = compose()["services"][name].get("environment") or {}
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    return {key: interpolate(str(value), values) for key, value in environment.items()}


def settings_variables() -> dict[str, str]:
    """Every environment variable the Settings class reads, mapped to its field."""
    prefix = Settings.model_config.get("env_prefix", "")
    names: dict[str, str] = {}
    for field_name, info in Settings.model_fields.items():
        alias = info.validation_alias
        choices = getattr(alias, "choices", None)
        for choice in choices or [f"{prefix}{field_name}".upper()]:
            names[str(choice).upper()] = field_name
    return names


def dagster_yaml_variables() -> set[str]:
    """The environment variables dagster.yaml reads (``env: NAME`` entries)."""

    def walk(node: Any) -> Iterator[str]:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "env" and isinstance(value, str):
                    yield value
                else:
                    yield from walk(value)
        elif isinstance(node, list):
            for item in node:
                yield from walk(item)

    return set(walk(yaml.safe_load((REPO_ROOT / "dagster.yaml").read_text())))


def option_value(command: list[str], *options: str) -> str | None:
    """The value after the first of ``options`` in ``command``."""
    for index, word in enumerate(command[:-1]):
        if word in options:
            return command[index + 1]
    return None


# --- the compose file against the entry points and settings -------------------------------------------


def test_every_pulse_command_parses_with_the_cli() -> None:
    services = compose()["services"]
    pulse_commands = {name: s["command"] for name, s in services.items() if (s.get("command") or [""])[0] == "pulse"}
    assert set(pulse_commands) >= {"init", "api"}
    for name, command in pulse_commands.items():
        try:
            args = build_parser().parse_args(command[1:])
        except SystemExit as exc:
            raise AssertionError(f"service {name}: {command} does not parse with pulse's CLI") from exc
        assert callable(args.handler), name
    # The image's default command is the API's.
    cmd = next(line for line in DOCKERFILE.read_text().splitlines() if line.startswith("CMD "))
    assert yaml.safe_load(cmd.removeprefix("CMD ")) == services["api"]["command"]


def test_dagster_commands_exist_and_load_the_definitions() -> None:
    from dagster._daemon.cli import cli as daemon_cli
    from dagster_webserver.cli import cli as webserver_cli

    services = compose()["services"]
    parsers: dict[str, click.Command] = {"dagster-webserver": webserver_cli, "dagster-daemon": daemon_cli}
    for name in DAGSTER_SERVICES:
        command = services[name]["command"]
        executable = command[0]
        assert (VENV_BIN / executable).is_file(), f"{executable} is not installed"
        parser = parsers[executable]
        if isinstance(parser, click.Group):  # dagster-daemon run ...
            subcommand = parser.get_command(click.Context(parser), command[1])
            assert subcommand is not None, f"service {name}: no subcommand {command[1]!r}"
            subcommand.make_context(command[1], list(command[2:]))
        else:
            parser.make_context(executable, list(command[1:]))
        module = option_value(command, "-m", "--module-name")
        assert module, f"service {name} names no code location module"
        loaded = importlib.import_module(module)
        assert any(isinstance(value, Definitions) for value in vars(loaded).values()), f"{module} holds no Definitions"


def test_services_get_every_setting_without_a_safe_production_default() -> None:
    values = env_example()
    read = settings_variables()
    dagster_reads = dagster_yaml_variables()
    assert "DAGSTER_POSTGRES_URL" in dagster_reads
    for name in PULSE_IMAGE_SERVICES:
        env = service_env(name, values)
        # Every variable given is one Pulse or Dagster reads (a typo would be silently ignored).
        unknown = set(env) - set(read) - dagster_reads - {"DAGSTER_HOME"}
        assert not unknown, f"service {name} sets variables nothing reads: {sorted(unknown)}"
        # Required in production: a real database (unset means an embedded server inside the container),
        # the production environment, a real JWT secret.
        assert env.get("DATABASE_URL", "").startswith("postgresql://"), name
        assert env.get("PULSE_ENV") == "production", name
        settings = Settings(_env_file=None, **{read[key]: value for key, value in env.items() if key in read})
        assert settings.database_url and settings.env == "production"
        assert settings.jwt_secret != JWT_SECRET_PLACEHOLDER
    init = service_env("init", values)
    assert init.get("PULSE_ANALYST_PASSWORD"), "pulse db init sets the analyst role's password"
    for name in DAGSTER_SERVICES:
        env = service_env(name, values)
        assert env.get("DAGSTER_HOME"), name
        for variable in dagster_reads:
            assert env.get(variable), f"service {name} lacks {variable}, which dagster.yaml reads"
        assert env["DAGSTER_POSTGRES_URL"].startswith("postgresql+psycopg2://"), "SQLAlchemy 2 needs +psycopg2"
    # The Dagster home in compose is the one the image fills with dagster.yaml.
    dockerfile = DOCKERFILE.read_text()
    home = service_env("dagster-webserver", values)["DAGSTER_HOME"]
    assert f"DAGSTER_HOME={home}" in dockerfile and 'cp dagster.yaml "$DAGSTER_HOME/dagster.yaml"' in dockerfile
    # PostgreSQL 16+ for the bundled server.
    image = compose()["services"]["postgres"]["image"]
    assert int(image.split(":")[1].split(".")[0].split("-")[0]) >= 16


def test_every_compose_variable_is_in_env_example() -> None:
    used = {match.group(1) for match in VARIABLE.finditer(COMPOSE.read_text())}
    missing = used - set(env_example())
    assert not missing, f".env.example lacks {sorted(missing)}"
    required = {m.group(1) for m in VARIABLE.finditer(COMPOSE.read_text()) if m.group(2) == ":?"}
    assert {"PULSE_JWT_SECRET", "POSTGRES_PASSWORD"} <= required


def test_the_image_copies_what_the_entry_points_import_and_builds_the_manifest() -> None:
    # The repository folders and files the entry points load, found by importing them in a fresh interpreter.
    probe = (
        "import sys, api.main, orchestration.definitions, pulse.cli, pulse.demo;"
        f"root = {str(REPO_ROOT)!r};"
        "print('\\n'.join(sorted({m.__file__[len(root) + 1:].split('/')[0] for m in list(sys.modules.values())"
        " if getattr(m, '__file__', None) and m.__file__.startswith(root + '/')"
        " and '/.venv/' not in m.__file__})))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO_ROOT, check=True)
    imported = set(done.stdout.split())
    assert {"pulse", "api", "orchestration"} <= imported, imported
    dockerfile = DOCKERFILE.read_text()
    copied = {line.split()[1] for line in dockerfile.splitlines() if line.startswith("COPY ")}
    # What the code reads from the checkout at run time: the dbt project and the Dagster instance file.
    assert imported | {"dbt_project", "dagster.yaml", "pyproject.toml"} <= copied, copied
    ignored = {line.strip() for line in (REPO_ROOT / ".dockerignore").read_text().splitlines() if line.strip()}
    assert not ignored & (imported | {"dbt_project", "dagster.yaml"}), ignored
    assert re.search(r"^RUN .*dbt parse", dockerfile, re.MULTILINE), "the manifest is built at image build"
    assert dockerfile.index("COPY dbt_project") < dockerfile.index("dbt parse")
    # The front end is built in a Node stage from the committed lock file; the API's image holds only web/dist,
    # where the settings' default looks for it.
    assert re.search(r"^FROM node:20\S* AS web$", dockerfile, re.MULTILINE)
    assert "RUN npm ci" in dockerfile and "RUN npm run build" in dockerfile
    assert "COPY --from=web /web/dist ./web/dist" in dockerfile
    assert Settings(_env_file=None).web_dist_dir == REPO_ROOT / "web" / "dist"


# --- the same commands outside Docker -----------------------------------------------------------------


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def sqlalchemy_url(url: str) -> str:
    """A libpq URL of the test database as the ``postgresql+psycopg2://`` URL dagster.yaml expects."""
    from sqlalchemy.engine import URL

    params = psycopg.conninfo.conninfo_to_dict(url)
    host, port = str(params.get("host") or "localhost"), params.get("port")
    on_socket = host.startswith("/")  # the embedded server listens on a Unix socket folder
    query = {"host": host, **({"port": str(port)} if port else {})} if on_socket else {}
    return URL.create(
        "postgresql+psycopg2",
        username=str(params.get("user") or os.environ.get("USER", "postgres")),
        password=str(params["password"]) if params.get("password") else None,
        host=None if on_socket else host,
        port=None if on_socket or not port else int(port),
        database=str(params["dbname"]),
        query=query,
    ).render_as_string(hide_password=False)


def with_port(command: list[str], port_options: tuple[str, ...], port: int, host_options: tuple[str, ...]) -> list[str]:
    """The compose command with its port (a free one here) and host (loopback here) replaced."""
    replaced = list(command)
    for index, word in enumerate(replaced[:-1]):
        if word in port_options:
            replaced[index + 1] = str(port)
        elif word in host_options:
            replaced[index + 1] = "127.0.0.1"
    return replaced


def wait_for(process: subprocess.Popen[bytes], url: str, log: Path) -> httpx.Response:
    """The first 200 answer of ``url`` while ``process`` runs; fails with its log otherwise."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        assert process.poll() is None, f"{process.args} exited {process.returncode}: {log.read_text()[-2000:]}"
        try:
            response = httpx.get(url, timeout=5)
            if response.status_code == 200:
                return response
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"{url} did not answer within {START_TIMEOUT} s: {log.read_text()[-2000:]}")


def group_members(pgid: int) -> list[psutil.Process]:
    """The live (non-zombie) processes of process group ``pgid``."""
    members = []
    for process in psutil.process_iter():
        try:
            if os.getpgid(process.pid) == pgid and process.status() != psutil.STATUS_ZOMBIE:
                members.append(process)
        except (ProcessLookupError, psutil.NoSuchProcess):
            continue
    return members


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop the process group started for ``process`` by its PID (SIGTERM, then SIGKILL) and wait until it is empty."""
    for sig, wait in ((signal.SIGTERM, 20.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if process.poll() is not None and not group_members(process.pid):
                return
            time.sleep(0.2)


@pytest.fixture(scope="module")
def production_env(empty_db: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The services' environment outside Docker: production settings on a fresh database, the repo's dagster.yaml."""
    home = tmp_path_factory.mktemp("dagster_home")
    shutil.copy(REPO_ROOT / "dagster.yaml", home / "dagster.yaml")
    values = {**env_example(), "PULSE_JWT_SECRET": secrets.token_hex(32), "PULSE_ANALYST_PASSWORD": "analyst-pw"}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PULSE_", "DAGSTER_")) and k != "DATABASE_URL"}
    env.update(service_env("api", values))
    env.update(
        DATABASE_URL=empty_db,  # the compose host "postgres" is this machine's test database here
        DAGSTER_POSTGRES_URL=sqlalchemy_url(empty_db),
        DAGSTER_HOME=str(home),
    )
    return env


def test_compose_commands_run_outside_docker(production_env: dict[str, str], tmp_path: Path) -> None:
    services = compose()["services"]
    init = subprocess.run(
        [str(VENV_BIN / services["init"]["command"][0]), *services["init"]["command"][1:]],
        env=production_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert init.returncode == 0, init.stderr
    with psycopg.connect(production_env["DATABASE_URL"]) as conn:
        assert conn.execute("select to_regclass('app.tasks') is not null").fetchone() == (True,)

    started: list[subprocess.Popen[bytes]] = []
    try:
        api_port, dagster_port = free_port(), free_port()
        api_command = with_port(services["api"]["command"], ("--port",), api_port, ("--host",))
        webserver_command = with_port(services["dagster-webserver"]["command"], ("-p", "--port"), dagster_port, ("-h",))
        logs = {"api": tmp_path / "api.log", "webserver": tmp_path / "webserver.log"}
        for command, log in ((api_command, logs["api"]), (webserver_command, logs["webserver"])):
            with log.open("wb") as out:
                started.append(
                    subprocess.Popen(
                        [str(VENV_BIN / command[0]), *command[1:]],
                        env=production_env,
                        cwd=REPO_ROOT,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )
        api, webserver = started
        assert wait_for(api, f"http://127.0.0.1:{api_port}/readyz", logs["api"]).json()["status"] == "ok"
        info = wait_for(webserver, f"http://127.0.0.1:{dagster_port}/server_info", logs["webserver"]).json()
        assert "dagster_webserver_version" in info or "dagit_version" in info, info
        # The webserver's storage is the test database, as dagster.yaml says for production.
        with psycopg.connect(production_env["DATABASE_URL"]) as conn:
            assert conn.execute("select to_regclass('public.runs') is not null").fetchone() == (True,)
        # The production settings refuse an unsigned request.
        assert httpx.get(f"http://127.0.0.1:{api_port}/api/v1/analytics/quick-stats", timeout=10).status_code == 401
        # Only features listed in PULSE_FEATURES are served (.env.example lists none): goals answer 404.
        assert httpx.get(f"http://127.0.0.1:{api_port}/api/v1/goals", timeout=10).status_code == 404
    finally:
        for process in started:
            stop(process)
    for process in started:
        assert process.poll() is not None
        assert group_members(process.pid) == [], "everything the command started has stopped"
