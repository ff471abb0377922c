// Installs what a fresh clone lacks before `npm start` / `npm test`: the npm packages and,
// with --ferretdb, the embedded FerretDB build. Plain JS, since TypeScript tooling may not be installed yet.
import { spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const installed = `${root}node_modules/.package-lock.json`;
const lock = `${root}package-lock.json`;

function run(cmd, args) {
  const res = spawnSync(cmd, args, { cwd: root, stdio: ["ignore", "inherit", "inherit"] });
  if (res.status !== 0) {
    process.stderr.write(`hookwire: "${cmd} ${args.join(" ")}" failed (exit ${res.status})\n`);
    process.exit(res.status ?? 1);
  }
}

if (!existsSync(installed) || statSync(lock).mtimeMs > statSync(installed).mtimeMs) {
  process.stderr.write("hookwire: installing npm packages (npm ci)\n");
  run("npm", ["ci", "--no-audit", "--no-fund"]);
}

if (process.argv.includes("--ferretdb") && !process.env.HOOKWIRE_TEST_MONGODB_URI) {
  const res = spawnSync("bash", [`${root}scripts/build-ferretdb.sh`], { cwd: root, stdio: ["ignore", "ignore", "inherit"] });
  if (res.status === 3) {
    process.stderr.write("hookwire: the tests need Go to build FerretDB, their MongoDB-compatible store: install Go (https://go.dev/dl)\n");
    process.exit(2);
  }
  if (res.status !== 0) process.exit(res.status ?? 1);
}
