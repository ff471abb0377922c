// The publisher of the end-to-end latency figure, its own process (as the peer runner's publisher is):
// `RATE=1000 DURATION_S=20 node --import tsx bench/e2e-publisher.ts OPENLOOP_CJS SERVER_PORT API_KEY RECEIVER_PORT`.
// The shared open loop (../shared/peers/e2e-latency/openloop.cjs) starts call k at start + k/RATE and
// stamps its payload {i, t0, s}; here each call is a Connect JSON Trigger over HTTP/1.1 keep-alive to
// 127.0.0.1, the one thing that differs from the peers' publishers. Clock probes to the receiver before
// and after, as theirs do; prints the summary as one JSON line.
import { Agent } from "node:http";
import { loadOpenLoop } from "./openloop.js";

const [path, serverPort, key, receiverPort] = process.argv.slice(2);
const ol = loadOpenLoop(path!);
const config = ol.openLoopConfig();
if (!config) throw new Error("RATE is not set");
const rxPort = Number(receiverPort);
const agent = new Agent({ keepAlive: true, maxSockets: config.maxInflight, maxFreeSockets: config.maxInflight });
const headers = { authorization: `Bearer ${key}` };
const probes: Record<string, unknown> = { before: await ol.probeClock(rxPort) };
const out = await ol.runOpenLoop({
  rate: config.rate,
  n: config.n,
  maxInflight: config.maxInflight,
  lateMs: config.lateMs,
  giveUpAtMs: ol.now() + config.durationS * 1000 + 30_000,
  send: (k, t0, done, s) =>
    ol.postJson(agent, Number(serverPort), "/hookwire.v1.WebhookService/Trigger", headers, JSON.stringify({ event: "peer.event", payload: { i: k, t0, s } }), [200], done),
});
agent.destroy();
await ol.postExpect(rxPort, out.accepted);
probes.after = await ol.probeClock(rxPort);
out.probes = probes;
process.stdout.write(JSON.stringify(out) + "\n");
