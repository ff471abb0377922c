#!/usr/bin/env bash
# Installs grpc-health-probe and grpcurl (pinned) into the cache's bin folder, once; prints that folder.
set -euo pipefail
CACHE_DIR="${HOOKWIRE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/hookwire}"
BIN="$CACHE_DIR/bin"
mkdir -p "$BIN"
install() { # name module@version
  local stamp="$BIN/.$1.version"
  if [ -x "$BIN/$1" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$2" ]; then return; fi
  echo "hookwire: go install $2" >&2
  (cd "$CACHE_DIR" && GOBIN="$BIN" GOFLAGS=-mod=mod go install "$2") >&2
  echo "$2" > "$stamp"
}
install grpc-health-probe github.com/grpc-ecosystem/grpc-health-probe@v0.4.62
install grpcurl github.com/fullstorydev/grpcurl/cmd/grpcurl@v1.9.4
echo "$BIN"
