#!/usr/bin/env bash
# Set-up command 2: install into .venv (with test tools) and run lint and the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
export GX_ANALYTICS_ENABLED=false DAGSTER_HOME="${DAGSTER_HOME:-$PWD/var/dagster_home_test}"
mkdir -p "$DAGSTER_HOME"
.venv/bin/ruff check .
# DuckDB's nanobind bindings print reference-leak notes at interpreter exit; they are noise, not test output.
.venv/bin/python -m pytest "$@" 2> >(grep -v -E 'nanobind|leaked (type|function|instance)|skipped remainder' >&2)
