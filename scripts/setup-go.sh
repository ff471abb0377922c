#!/usr/bin/env bash
# Installs the pinned Go code generators (for scripts/gen-examples.sh) outside the repo and prints
# the folder they are in. Idempotent and quick once done. Only generation needs this: building the
# Go module in go/ or the caller in examples/go needs Go alone.
set -euo pipefail
CACHE_DIR="${HOOKWIRE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/hookwire}"
BIN="$CACHE_DIR/bin"
PROTOC_GEN_GO=google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
PROTOC_GEN_GO_GRPC=google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2

command -v go >/dev/null 2>&1 || { echo "hookwire: the Go code generators need Go (https://go.dev/dl)" >&2; exit 3; }

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

echo "$BIN"
