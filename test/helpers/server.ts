// Runs the real Hookwire server (server/main.ts) as a child process, the way `npm start` does.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { inject } from "vitest";
import { WebhookService } from "../../sdk/gen/hookwire/v1/webhook_service_pb.js";

const MAIN = fileURLToPath(new URL("../../server/main.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export const KEYS = {
  acme: "acme-key-0123456789",
  globex: "globex-key-0123456789",
} as const;

export interface RunningServer {
  port: number;
  baseUrl: string;
  child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Sends a signal and waits for the process to exit; answers the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface ServerOptions {
  /** Database name in the shared test FerretDB; a fresh one when omitted. */
  database?: string;
  env?: Record<string, string | undefined>;
  /** Resolve once the process exits instead of waiting for it to listen (for start-up failures). */
  expectExit?: boolean;
}

export function uniqueDatabase(prefix = "t"): string {
  return `${prefix}_${randomBytes(6).toString("hex")}`;
}

export function spawnServer(opts: ServerOptions = {}): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const env: Record<string, string | undefined> = {
    ...process.env,
    MONGODB_URI: inject("mongodbUri"),
    HOOKWIRE_DATABASE: opts.database ?? uniqueDatabase(),
    HOOKWIRE_PORT: "0",
    HOOKWIRE_HOST: "127.0.0.1",
    HOOKWIRE_API_KEYS: `acme:${KEYS.acme},globex:${KEYS.globex}`,
    HOOKWIRE_LOG_LEVEL: "info",
    ...opts.env,
  };
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
  const child = spawn(process.execPath, ["--import", "tsx", MAIN], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout?.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr?.on("data", (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((res) => child.once("exit", (code) => res(code)));
  return { child, output: () => out, exited };
}

export async function startServer(opts: ServerOptions = {}): Promise<RunningServer> {
  const { child, output, exited } = spawnServer(opts);
  const port = await new Promise<number>((resolvePort, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in time:\n${output()}`)), 60_000);
    const check = () => {
      const m = /"msg":"hookwire listening".*?"port":(\d+)/.exec(output());
      if (m?.[1]) {
        clearTimeout(timer);
        resolvePort(Number(m[1]));
      }
    };
    child.stdout?.on("data", check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${output()}`));
    });
  });
  return {
    port,
    baseUrl: `http://127.0.0.1:${port}`,
    child,
    output,
    async stop(signal = "SIGTERM") {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      return exited;
    },
  };
}

export function bearer(key: string): Record<string, string> {
  return { authorization: `Bearer ${key}` };
}

/** A generated-code client over gRPC (HTTP/2). */
export function grpcClient(server: RunningServer): Client<typeof WebhookService> {
  return createClient(WebhookService, createGrpcTransport({ baseUrl: server.baseUrl }));
}

/** A generated-code client over the Connect protocol on HTTP/1.1. */
export function connectClient(server: RunningServer): Client<typeof WebhookService> {
  return createClient(WebhookService, createConnectTransport({ baseUrl: server.baseUrl, httpVersion: "1.1" }));
}
