#!/usr/bin/env bash
# Create .venv and install the project (with the test tools when called with "dev").
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
  .venv/bin/pip install --quiet --upgrade pip
fi
if [ "${1:-}" = "dev" ]; then
  .venv/bin/pip install --quiet -e '.[dev]'
else
  .venv/bin/pip install --quiet -e .
fi
