# One image for every production service of Pulse (see docker-compose.yml):
# `pulse db init`, the Dagster webserver and daemon, and the API (which serves the front end at /).

# The front end, built in a Node stage; only web/dist goes into the image.
FROM node:20-slim AS web
WORKDIR /web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web ./
RUN npm run build

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DAGSTER_HOME=/opt/dagster/home \
    PULSE_ENV=production

WORKDIR /app

# Dependencies first, so code changes do not reinstall them: exactly the versions of uv.lock (no dev extras);
# --locked fails the build when the lock no longer matches pyproject.toml.
COPY pyproject.toml uv.lock README.md ./
RUN pip install --upgrade pip uv \
    && uv export --locked --no-dev --no-emit-project --no-hashes --format requirements-txt -o /tmp/requirements.txt \
    && uv pip install --system --compile-bytecode -r /tmp/requirements.txt && rm /tmp/requirements.txt

COPY pulse ./pulse
COPY api ./api
COPY orchestration ./orchestration
COPY dbt_project ./dbt_project
COPY dagster.yaml ./dagster.yaml
COPY --from=web /web/dist ./web/dist
RUN uv pip install --system --no-deps -e .

# The dbt manifest is built here, once; dagster-dbt reads it when the definitions load.
RUN cd dbt_project && dbt parse --profiles-dir . --quiet

RUN useradd --create-home --uid 10001 pulse \
    && mkdir -p "$DAGSTER_HOME" && cp dagster.yaml "$DAGSTER_HOME/dagster.yaml" \
    && chown -R pulse "$DAGSTER_HOME" /app/dbt_project
USER pulse

EXPOSE 3000 8000
CMD ["pulse", "serve", "--host", "0.0.0.0", "--port", "8000"]
