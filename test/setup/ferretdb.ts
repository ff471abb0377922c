// Starts one real FerretDB for the whole test run; each test file uses its own database in it.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { startFerretDB } from "../../server/dev/embedded-ferretdb.js";
import { freePort } from "../helpers/free-port.js";

declare module "vitest" {
  export interface ProvidedContext {
    mongodbUri: string;
    ferretdbPort: number;
    ferretdbDir: string;
  }
}

export default async function setup(project: TestProject) {
  // The servers the tests start run the built JavaScript, as `npm start` does: built once here when a source is
  // newer (vitest runs the projects' global setups one after another, so one build at most).
  const built = spawnSync(process.execPath, [fileURLToPath(new URL("../../scripts/build.mjs", import.meta.url)), "--if-stale"], { stdio: "inherit" });
  if (built.status !== 0) throw new Error(`scripts/build.mjs --if-stale failed (exit ${built.status})`);
  const dir = mkdtempSync(join(tmpdir(), "hookwire-test-ferretdb-"));
  // On TCP, unlike the server's own embedded store, so any test can reach it by port.
  const port = await freePort();
  const ferret = await startFerretDB({ dir, port });
  project.provide("mongodbUri", ferret.uri);
  project.provide("ferretdbPort", port);
  project.provide("ferretdbDir", dir);
  return async () => {
    await ferret.stop();
    rmSync(dir, { recursive: true, force: true });
  };
}
