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

# Dependencies first, so code changes do not reinstall them.
COPY pyproject.toml README.md ./
RUN mkdir -p pulse api orchestration && touch pulse/__init__.py api/__init__.py orchestration/__init__.py \
    && pip install --upgrade pip uv && uv pip install --system --compile-bytecode -e . \
    && rm -rf pulse api orchestration

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
