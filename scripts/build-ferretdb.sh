#!/usr/bin/env bash
# Builds FerretDB v1.24.2 once into a cache folder outside the repo and prints the binary's path.
# A plain `go install` yields a binary without build/version/version.txt, which refuses to start,
# so we build from the module source with that file written in.
#
# Two patches. First, one line: FerretDB's SQLite backend indexes _id as
# `_ferretdb_sjson->"_id"` but looks it up as `_ferretdb_sjson->'$._id'`; SQLite matches index
# expressions by their text, so every lookup, update and delete by _id scanned the whole table
# (seconds per take on a queue of 20,000). Both expressions read the same JSON value; the patch
# makes lookups use the index's spelling.
#
# Second, equality on indexed fields is answered from the index. Upstream runs only a filter that is
# exactly {_id: <string or ObjectId>} in SQLite and matches every other filter in Go, document by
# document (seconds over a large log, however selective the filter and whatever its indexes).
# scripts/ferretdb/hookwire_pushdown.go (copied into the backend) builds, for the top-level string
# equalities that form a key prefix of an index, a WHERE clause SQLite answers from that index.
# For a find sorted by _id with a limit, on an index whose name declares its keys and the
# collection's _ids strings (hookwire_strings_…), it walks that index instead and reads only the
# first `limit` rows. scripts/ferretdb/hookwire-pushdown.patch passes a find's _id order and limit
# to the backend and calls the code from its Query and Explain. FerretDB still filters, sorts and
# limits what the backend returns in Go, so the clause only has to hold every true match (every
# true match of the page, for the walk); that file's comments give the argument.
#
# Third, memcmp and memcpy of modernc.org/libc (the C library the pure-Go SQLite is transpiled
# against) become Go's vectorised bytes.Compare and copy (scripts/ferretdb/hookwire_libc_mem.go; the
# module is copied into the build and replaced there). SQLite's JSON cache compares whole document texts
# with memcmp on every index expression it evaluates, and the transpiled byte loop was 14 % of FerretDB's
# CPU on the peer workload (its pprof); with the patch FerretDB's CPU per Trigger fell by 13-20 %.
#
# `PATCH=0 bash scripts/build-ferretdb.sh` builds it unpatched, `PATCH=id` with the _id patch only.
set -euo pipefail
VERSION=v1.24.2
CACHE_DIR="${HOOKWIRE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/hookwire}"
PATCH="${PATCH:-1}"
PATCHES_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/ferretdb"
case "$PATCH" in
  0) SUFFIX="" ;;
  id) SUFFIX="-idindex" ;;
  # Named by the patches' content, so a changed patch builds anew instead of reusing a cached binary.
  1) SUFFIX="-idindex-hw$(cat "$PATCHES_DIR/hookwire-pushdown.patch" "$PATCHES_DIR/hookwire_pushdown.go" "$PATCHES_DIR/hookwire_libc_mem.go" | sha256sum | cut -c1-10)" ;;
  *) echo "hookwire: PATCH must be 0, id or 1" >&2; exit 1 ;;
esac
BIN="$CACHE_DIR/ferretdb-$VERSION$SUFFIX/ferretdb"
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
if [ "$PATCH" != "0" ]; then
  META="$WORK/internal/backends/sqlite/metadata/metadata.go"
  grep -q "IDColumn = DefaultColumn + \"->'\$._id'\"" "$META" || { echo "hookwire: FerretDB source changed; cannot apply the _id index patch" >&2; exit 1; }
  sed -i "s|IDColumn = DefaultColumn + \"->'\$._id'\"|IDColumn = DefaultColumn + \"->'_id'\"|" "$META"
fi
if [ "$PATCH" = "1" ]; then
  patch --dry-run --quiet -p1 -d "$WORK" < "$PATCHES_DIR/hookwire-pushdown.patch" >/dev/null \
    || { echo "hookwire: FerretDB source changed; cannot apply the pushdown patch" >&2; exit 1; }
  patch --quiet -p1 -d "$WORK" < "$PATCHES_DIR/hookwire-pushdown.patch" >&2
  cp "$PATCHES_DIR/hookwire_pushdown.go" "$WORK/internal/backends/sqlite/"
  LIBC_VERSION=v1.55.3
  grep -q "modernc.org/libc $LIBC_VERSION" "$WORK/go.mod" || { echo "hookwire: FerretDB no longer uses modernc.org/libc $LIBC_VERSION; cannot apply the memcmp patch" >&2; exit 1; }
  LIBC_DIR=$(cd "$WORK" && GOFLAGS=-mod=mod go mod download -json "modernc.org/libc@$LIBC_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -n "$LIBC_DIR" ] || { echo "hookwire: go mod download of modernc.org/libc $LIBC_VERSION failed" >&2; exit 3; }
  cp -R "$LIBC_DIR" "$WORK/hookwire-libc"
  chmod -R u+w "$WORK/hookwire-libc"
  for f in "$WORK"/hookwire-libc/ccgo_linux_*.go; do
    [ "$(grep -c '^func Xmemcmp(tls \*TLS, vl uintptr, vr uintptr, n Tsize_t) (r1 int32) {$' "$f")" = 1 ] \
      && [ "$(grep -c '^func Xmemcpy(tls \*TLS, dest uintptr, src uintptr, n Tsize_t) (r uintptr) {$' "$f")" = 1 ] \
      || { echo "hookwire: modernc.org/libc changed; cannot apply the memcmp patch to $f" >&2; exit 1; }
    sed -i -e 's/^func Xmemcmp(tls \*TLS, vl uintptr, vr uintptr, n Tsize_t) (r1 int32) {$/&\n\treturn hookwireMemcmp(vl, vr, n)/' \
      -e 's/^func Xmemcpy(tls \*TLS, dest uintptr, src uintptr, n Tsize_t) (r uintptr) {$/&\n\treturn hookwireMemcpy(dest, src, n)/' "$f"
  done
  cp "$PATCHES_DIR/hookwire_libc_mem.go" "$WORK/hookwire-libc/hookwire_mem.go"
  (cd "$WORK" && go mod edit -replace modernc.org/libc=./hookwire-libc)
fi
(cd "$WORK" && CGO_ENABLED=0 go build -trimpath -o "$WORK/ferretdb.out" ./cmd/ferretdb) >&2
mkdir -p "$(dirname "$BIN")"
mv "$WORK/ferretdb.out" "$BIN.tmp.$$"
mv "$BIN.tmp.$$" "$BIN"
echo "$BIN"
