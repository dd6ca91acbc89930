#!/usr/bin/env bash
# Regenerates every committed stub from protos/: the Python ones (package blockstore.v1)
# with grpc_tools, the Go (gen/go) and TypeScript (gen/ts) ones with `buf generate`
# (buf.gen.yaml, local plugins: scripts/setup.sh --test installs them).
# The one way to produce them; the test command runs it and fails on a diff.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-.venv/bin/python}"
rm -rf blockstore/v1
mkdir -p blockstore/v1
"$PY" -m grpc_tools.protoc -Iprotos \
  --python_out=. --pyi_out=. --grpc_python_out=. \
  protos/blockstore/v1/*.proto
# protoc writes into ./blockstore/v1 because the proto package is blockstore.v1.
cat > blockstore/v1/__init__.py <<'PY'
"""Generated gRPC stubs for the blockstore.v1 API (scripts/gen_protos.sh). Do not edit."""
PY
node_modules/.bin/buf generate
