#!/usr/bin/env bash
# Quick start: set up .venv and run both planes on embedded defaults.
# Data goes to ./data (override with BLOCKSTORE_DATA_DIR), listening on
# 127.0.0.1:50051 (override with BLOCKSTORE_LISTEN).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/blockstore serve \
  --data-dir "${BLOCKSTORE_DATA_DIR:-./data}" \
  --listen "${BLOCKSTORE_LISTEN:-127.0.0.1:50051}" "$@"
