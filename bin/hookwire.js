#!/usr/bin/env node
// The `hookwire` command: the CLI built into dist/ (scripts/build.mjs), built first when a source changed since
// the last build (a fresh clone, or a developer's edit), so each command starts as plain JavaScript.
import { buildIfStale } from "../scripts/build.mjs";

await buildIfStale();
await import("../dist/cli/main.mjs");
