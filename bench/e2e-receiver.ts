// The receiver of the end-to-end latency figure, its own process (as the peer runner's receiver is):
// `node --import tsx bench/e2e-receiver.ts OPENLOOP_CJS N`. Every delivery goes to the shared E2eRecorder
// (../shared/peers/e2e-latency/openloop.cjs), which keeps each event's arrival minus the publish start its
// payload carries; the recorder, the clock probes and the summary are that file's, so Hookwire is timed
// by the same code as the peers. Prints {"port"} once listening on 127.0.0.1, then "done" once every
// accepted event has arrived (POST /__expect lowers the count to what the publisher had accepted).
// GET /__e2e answers the summary. Every POST else is a delivery: 200, empty body.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { loadOpenLoop } from "./openloop.js";

const [path, nArg] = process.argv.slice(2);
const ol = loadOpenLoop(path!);
const n = Number(nArg);
const rec = new ol.E2eRecorder(n, "hookwire");
let want = n;
let done = false;
const checkDone = () => {
  if (!done && rec.delivered >= want) {
    done = true;
    process.stdout.write("done\n");
  }
};
const json = (res: import("node:http").ServerResponse, v: unknown) => {
  const body = JSON.stringify(v);
  res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) }).end(body);
};

const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  if (ol.handleProbe(req, res)) return;
  if (req.method === "GET" && req.url === "/__e2e") return json(res, rec.summary());
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    // Arrival is when the whole body is in, as the peer runner's receiver counts it.
    const t = ol.now();
    const body = Buffer.concat(chunks);
    if (req.url === "/__expect") {
      const m = Number((JSON.parse(body.toString() || "{}") as { n?: unknown }).n);
      if (Number.isInteger(m) && m >= 0) want = Math.min(n, m);
      checkDone();
      return json(res, { want });
    }
    rec.record(body, t);
    checkDone();
    res.writeHead(200, { "content-length": "0" }).end();
  });
});
server.listen(0, "127.0.0.1", () => process.stdout.write(JSON.stringify({ port: (server.address() as AddressInfo).port }) + "\n"));
process.on("SIGTERM", () => process.exit(0));
