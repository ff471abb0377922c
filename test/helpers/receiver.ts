// A real HTTP receiver on 127.0.0.1 that verifies every request it gets with independent libraries:
// standardwebhooks for the webhook-* headers, @octokit/webhooks-methods for x-hub-signature-256.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { verify as octokitVerify } from "@octokit/webhooks-methods";
import { Webhook } from "standardwebhooks";

export interface Received {
  at: number;
  path: string;
  headers: IncomingMessage["headers"];
  body: string;
  /** Both signatures checked out with the route's secret (false when the route has none). */
  verified: boolean;
  verifyError: string;
}

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  /** Never answer (the connection stays open until the receiver closes). */
  hang?: boolean;
  /** Answer after this long. */
  delayMs?: number;
}

export interface Route {
  secret?: string;
  /** n counts this route's requests from 1. */
  respond?: (n: number, req: Received) => Reply;
}

export interface Receiver {
  url(path: string): string;
  route(path: string, route: Route): void;
  requests(path?: string): Received[];
  waitFor(pred: (all: Received[]) => boolean, timeoutMs?: number): Promise<Received[]>;
  /** Answers every request left hanging so far with this status. */
  releaseHanging(status: number): void;
  close(): Promise<void>;
}

async function verifyBoth(secret: string, r: Received): Promise<string> {
  const h = r.headers;
  try {
    new Webhook(secret).verify(r.body, {
      "webhook-id": String(h["webhook-id"]),
      "webhook-timestamp": String(h["webhook-timestamp"]),
      "webhook-signature": String(h["webhook-signature"]),
    });
  } catch (err) {
    return `standardwebhooks: ${(err as Error).message}`;
  }
  if (!(await octokitVerify(secret, r.body, String(h["x-hub-signature-256"])))) return "octokit: x-hub-signature-256 does not verify";
  return "";
}

export async function startReceiver(): Promise<Receiver> {
  const routes = new Map<string, Route>();
  const seen: Received[] = [];
  const counts = new Map<string, number>();
  const hanging = new Set<ServerResponse>();
  const waiters = new Set<() => void>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      const path = (req.url ?? "/").split("?")[0]!;
      const r: Received = { at: Date.now(), path, headers: req.headers, body: Buffer.concat(chunks).toString("utf8"), verified: false, verifyError: "no secret" };
      const route = routes.get(path) ?? {};
      if (route.secret) {
        r.verifyError = await verifyBoth(route.secret, r);
        r.verified = r.verifyError === "";
      }
      seen.push(r);
      const n = (counts.get(path) ?? 0) + 1;
      counts.set(path, n);
      for (const w of waiters) w();
      const reply = route.respond?.(n, r) ?? { status: 200, body: "ok" };
      if (reply.hang) {
        hanging.add(res);
        return;
      }
      if (reply.delayMs) await new Promise((r) => setTimeout(r, reply.delayMs));
      if (res.destroyed) return;
      res.writeHead(reply.status, reply.headers);
      res.end(reply.body ?? "");
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    route: (path, route) => routes.set(path, route),
    requests: (path) => (path ? seen.filter((r) => r.path === path) : [...seen]),
    waitFor(pred, timeoutMs = 20_000) {
      return new Promise((resolveWait, reject) => {
        const check = () => {
          if (pred(seen)) {
            waiters.delete(check);
            clearTimeout(timer);
            resolveWait([...seen]);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`receiver: condition not met in ${timeoutMs} ms; got ${seen.length} requests`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    releaseHanging(status) {
      for (const res of hanging) if (!res.destroyed) res.writeHead(status).end();
      hanging.clear();
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
