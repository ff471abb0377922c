// Loaded into a server under test with `node --import`: writes every module the process loads to the file named
// by HOOKWIRE_TEST_MODULES_FILE, one URL or path a line. ES modules are seen by a resolve hook as they are
// resolved (the hook runs on the loader's thread and appends at once); CommonJS ones, required by anything at
// all, are listed from the require cache as the process exits. Plain JavaScript: node loads it before anything.
import { appendFileSync } from "node:fs";
import { createRequire, register } from "node:module";

const file = process.env.HOOKWIRE_TEST_MODULES_FILE;
if (file) {
  register("./record-modules-hooks.mjs", import.meta.url, { data: { file } });
  const cache = createRequire(import.meta.url).cache;
  process.on("exit", () => appendFileSync(file, Object.keys(cache).map((p) => `${p}\n`).join("")));
}
