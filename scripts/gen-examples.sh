#!/usr/bin/env bash
# Regenerates the Go module's (go/hookwire/v1) and the Python package's (python/hookwire/v1) code
# from proto/ with pinned generators; commit the result.
# Deterministic: a second run changes nothing, which CI checks with `git status --porcelain`.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(bash scripts/setup-go.sh)
PYTHON=$(bash scripts/setup-python.sh)

# Go: buf with the pinned local plugins. Old outputs are removed first so a deleted .proto leaves
# no stale file behind (the template cannot use `clean: true`: go/ holds hand-written code too).
rm -f go/hookwire/v1/*.pb.go
PATH="$BIN:$PATH" npx buf generate --template examples/buf.gen.go.yaml

# Python: the pinned grpc_tools, which brings its own google/protobuf/*.proto includes.
rm -f python/hookwire/v1/*_pb2.py python/hookwire/v1/*_pb2.pyi python/hookwire/v1/*_pb2_grpc.py
"$PYTHON" -m grpc_tools.protoc -Iproto \
  --python_out=python --pyi_out=python --grpc_python_out=python \
  proto/hookwire/v1/*.proto
