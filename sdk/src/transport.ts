// The transport the SDK talks to Hookwire over, with the API key on it, so the generated client
// (`manager.client`) is authenticated as well as the manager's own calls.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Interceptor, Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";

export type Protocol = "grpc" | "connect" | "grpc-web";

export interface TransportOptions {
  /** Hookwire's address; HOOKWIRE_URL, else http://127.0.0.1:8080. */
  baseUrl?: string;
  /** HOOKWIRE_API_KEY, else the development key a local `npm start` keeps in .hookwire/dev-api-key. */
  apiKey?: string;
  /** Wire protocol: gRPC over HTTP/2 (default), Connect or gRPC-Web over HTTP/1.1. */
  protocol?: Protocol;
}

export const DEFAULT_BASE_URL = "http://127.0.0.1:8080";

function defaultApiKey(): string {
  if (process.env.HOOKWIRE_API_KEY) return process.env.HOOKWIRE_API_KEY;
  const dataDir = process.env.HOOKWIRE_DATA_DIR || ".hookwire";
  try {
    return readFileSync(join(dataDir, "dev-api-key"), "utf8").trim();
  } catch {
    return "";
  }
}

/** A Connect transport to Hookwire that sends `authorization: Bearer <key>` on every call. */
export function createHookwireTransport(options: TransportOptions = {}): Transport {
  const baseUrl = options.baseUrl ?? process.env.HOOKWIRE_URL ?? DEFAULT_BASE_URL;
  const apiKey = options.apiKey ?? defaultApiKey();
  const authorization = `Bearer ${apiKey}`;
  const auth: Interceptor = (next) => (req) => {
    if (apiKey) req.header.set("authorization", authorization);
    return next(req);
  };
  const interceptors = [auth];
  if (options.protocol === "connect") return createConnectTransport({ baseUrl, httpVersion: "1.1", interceptors });
  if (options.protocol === "grpc-web") return createGrpcWebTransport({ baseUrl, httpVersion: "1.1", interceptors });
  return createGrpcTransport({ baseUrl, interceptors });
}
