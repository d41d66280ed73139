#!/usr/bin/env bash
# Set-up command 1: install into .venv, generate a sample delivery set and run the whole pipeline on it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/popbase demo "$@"
