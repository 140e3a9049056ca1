#!/usr/bin/env bash
# Set up, load the example campaign with demo families, and serve the app on the embedded
# default (SQLite in ./instance, uploads in ./instance/uploads, mail written to files).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# the example campaigns run in June 2027: the demo is dated within them
export DOSSIERSCO_TODAY="${DOSSIERSCO_TODAY:-2027-06-10}"
# the printed address and the links in the invitation mails follow PORT
export DOSSIERSCO_BASE_URL="${DOSSIERSCO_BASE_URL:-http://127.0.0.1:${PORT:-8000}}"
.venv/bin/dossiersco demo --serving
echo "Démarrage du serveur (Ctrl+C pour l'arrêter)…"
exec .venv/bin/dossiersco serve --host "${HOST:-127.0.0.1}" --port "${PORT:-8000}"
