#!/usr/bin/env bash
# Rewrites requirements.lock from what .venv has installed: every package pinned, each with the sha256 of every
# file PyPI holds for that version, so scripts/bootstrap.sh installs in pip's hash-checking mode.
# Run after changing pyproject.toml and installing the new versions into .venv. Needs network to PyPI and uv
# (outside the project's environment: `python3 -m venv /tmp/uv && /tmp/uv/bin/pip install uv==0.13.9`, then
# UV=/tmp/uv/bin/uv bash scripts/lock.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
UV=${UV:-uv}
pins=$(mktemp)
trap 'rm -f "$pins"' EXIT
# setuptools: the build backend pyproject.toml names, used by `pip install --no-build-isolation -e .`
.venv/bin/pip freeze --all --exclude-editable | grep -v -E '^(popbase|pip|wheel)==' > "$pins"
{
  echo "# Exact versions of every package popbase installs (runtime, test and build), for Python 3.11 on Linux,"
  echo "# with the sha256 of each file PyPI holds for them. Regenerate with scripts/lock.sh; never edit by hand."
  # uv drops extras; pip's hash-checking mode wants a package that another requires with an extra pinned
  # with that extra (dagster-graphql requires gql[requests], dagster-webserver uvicorn[standard]).
  "$UV" pip compile "$pins" --generate-hashes --python-version 3.11 --no-header --no-annotate --quiet |
    .venv/bin/python scripts/lock_extras.py --pin
} > requirements.lock
echo "requirements.lock: $(grep -c '==' requirements.lock) packages" >&2
