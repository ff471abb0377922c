#!/usr/bin/env bash
# Makes a development venv outside the repo with python/requirements-dev.txt (grpcio-tools for
# scripts/gen-examples.sh, and the runtime the package's tests use) and prints its python.
# Needs python3 only, no Go. Idempotent and quick once done: pip runs again only when the file changes.
# Users of the package need none of this: `pip install ./python` into their own environment.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE_DIR="${HOOKWIRE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/hookwire}"
VENV="$CACHE_DIR/py-venv"

command -v python3 >/dev/null 2>&1 || { echo "hookwire: the Python package needs python3 (3.10+, with venv)" >&2; exit 3; }

# A copy of the requirements file marks a complete install.
REQS="$ROOT/python/requirements-dev.txt"
if ! cmp -s "$REQS" "$VENV/.hookwire-requirements.txt" || [ ! -x "$VENV/bin/python" ]; then
  echo "hookwire: installing python/requirements-dev.txt into $VENV" >&2
  [ -x "$VENV/bin/python" ] || python3 -m venv --clear "$VENV" >&2
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$REQS" >&2
  cp "$REQS" "$VENV/.hookwire-requirements.txt"
fi

echo "$VENV/bin/python"
