// Starts one real FerretDB for the whole test run; each test file uses its own database in it.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { startFerretDB } from "../../server/embedded-ferretdb.js";

declare module "vitest" {
  export interface ProvidedContext {
    mongodbUri: string;
    ferretdbPort: number;
    ferretdbDir: string;
  }
}

export default async function setup(project: TestProject) {
  const dir = mkdtempSync(join(tmpdir(), "hookwire-test-ferretdb-"));
  const ferret = await startFerretDB({ dir });
  project.provide("mongodbUri", ferret.uri);
  project.provide("ferretdbPort", ferret.port);
  project.provide("ferretdbDir", dir);
  return async () => {
    await ferret.stop();
    rmSync(dir, { recursive: true, force: true });
  };
}
