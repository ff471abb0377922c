// What every command gets from the global flags and the environment: the SDK manager, the address it
// talks to (for error lines), and whether to print JSON.
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import type { HookwireManager, WebhookManagerOptions } from "@hookwire/sdk";
import type { Command } from "commander";
import { UsageError } from "./exit-codes.js";

export interface GlobalOptions {
  apiKey?: string;
  url?: string;
  protocol?: WebhookManagerOptions["protocol"];
  json?: boolean;
}

export interface Context {
  manager: HookwireManager;
  baseUrl: string;
  json: boolean;
}

/** The SDK's default address (sdk/src/transport.ts), written here so that naming the address does not load the SDK. */
const DEFAULT_BASE_URL = "http://127.0.0.1:8080";

/** The address calls go to: --url, else HOOKWIRE_URL, else the SDK's default (as the SDK resolves it). */
export function baseUrlOf(options: GlobalOptions): string {
  return options.url ?? (process.env.HOOKWIRE_URL || DEFAULT_BASE_URL);
}

/**
 * Where the key that calls carry comes from, for the line a refused key prints: the flag, the variable, or the
 * development key file the SDK falls back to (sdk/src/transport.ts reads the same file), named in full, since a
 * HOOKWIRE_DATA_DIR of another server's makes the CLI read a key that server does not know.
 */
export function keySourceOf(options: GlobalOptions): string {
  if (options.apiKey !== undefined) return "the key came from --api-key";
  if (process.env.HOOKWIRE_API_KEY) return "the key came from HOOKWIRE_API_KEY";
  const dataDir = process.env.HOOKWIRE_DATA_DIR || ".hookwire";
  const file = resolve(dataDir, "dev-api-key");
  const dir = process.env.HOOKWIRE_DATA_DIR ? `HOOKWIRE_DATA_DIR=${process.env.HOOKWIRE_DATA_DIR}` : "HOOKWIRE_DATA_DIR unset";
  if (!existsSync(file)) return `no key was sent: HOOKWIRE_API_KEY is unset and ${file} does not exist (${dir})`;
  return `the key was read from ${file} (${dir}), the development key of the server started with that data folder`;
}

/** Loads the SDK on first use: `--help` and the local commands (sign, verify) start without it. */
export async function contextOf(command: Command): Promise<Context> {
  const { createWebhookManager } = await import("@hookwire/sdk");
  const options = command.optsWithGlobals<GlobalOptions>();
  const baseUrl = baseUrlOf(options);
  if (!/^https?:\/\/[^/\s]+/i.test(baseUrl)) {
    throw new UsageError(`${options.url !== undefined ? "--url" : "HOOKWIRE_URL"}: "${baseUrl}" is not an http:// or https:// address`);
  }
  // No apiKey when no flag: the SDK then reads HOOKWIRE_API_KEY, else a local npm start's dev key.
  const manager = createWebhookManager({ baseUrl, apiKey: options.apiKey, protocol: options.protocol });
  return { manager, baseUrl, json: options.json === true };
}
