# Pulse's two entry points: `make demo` (install, then run the demo on the
# embedded database) and `make test` (install, then every test and linter).
# Each creates the virtual environment .venv on first use.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml uv.lock | cksum | cut -d' ' -f1)

.PHONY: demo test lint bench install web-build web-test chromium screenshots

# The front end (web/): packages from the committed package-lock.json, reinstalled when it changes.
WEB_STAMP := web/node_modules/.package-lock.json

install: $(STAMP)

$(STAMP): pyproject.toml uv.lock
	@command -v $(PYTHON) >/dev/null || { echo "make: $(PYTHON) not found; install Python 3.11 or pass PYTHON=/path/to/python3.11" >&2; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv
	@# --compile-bytecode: uv writes no .pyc by default (pip does), and where PYTHONDONTWRITEBYTECODE is set
	@# nothing ever writes them, so every dbt and Dagster process compiled its imports again: 4.1 s to
	@# import dbt instead of 2.4 s, in every one of a build's dbt invocations
	@# The exact versions of uv.lock (`uv lock` writes it from pyproject.toml); --locked refuses a lock that no
	@# longer matches pyproject.toml instead of resolving anew (--inexact: pip and uv themselves stay).
	UV_PROJECT_ENVIRONMENT=$(VENV) $(BIN)/uv sync --quiet --locked --inexact --extra dev --compile-bytecode --python $(BIN)/python
	@rm -f $(VENV)/.installed-*
	@touch $@

$(WEB_STAMP): web/package-lock.json
	@command -v npm >/dev/null || { echo "make: npm not found; install Node.js 20 and npm to build the front end" >&2; exit 1; }
	cd web && npm ci --no-audit --no-fund
	@touch $@

web-build: $(WEB_STAMP)
	cd web && npm run build

# ESLint, tsc, Vitest, and the check that the generated API types match the app's OpenAPI schema.
web-test: $(WEB_STAMP) $(STAMP)
	cd web && npm run -s lint && npm run -s typecheck && npm run -s test && npm run -s check:api

# The e2e tests drive Debian's chromium (never a downloaded browser).
chromium:
	@test -x /usr/bin/chromium || { apt-get update && apt-get install -y chromium; } \
		|| { echo "make: no /usr/bin/chromium and 'apt-get install chromium' failed (run it as root)" >&2; exit 1; }

# Ports of the demo's API and Dagster UI: `make demo API_PORT=8001 DAGSTER_PORT=3001` (unset: PULSE_API_PORT and
# PULSE_DAGSTER_PORT, else 8000 and 3000). A port in use stops the demo with one line naming the option.
API_PORT ?=
DAGSTER_PORT ?=

demo: $(STAMP) web-build
	$(BIN)/pulse demo $(if $(API_PORT),--api-port $(API_PORT)) $(if $(DAGSTER_PORT),--dagster-port $(DAGSTER_PORT))

# docs/images/dagster-*.png from the running demo's Dagster UI (`make screenshots DAGSTER_PORT=3001`).
screenshots: $(STAMP) chromium
	$(BIN)/python -m pulse.dagster_screenshots $(if $(DAGSTER_PORT),--url http://127.0.0.1:$(DAGSTER_PORT))

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	cd dbt_project && ../$(BIN)/dbt parse --quiet --profiles-dir .
	# sqlfluff's dbt templater connects to the database (PULSE_DB_*, from pulse.dbt).
	eval "$$($(BIN)/python -m pulse.dbt)" && $(BIN)/sqlfluff lint dbt_project/models --processes 2

test: lint web-build web-test chromium
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run_all
