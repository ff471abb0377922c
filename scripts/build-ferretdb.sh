#!/usr/bin/env bash
# Builds FerretDB v1.24.2 once into a cache folder outside the repo and prints the binary's path.
# A plain `go install` yields a binary without build/version/version.txt, which refuses to start,
# so we build from the module source with that file written in.
set -euo pipefail
VERSION=v1.24.2
CACHE_DIR="${HOOKWIRE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/hookwire}"
BIN="$CACHE_DIR/ferretdb-$VERSION/ferretdb"
if [ -x "$BIN" ]; then echo "$BIN"; exit 0; fi
if ! command -v go >/dev/null 2>&1; then
  exit 3 # the caller explains: it knows whether MONGODB_URI is an alternative
fi
mkdir -p "$CACHE_DIR"
echo "hookwire: building FerretDB $VERSION into $CACHE_DIR (first run only, takes a few minutes)" >&2
SRC_DIR=$(GOFLAGS=-mod=mod go mod download -json "github.com/FerretDB/FerretDB@$VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[ -n "$SRC_DIR" ] || { echo "hookwire: go mod download of FerretDB $VERSION failed" >&2; exit 3; }
WORK=$(mktemp -d "$CACHE_DIR/build.XXXXXX")
trap 'chmod -R u+w "$WORK" 2>/dev/null; rm -rf "$WORK"' EXIT
cp -R "$SRC_DIR/." "$WORK/"
chmod -R u+w "$WORK"
mkdir -p "$WORK/build/version"
printf '%s' "$VERSION" > "$WORK/build/version/version.txt"
(cd "$WORK" && CGO_ENABLED=0 go build -trimpath -o "$WORK/ferretdb.out" ./cmd/ferretdb) >&2
mkdir -p "$(dirname "$BIN")"
mv "$WORK/ferretdb.out" "$BIN.tmp.$$"
mv "$BIN.tmp.$$" "$BIN"
echo "$BIN"
