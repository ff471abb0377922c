// The real Hookwire server for tests: a child process on the test run's FerretDB, with two tenants' keys.
import { randomBytes } from "node:crypto";
import { ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { inject } from "vitest";
import { WebhookService } from "@hookwire/sdk/proto";
import { spawnHookwire, startHookwire, type Env, type RunningServer } from "./hookwire-process.js";

export const KEYS = {
  acme: "acme-key-0123456789",
  globex: "globex-key-0123456789",
} as const;

export type { RunningServer };

export interface ServerOptions {
  /** Database name in the shared test FerretDB; a fresh one when omitted. */
  database?: string;
  env?: Env;
  /** Node flags before npm start's own (e.g. --inspect). */
  execArgv?: string[];
}

export function uniqueDatabase(prefix = "t"): string {
  return `${prefix}_${randomBytes(6).toString("hex")}`;
}

function testEnv(opts: ServerOptions): Env {
  return {
    MONGODB_URI: inject("mongodbUri"),
    HOOKWIRE_DATABASE: opts.database ?? uniqueDatabase(),
    HOOKWIRE_API_KEYS: `acme:${KEYS.acme},globex:${KEYS.globex}`,
    HOOKWIRE_LOG_LEVEL: "info",
    // The start-up warm-up runs in every test's server, short: long enough that its rig runs (so every test also
    // shows it leaves nothing behind), without its default 1.5 s on each of the suite's many starts.
    // test/e2e/warmup.test.ts runs it longer.
    HOOKWIRE_WARMUP_MS: "200",
    ...opts.env,
  };
}

/** For start-up failures: the process, without waiting for it to listen. */
export function spawnServer(opts: ServerOptions = {}) {
  return spawnHookwire(testEnv(opts));
}

/** The server on the run's FerretDB, listening on a free port. */
export function startServer(opts: ServerOptions = {}): Promise<RunningServer> {
  return startHookwire(testEnv(opts), opts.execArgv);
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

/** The error a call that must fail failed with. */
export async function failure(p: Promise<unknown>): Promise<ConnectError> {
  try {
    await p;
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error("expected the call to fail");
}
