#!/usr/bin/env bash
# Regenerates, from proto/ and its comments, with pinned generators (commit the result):
#   openapi/hookwire.openapi.{yaml,json}  the OpenAPI 3.1 document of the Connect JSON surface (served at /openapi.*)
#   docs/api.md                           the API reference
#   openapi/typescript/hookwire-api.ts    openapi-typescript's types of the document (test/e2e/openapi.test.ts's client)
# Deterministic: a second run changes nothing, which CI checks with `git status --porcelain`.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(bash scripts/setup-openapi-tools.sh)
PATH="$BIN:$PATH" npx buf generate --template openapi/buf.gen.yaml
npx openapi-typescript openapi/hookwire.openapi.yaml -o openapi/typescript/hookwire-api.ts --silent
