// Runs one page's blocks in order against a real Hookwire (the docs checker; docs/README.md says the convention):
// `sh` blocks with bash in the repo root, sharing their variables and folder; `ts` blocks with tsx; file blocks
// written where they say; a server block (or, without one, a default) started as the checker's own server on a free
// port. Whatever the page started or wrote is stopped and removed at its end, and the page must leave no
// subscription behind.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createWebhookManager } from "@hookwire/sdk";
import { LOOPBACK_ONLY, startHookwire, type Env, type RunningServer } from "../helpers/hookwire-process.js";
import { onPort, type Block } from "./blocks.js";
import { freePort } from "../helpers/free-port.js";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** Where the checker's servers store their data (the test run's FerretDB), and how long a block may take. */
export interface RunOptions {
  mongodbUri: string;
  database: string;
  blockTimeoutMs?: number;
}

/** A block that failed: the message names the page, the line and the command, with the output. */
export class BlockFailure extends Error {
  override name = "BlockFailure";
}

/** The variables every block starts with (docs/README.md): what the README's walkthrough sets, for this server. */
function pageEnv(server: RunningServer, dataDir: string, apiKey: string): Env {
  const env: Env = { ...process.env };
  // Nothing of the caller's Hookwire settings leaks in: a block sees what the page sets, and these.
  for (const k of Object.keys(env)) if (k.startsWith("HOOKWIRE_") || k === "MONGODB_URI") delete env[k];
  return {
    ...env,
    HOOKWIRE_URL: server.baseUrl,
    HOOKWIRE_ADDR: `127.0.0.1:${server.port}`,
    HOOKWIRE_API_KEY: apiKey,
    HOOKWIRE_DATA_DIR: dataDir,
    NO_COLOR: "1",
    PIP_DISABLE_PIP_VERSION_CHECK: "1",
  };
}

/** The first line of a block, for messages. */
function command(block: Block): string {
  const first = block.code.split("\n").find((l) => l.trim() && !l.trim().startsWith("#")) ?? "";
  return first.length > 120 ? `${first.slice(0, 117)}...` : first;
}

export interface PageResult {
  ran: Block[];
  skipped: Block[];
}

/** Runs a page's blocks in order; throws BlockFailure naming the first one that fails. */
export async function runPage(blocks: Block[], opts: RunOptions): Promise<PageResult> {
  const result: PageResult = { ran: [], skipped: [] };
  const runnable = blocks.filter((b) => b.action.kind !== "skip");
  result.skipped = blocks.filter((b) => b.action.kind === "skip");
  if (runnable.length === 0) return result;

  const scratch = mkdtempSync(join(tmpdir(), "hookwire-docs-"));
  const stateFile = join(scratch, "state.sh");
  writeFileSync(stateFile, "");
  const groups: number[] = [];
  const written: string[] = [];
  let server: RunningServer | undefined;
  let env: Env = {};
  const timeout = opts.blockTimeoutMs ?? 300_000;

  const start = async (extra: Record<string, string>) => {
    await server?.stop();
    const dataDir = mkdtempSync(join(scratch, "data-"));
    server = await startHookwire({
      MONGODB_URI: opts.mongodbUri,
      HOOKWIRE_DATABASE: opts.database,
      HOOKWIRE_WARMUP_MS: "200",
      HOOKWIRE_API_KEYS: undefined,
      ...extra,
      // On a free port and a fresh data folder whatever the page says, delivering to this machine only.
      HOOKWIRE_PORT: "0",
      HOOKWIRE_DATA_DIR: dataDir,
      HOOKWIRE_EGRESS_ALLOW: LOOPBACK_ONLY,
    });
    env = pageEnv(server, dataDir, readFileSync(join(dataDir, "dev-api-key"), "utf8").trim());
    // The earlier blocks' variables stay, but not the address and key of the server that is gone.
    const kept = readFileSync(stateFile, "utf8").split("\n").filter((l) => !/^declare -x HOOKWIRE_(URL|ADDR|API_KEY|DATA_DIR)=/.test(l));
    writeFileSync(stateFile, kept.join("\n"));
  };

  const receiverPort = await freePort();
  try {
    if (runnable[0]!.action.kind !== "server") await start({});
    for (const block of runnable) {
      const where = `${block.page}:${block.line}`;
      const action = block.action;
      if (action.kind === "server") {
        await start(action.env);
      } else if (action.kind === "file") {
        const path = join(ROOT, action.path);
        if (existsSync(path) && !written.includes(path)) throw new BlockFailure(`${where}: the file block would overwrite ${action.path}, which exists`);
        // The first folder the block needs that does not exist yet goes at the page's end, with whatever the
        // page's commands left in it (a go.mod, a venv).
        const created = mkdirSync(dirname(path), { recursive: true });
        if (created) written.push(created);
        writeFileSync(path, onPort(block.code, server!.port, receiverPort));
        written.push(path);
      } else if (action.kind === "sh") {
        await runShell(where, command(block), onPort(block.code, server!.port, receiverPort), env, stateFile, groups, timeout);
      } else if (action.kind === "ts") {
        const path = join(ROOT, `.docs-check-${block.page.replace(/\W/g, "_")}-${block.line}.mts`);
        writeFileSync(path, onPort(block.code, server!.port, receiverPort));
        written.push(path);
        await runShell(where, command(block), `node --conditions=hookwire-source --import tsx ${JSON.stringify(path)}\n`, env, stateFile, groups, timeout);
      }
      result.ran.push(block);
    }
    const left = await leftovers(server!, env.HOOKWIRE_API_KEY!);
    if (left.length > 0) {
      throw new BlockFailure(`${runnable[0]!.page}: the page left ${left.length} subscription(s) behind (${left.join(", ")}): examples delete what they create`);
    }
    return result;
  } finally {
    for (const pgid of groups) {
      try {
        process.kill(-pgid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    await server?.stop();
    for (const path of written) rmSync(path, { recursive: true, force: true });
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** The subscriptions the page's tenant still has: every example deletes what it registered. */
async function leftovers(server: RunningServer, apiKey: string): Promise<string[]> {
  const hw = createWebhookManager({ baseUrl: server.baseUrl, apiKey });
  const page = await hw.listSubscriptions({ pageSize: 100 });
  return page.subscriptions.map((s) => `${s.id} ${s.url}`);
}

/**
 * Runs bash on a block in the repo root, in a process group of its own (so anything it left running in the
 * background is killed at the page's end). Variables and the folder carry over to the next block through a state
 * file: every assignment is exported (set -a), and the end of a block writes them out.
 */
async function runShell(where: string, cmd: string, code: string, env: Env, stateFile: string, groups: number[], timeout: number): Promise<void> {
  const script = [
    "set -a",
    `. ${JSON.stringify(stateFile)}`,
    "set -eo pipefail",
    code,
    `{ export -p | grep -vE '^declare -x (PWD|OLDPWD|SHLVL|_)='; printf 'cd %q\\n' "$PWD"; } > ${JSON.stringify(stateFile)}`,
  ].join("\n");
  const child = spawn("bash", ["-c", script], { cwd: ROOT, env: env as NodeJS.ProcessEnv, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  if (child.pid) groups.push(child.pid);
  let out = "";
  child.stdout!.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (out += c.toString()));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      // already gone
    }
  }, timeout);
  // 'exit', not 'close': a receiver the block left in the background keeps the pipes open.
  const code_ = await new Promise<number | null>((res) => child.once("exit", (c) => res(c)));
  clearTimeout(timer);
  if (process.env.DOCS_CHECK_VERBOSE) process.stdout.write(`--- ${where}: ${cmd}\n${out}`);
  if (code_ !== 0) {
    const why = timedOut ? `did not finish in ${timeout / 1000} s` : `exited ${code_}`;
    throw new BlockFailure(`${where}: \`${cmd}\` ${why}\n--- output ---\n${out.slice(-4000)}`);
  }
}
