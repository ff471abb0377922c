#!/usr/bin/env bash
# Installs what the Go and Python examples need, outside the repo, and prints the venv's python.
# Idempotent and quick once done: each step is skipped when its pinned result is already there.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE_DIR="${HOOKWIRE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/hookwire}"
BIN="$CACHE_DIR/bin"
VENV="$CACHE_DIR/py-venv"
PROTOC_GEN_GO=google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
PROTOC_GEN_GO_GRPC=google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2

command -v go >/dev/null 2>&1 || { echo "hookwire: the Go example needs Go (https://go.dev/dl)" >&2; exit 3; }
command -v python3 >/dev/null 2>&1 || { echo "hookwire: the Python example needs python3 (3.9+, with venv)" >&2; exit 3; }

# The bin dir is shared by every clone, so check the installed version, not just the file.
install_plugin() { # package@version
  local pkg="${1%@*}" exe
  exe="$BIN/$(basename "$pkg")"
  if [ -x "$exe" ] && [ "$(go version -m "$exe" 2>/dev/null | awk '$1 == "path" { p = $2 } $1 == "mod" { v = $3 } END { print p "@" v }')" = "$1" ]; then
    return
  fi
  echo "hookwire: installing $1 into $BIN" >&2
  GOBIN="$BIN" go install "$1" >&2
}
mkdir -p "$BIN"
install_plugin "$PROTOC_GEN_GO"
install_plugin "$PROTOC_GEN_GO_GRPC"

# A copy of the requirements file marks a complete install; pip runs again only when it changes.
REQS="$ROOT/examples/python/requirements.txt"
if ! cmp -s "$REQS" "$VENV/.hookwire-requirements.txt" || [ ! -x "$VENV/bin/python" ]; then
  echo "hookwire: installing the Python example's packages into $VENV" >&2
  [ -x "$VENV/bin/python" ] || python3 -m venv --clear "$VENV" >&2
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$REQS" >&2
  cp "$REQS" "$VENV/.hookwire-requirements.txt"
fi

echo "$VENV/bin/python"
