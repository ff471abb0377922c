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

// The console's browser test drives Debian's chromium; as root the tests install it, else they say how.
if (process.argv.includes("--ferretdb") && !process.env.HOOKWIRE_CHROMIUM && !existsSync("/usr/bin/chromium")) {
  const root = typeof process.getuid === "function" && process.getuid() === 0;
  if (root && spawnSync("sh", ["-c", "command -v apt-get"], { stdio: "ignore" }).status === 0) {
    process.stderr.write("hookwire: installing chromium for the console's browser test (apt-get)\n");
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    for (const args of [["update", "-qq"], ["install", "-y", "-qq", "chromium"]]) {
      const res = spawnSync("apt-get", args, { stdio: ["ignore", "ignore", "inherit"], env });
      if (res.status !== 0) process.stderr.write(`hookwire: "apt-get ${args.join(" ")}" failed; the console test will say what is missing\n`);
    }
  } else {
    process.stderr.write("hookwire: the console's browser test needs Chromium: sudo apt-get install chromium (or set HOOKWIRE_CHROMIUM)\n");
  }
}
