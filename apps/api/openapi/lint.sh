#!/usr/bin/env bash
# Lints the OpenAPI document the API serves with two outside tools: any error or warning fails (allowlist in
# redocly.yaml). The document is dumped from the app's code, so no server or database is needed.
set -euo pipefail
# No telemetry or update checks from the linters (and none reachable from CI anyway).
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true
cd "$(dirname "$0")/.."
doc=dist/openapi.json
tsx openapi/dump.ts "$doc"
echo "--- @redocly/cli $(redocly --version) (recommended + openapi/redocly.yaml)"
redocly lint --config openapi/redocly.yaml --max-problems 100 --format stylish "$doc"
echo "--- @stoplight/spectral-cli $(spectral --version) (spectral:oas)"
spectral lint --ruleset openapi/spectral.yaml --fail-severity hint --display-only-failures "$doc"
