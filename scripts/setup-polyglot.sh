#!/usr/bin/env bash
# Both setups at once (scripts/setup-go.sh, then scripts/setup-python.sh); prints the venv's python.
# Each half runs on its own too: setup-python.sh needs no Go.
set -euo pipefail
cd "$(dirname "$0")"
bash setup-go.sh >/dev/null
bash setup-python.sh
