// The benchmark receiver, in its own process so its work does not share a core with the sender's event loop.
// Three ports: two answer 200 at once (two endpoints), the third never answers (for the slow-endpoint figure).
// GET /__stats on the first port: {count, distinct, byPath}; POST /__reset clears them.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

let count = 0;
const ids = new Set<string>();
const byPath = new Map<string, number>();

function ok(req: IncomingMessage, res: ServerResponse): void {
  if (req.method === "GET" && req.url === "/__stats") {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ count, distinct: ids.size, byPath: Object.fromEntries(byPath) }));
    return;
  }
  if (req.url === "/__reset") {
    count = 0;
    ids.clear();
    byPath.clear();
    res.writeHead(204).end();
    return;
  }
  req.resume();
  req.on("end", () => {
    count++;
    const id = req.headers["webhook-id"];
    if (typeof id === "string") ids.add(`${id} ${req.url}`);
    byPath.set(req.url ?? "/", (byPath.get(req.url ?? "/") ?? 0) + 1);
    // The peer figure's receiver answers 200 with an empty body, as in the peer's own measurement.
    if (req.url?.startsWith("/peer")) res.writeHead(200, { "content-length": "0" }).end();
    else {
      res.writeHead(200, { "content-length": "2" });
      res.end("ok");
    }
  });
}

const fast = createServer({ keepAliveTimeout: 60_000 }, ok);
const fast2 = createServer({ keepAliveTimeout: 60_000 }, ok);
const hang = createServer({ keepAliveTimeout: 60_000, requestTimeout: 0 }, (req) => req.resume());
await new Promise<void>((r) => fast.listen(0, "127.0.0.1", r));
await new Promise<void>((r) => fast2.listen(0, "127.0.0.1", r));
await new Promise<void>((r) => hang.listen(0, "127.0.0.1", r));
const portOf = (s: typeof fast) => (s.address() as AddressInfo).port;
process.stdout.write(JSON.stringify({ port: portOf(fast), port2: portOf(fast2), hangPort: portOf(hang) }) + "\n");
process.on("SIGTERM", () => process.exit(0));
