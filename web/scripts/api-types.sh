#!/bin/sh
# Generate src/api/schema.d.ts from the API's OpenAPI schema (dumped from the real app object), or with
# --check fail when the committed file is stale. Run from web/; PYTHON defaults to ../.venv/bin/python.
set -eu
PYTHON="${PYTHON:-$(cd .. && pwd)/.venv/bin/python}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd .. && "$PYTHON" -c 'import json, sys; from api.main import create_app; json.dump(create_app().openapi(), sys.stdout)') > "$tmp/openapi.json"
npx --no-install openapi-typescript --default-non-nullable=false "$tmp/openapi.json" -o "$tmp/schema.d.ts" >/dev/null 2>&1
if [ "${1:-}" = "--check" ]; then
  if ! diff -q src/api/schema.d.ts "$tmp/schema.d.ts" >/dev/null; then
    echo "web/src/api/schema.d.ts is stale: the API's OpenAPI schema changed; run 'cd web && sh scripts/api-types.sh' and commit it" >&2
    exit 1
  fi
  echo "web/src/api/schema.d.ts matches the API's OpenAPI schema"
else
  cp "$tmp/schema.d.ts" src/api/schema.d.ts
  echo "wrote web/src/api/schema.d.ts"
fi
