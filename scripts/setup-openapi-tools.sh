#!/usr/bin/env bash
# Installs the pinned generators of the OpenAPI document and the API reference (for scripts/gen-openapi.sh)
# outside the repo and prints the folder they are in. Idempotent and quick once done (the first build of
# protoc-gen-connect-openapi takes a few minutes).
#   protoc-gen-connect-openapi: pinned with its dependencies by scripts/openapi-tools/go.mod and go.sum.
#   protoc-gen-doc: by `go install` at a fixed version, as scripts/setup-go.sh installs its generators.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE_DIR="${HOOKWIRE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/hookwire}"
BIN="$CACHE_DIR/bin"
CONNECT_OPENAPI=github.com/sudorandom/protoc-gen-connect-openapi
PROTOC_GEN_DOC=github.com/pseudomuto/protoc-gen-doc/cmd/protoc-gen-doc@v1.5.1

command -v go >/dev/null 2>&1 || { echo "hookwire: the OpenAPI and API reference generators need Go (https://go.dev/dl)" >&2; exit 3; }

# The bin dir is shared by every clone, so check the installed version, not just the file.
installed() { # executable package@version
  [ -x "$1" ] && [ "$(go version -m "$1" 2>/dev/null | awk '$1 == "path" { p = $2 } $1 == "mod" { v = $3 } END { print p "@" v }')" = "$2" ]
}
mkdir -p "$BIN"

want="$CONNECT_OPENAPI@$(cd "$ROOT/scripts/openapi-tools" && go list -m -f '{{.Version}}' "$CONNECT_OPENAPI")"
if ! installed "$BIN/protoc-gen-connect-openapi" "$want"; then
  echo "hookwire: building $want into $BIN" >&2
  (cd "$ROOT/scripts/openapi-tools" && go build -trimpath -o "$BIN/protoc-gen-connect-openapi" "$CONNECT_OPENAPI") >&2
fi
if ! installed "$BIN/protoc-gen-doc" "$PROTOC_GEN_DOC"; then
  echo "hookwire: installing $PROTOC_GEN_DOC into $BIN" >&2
  GOBIN="$BIN" go install "$PROTOC_GEN_DOC" >&2
fi

echo "$BIN"
