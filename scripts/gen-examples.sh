#!/usr/bin/env bash
# Regenerates the Go and Python example code from proto/ with pinned generators; commit the result.
# Deterministic: a second run changes nothing, which CI checks with `git status --porcelain`.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=$(bash scripts/setup-polyglot.sh)
CACHE_DIR="${HOOKWIRE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/hookwire}"

# Go: buf with the pinned local plugins (the template's `clean: true` empties examples/go/gen first).
PATH="$CACHE_DIR/bin:$PATH" npx buf generate --template examples/buf.gen.go.yaml

# Python: the pinned grpc_tools, which brings its own google/protobuf/*.proto includes.
# Old outputs are removed first so a deleted .proto leaves no stale module behind.
rm -f examples/python/hookwire/v1/*_pb2.py examples/python/hookwire/v1/*_pb2.pyi examples/python/hookwire/v1/*_pb2_grpc.py
"$PYTHON" -m grpc_tools.protoc -Iproto \
  --python_out=examples/python --pyi_out=examples/python --grpc_python_out=examples/python \
  proto/hookwire/v1/*.proto
