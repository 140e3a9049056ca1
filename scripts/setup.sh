#!/usr/bin/env bash
# Create .venv and install the project (with the test tools when called with "dev").
# pip runs only when pyproject.toml changed since the last install of the same kind, and its
# output (setuptools' notices about editable installs included) is shown only if it fails.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
TARGET=.
[ "${1:-}" = "dev" ] && TARGET='.[dev]'
STAMP=.venv/.installed
WANTED="$TARGET $(sha256sum pyproject.toml | cut -d' ' -f1)"
# a "dev" install also serves a plain one
if [ -f "$STAMP" ] && .venv/bin/python -c "import engine" 2>/dev/null; then
  DONE=$(cat "$STAMP")
  if [ "$DONE" = "$WANTED" ] || { [ "$TARGET" = . ] && [ "$DONE" = ".[dev] ${WANTED#* }" ]; }; then
    exit 0
  fi
fi
LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT
install() {
  if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
    .venv/bin/pip install --quiet --upgrade pip
  fi
  .venv/bin/pip install --quiet --disable-pip-version-check -e "$TARGET"
}
echo "Installation des dépendances dans .venv…" >&2
if ! install >"$LOG" 2>&1; then
  cat "$LOG" >&2
  exit 1
fi
echo "$WANTED" > "$STAMP"
