#!/usr/bin/env node
// The `hookwire` command. The CLI is TypeScript (cli/main.ts) on the SDK's sources, so this launcher
// loads tsx and the `hookwire-source` export condition into this process with module hooks, rather
// than re-running Node with `--conditions=hookwire-source --import tsx`: one process, no second start-up.
import { register } from "node:module";
import { register as registerTsx } from "tsx/esm/api";

registerTsx();
// Hooks run last registered first: this one adds the condition, then tsx resolves with it.
register("./source-condition.mjs", import.meta.url);
await import("../cli/main.ts");
