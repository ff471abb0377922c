// The `hookwire` CLI as a user runs it: the package's bin (bin/hookwire.js, what `npx hookwire` starts)
// in a child process, with only the environment a test gives it.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const BIN = fileURLToPath(new URL("../../bin/hookwire.js", import.meta.url));
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
// An empty data folder: the SDK's fallback key (.hookwire/dev-api-key) must never leak into a test.
const EMPTY_DATA_DIR = mkdtempSync(join(tmpdir(), "hookwire-cli-"));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: Record<string, string | undefined>;
  /** Written to stdin, which is then closed; without it stdin is /dev/null. */
  input?: string;
  timeoutMs?: number;
}

export function cliEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, HOOKWIRE_DATA_DIR: EMPTY_DATA_DIR, ...extra };
  for (const k of ["HOOKWIRE_API_KEY", "HOOKWIRE_URL", "NO_COLOR", "FORCE_COLOR"]) if (!(k in extra)) delete env[k];
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
  return env;
}

/** Starts the CLI and hands back the process (for tail), its output so far, and its exit. */
export function spawnCli(args: string[], opts: CliOptions = {}): { child: ChildProcess; stdout: () => string; stderr: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: cliEnv(opts.env), stdio: [opts.input === undefined ? "ignore" : "pipe", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout!.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (err += c.toString()));
  if (opts.input !== undefined) child.stdin!.end(opts.input);
  const exited = new Promise<number | null>((res) => child.once("close", (code) => res(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Runs the CLI to its end. */
export async function runCli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  const run = spawnCli(args, opts);
  const timer = setTimeout(() => run.child.kill("SIGKILL"), opts.timeoutMs ?? 20_000);
  const code = await run.exited;
  clearTimeout(timer);
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}

/** Runs the CLI and parses its stdout as the one JSON document it must print. */
export async function runCliJson<T = any>(args: string[], opts: CliOptions = {}): Promise<T> {
  const r = await runCli([...args, "--json"], opts);
  if (r.code !== 0) throw new Error(`hookwire ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Runs the CLI on a pseudo-terminal (util-linux `script`), so stdout and stderr are TTYs. */
export async function runCliOnTerminal(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  const command = [process.execPath, BIN, ...args].map(quote).join(" ");
  const child = spawn("script", ["-qefc", command, "/dev/null"], { cwd: ROOT, env: cliEnv(opts.env), stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr.on("data", (c: Buffer) => (err += c.toString()));
  const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 20_000);
  const code = await new Promise<number | null>((res) => child.once("close", res));
  clearTimeout(timer);
  return { code, stdout: out, stderr: err };
}
