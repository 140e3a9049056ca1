#!/usr/bin/env bash
# Set up and run every check: ruff, mypy (strict on engine/) and the pytest suite, which runs
# the database tests on SQLite and on PostgreSQL, and the browser tests in Debian's chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh dev
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  apt-get update -qq && apt-get install -y -qq chromium >/dev/null
fi
# the PDF récapitulatif draws its text with DejaVu Sans (engine/exports/recap.py)
if [ ! -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] && [ "$(id -u)" = 0 ] \
    && command -v apt-get >/dev/null; then
  apt-get update -qq && apt-get install -y -qq fonts-dejavu-core >/dev/null
fi
# axe-core, injected into every page by the browser tests (tests/e2e/package-lock.json)
npm ci --prefix tests/e2e --no-audit --no-fund --silent
.venv/bin/ruff check engine tests
.venv/bin/mypy
.venv/bin/lint-imports
# one worker per core (pytest-xdist); each worker migrates its own SQLite file and
# PostgreSQL schema and starts its own servers (S3, SMTP), so the tests stay independent
.venv/bin/pytest -q -p no:cacheprovider -n "${DOSSIERSCO_TEST_WORKERS:-auto}" "$@"
