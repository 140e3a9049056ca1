#!/usr/bin/env bash
# Set up and run every check: ruff, mypy (strict on engine/) and the pytest suite, which runs
# the database tests on SQLite and on PostgreSQL, and the browser tests in Debian's chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh dev
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  apt-get update -qq && apt-get install -y -qq chromium >/dev/null
fi
.venv/bin/ruff check engine tests
.venv/bin/mypy
.venv/bin/pytest -q -p no:cacheprovider "$@"
