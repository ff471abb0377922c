// The soak figure's receivers, on 127.0.0.1 in the bench's own process (so a receive time and a Trigger's
// accept time come from one clock): one healthy endpoint per tenant that checks and records what arrives,
// and one server per bad kind (failing, slow, never answering, resetting), shared by the tenants by path.
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from "node:http";
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { verifyStandard } from "@hookwire/sdk/internal";

export const BAD_KINDS = ["failing", "slow", "never", "reset"] as const;
export type BadKind = (typeof BAD_KINDS)[number];

/** What one healthy endpoint saw: the first receive time of each webhook-id, and how often each came. */
export interface HealthyEndpoint {
  tenant: string;
  url: string;
  secret: string;
  /** webhook-id → performance.now() of its first genuine arrival. */
  firstSeen: Map<string, number>;
  /** webhook-id → genuine arrivals (more than one is a duplicate, which at-least-once allows). */
  arrivals: Map<string, number>;
  /** Requests without a webhook-id or whose Standard Webhooks signature did not verify: not counted above. */
  notGenuine: number;
}

export interface SoakReceivers {
  healthy: HealthyEndpoint[];
  /** The URL of a bad kind's endpoint for one tenant. */
  badUrl(kind: BadKind, tenant: string): string;
  /** Requests each bad kind got (the never-answering one: connections). */
  badHits: Record<BadKind, number>;
  /** Sockets the never-answering endpoint holds now, and at most at once. */
  neverOpen(): { now: number; peak: number };
  close(): Promise<void>;
}

const listen = async <S extends HttpServer | TcpServer>(server: S): Promise<number> => {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return (server.address() as AddressInfo).port;
};

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * `tenants` with their endpoint secrets (the healthy ones verify with them); `slowMs` is how long the slow
 * endpoint waits before it answers (longer than its subscriptions' timeout_ms, so every attempt times out).
 */
export async function startSoakReceivers(tenants: Array<{ tenant: string; secret: string }>, slowMs: number): Promise<SoakReceivers> {
  const servers: Array<HttpServer | TcpServer> = [];
  const healthy: HealthyEndpoint[] = [];
  for (const { tenant, secret } of tenants) {
    const ep: HealthyEndpoint = { tenant, url: "", secret, firstSeen: new Map(), arrivals: new Map(), notGenuine: 0 };
    const server = createHttpServer({ keepAliveTimeout: 60_000 }, (req, res) => {
      void readBody(req).then((body) => {
        const at = performance.now();
        const id = req.headers["webhook-id"];
        const ts = Number(req.headers["webhook-timestamp"]);
        const sig = req.headers["webhook-signature"];
        // Genuine: signed by Hookwire with this endpoint's secret (a forged or garbled one is not a delivery).
        const genuine = typeof id === "string" && typeof sig === "string" && id !== "" && verifyStandard({ webhookId: id, timestamp: ts, body, signature: sig, secret, toleranceSeconds: 3600 });
        if (genuine) {
          if (!ep.firstSeen.has(id)) ep.firstSeen.set(id, at);
          ep.arrivals.set(id, (ep.arrivals.get(id) ?? 0) + 1);
        } else ep.notGenuine++;
        res.writeHead(200, { "content-length": "2" }).end("ok");
      });
    });
    ep.url = `http://127.0.0.1:${await listen(server)}/${tenant}`;
    servers.push(server);
    healthy.push(ep);
  }

  const badHits: Record<BadKind, number> = { failing: 0, slow: 0, never: 0, reset: 0 };
  const failing = createHttpServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    req.resume();
    req.on("end", () => {
      badHits.failing++;
      res.writeHead(500, { "content-length": "4" }).end("fail");
    });
  });
  // The timers are cleared when Hookwire gives up on the request first, so none outlives the run.
  const slow = createHttpServer({ keepAliveTimeout: 60_000, requestTimeout: 0 }, (req, res) => {
    req.resume();
    badHits.slow++;
    const timer = setTimeout(() => res.writeHead(200, { "content-length": "2" }).end("ok"), slowMs);
    res.on("close", () => clearTimeout(timer));
  });
  // Accepts the connection and reads, never writes: Hookwire's timeout ends each one. Held sockets are
  // tracked so the run can show they stay bounded and close them at the end.
  const neverSockets = new Set<Socket>();
  let neverPeak = 0;
  const never = createTcpServer((socket) => {
    badHits.never++;
    neverSockets.add(socket);
    neverPeak = Math.max(neverPeak, neverSockets.size);
    socket.on("error", () => undefined);
    socket.on("close", () => neverSockets.delete(socket));
    socket.resume();
  });
  // Resets the connection (RST) as soon as the request starts to arrive.
  const reset = createTcpServer((socket) => {
    socket.on("error", () => undefined);
    socket.once("data", () => {
      badHits.reset++;
      socket.resetAndDestroy();
    });
  });
  const ports: Record<BadKind, number> = { failing: await listen(failing), slow: await listen(slow), never: await listen(never), reset: await listen(reset) };
  servers.push(failing, slow, never, reset);

  return {
    healthy,
    badUrl: (kind, tenant) => `http://127.0.0.1:${ports[kind]}/${kind}/${tenant}`,
    badHits,
    neverOpen: () => ({ now: neverSockets.size, peak: neverPeak }),
    async close() {
      for (const s of neverSockets) s.destroy();
      for (const s of servers) if ("closeAllConnections" in s) s.closeAllConnections();
      await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    },
  };
}
