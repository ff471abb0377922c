// `npm run bench`: every figure beside a baseline measured in the same run, printed as one table and
// written to bench/results/latest.json. `--quick` runs tiny sizes (a smoke run, as CI may do).
import { spawn, spawnSync } from "node:child_process";
import { createHmac, timingSafeEqual } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { Agent as HttpAgent } from "node:http";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { fromJson } from "@bufbuild/protobuf";
import { ValueSchema } from "@bufbuild/protobuf/wkt";
import { createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { sign as octokitSign, verify as octokitVerify } from "@octokit/webhooks-methods";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { MongoClient } from "mongodb";
import { Webhook } from "standardwebhooks";
import { Pool } from "undici";
import { WebhookService } from "@hookwire/sdk/proto";
import { SignatureScheme } from "@hookwire/sdk/proto";
import { DeliveryStatus } from "@hookwire/sdk/proto";
import { generateSecret, signGithub, signStandard, verifyGithub, verifyStandard } from "@hookwire/sdk/internal";
import { startFerretDB } from "../server/dev/embedded-ferretdb.js";
import { signBody } from "../server/usecases/signatures.js";
import type { DeliveryDoc } from "../server/store/common/delivery-doc.js";
import { LOOPBACK_ONLY, startHookwire, type RunningServer } from "../test/helpers/hookwire-process.js";
import { soak } from "./soak.js";
import { ownersFigure } from "./owners.js";
import { coldStart } from "./cold.js";
import { cliStart } from "./cli-start.js";
import { ferretdbOf, serverPids, serverRssMb, openLoop, compareOps, type Figure, cpuMeter, opsPerSecond, opsPerSecondAsync, percentile, pool, rssMb, sleep, startReceiverProcess, stealMeter, type ReceiverProcess } from "./lib.js";
import { hookwireOpenLoop } from "./peer-e2e.js";
import { outpostSetup, peersDir, runOutpost } from "./peer-outpost.js";
import { inTurn, medianRound, ms, perSecond, table, times, type E2eFigures, type OutpostRun, type PeerRun } from "./peer-rounds.js";

const QUICK = process.argv.includes("--quick");
const arg = (name: string, fallback: number) => {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a ? Number(a.split("=")[1]) : fallback;
};
const SIZE = {
  rawRequests: QUICK ? 2000 : 20_000,
  concurrency: 32,
  e2eEvents: QUICK ? 100 : 2000,
  e2eSubscriptions: QUICK ? 5 : 10,
  latencyRate: arg("latency-rate", 500),
  latencySeconds: QUICK ? 1 : 5,
  latencyWarmSeconds: QUICK ? 1 : 5,
  // `hookwire --help` and `node -e 0`, each this many times (bench/cli-start.ts).
  cliRuns: arg("cli-runs", QUICK ? 5 : 30),
  // The cold-start rows (bench/cold.ts): issue 25's rate, from a fresh server's first Trigger, no warm-up of ours.
  coldRate: arg("cold-rate", 1000),
  coldSeconds: arg("cold-seconds", QUICK ? 1 : 2),
  coldRounds: arg("cold-rounds", QUICK ? 1 : 3),
  fanout: arg("fanout", QUICK ? 300 : 10_000),
  isolationEvents: QUICK ? 100 : 1000,
  // The issue's reproduction: one tenant's endpoint that never answers gets this many Triggers (20,500 filled
  // the one hold budget of 20,000 that every tenant shared); quick runs use shares of a fiftieth.
  stuckTriggers: QUICK ? 410 : 20_500,
  stuckShares: QUICK ? { HOOKWIRE_MAX_HELD_PER_TENANT: "400", HOOKWIRE_MAX_HELD_PER_ENDPOINT: "100" } : ({} as Record<string, string>),
  isolationProbes: QUICK ? 20 : 100,
  signIterations: QUICK ? 10_000 : 200_000,
  rpcCalls: QUICK ? 1000 : 10_000,
  peerEvents: arg("peer-events", QUICK ? 500 : 20_000),
  peerRuns: arg("peer-runs", QUICK ? 1 : 3),
  // Side by side with Outpost: rounds of Hookwire and Outpost in turn (the figure is the median round's ratio),
  // then rounds of the open-loop end-to-end latency (0 skips it) at a rate for some seconds.
  peerRounds: arg("peer-rounds", QUICK ? 1 : 3),
  peerE2eRounds: arg("peer-e2e-rounds", QUICK ? 1 : 3),
  peerE2eRate: arg("peer-e2e-rate", 1000),
  peerE2eSeconds: arg("peer-e2e-seconds", QUICK ? 3 : 20),
  // 1,000,000 is the target's size; FerretDB answers each take by scanning the whole queue in Go
  // (about 90 µs a document), so at that size the engine would wait minutes per take. --pending=N.
  pending: arg("pending", QUICK ? 2000 : 50_000),
  // Each pending delivery's message has a payload this large, one message per `pendingPerMessage`
  // deliveries: with bodies held per waiting delivery, 20,000 held would need 1.3 GB.
  payloadKb: arg("payload-kb", 64),
  pendingPerMessage: arg("per-message", QUICK ? 10 : 5),
  // Finished deliveries stored for the read figures; --reads=1000000 is the target's size (a long fill).
  reads: arg("reads", QUICK ? 5000 : 100_000),
  /** Deliveries of 64 KB messages sent through the API to an endpoint that never answers (the intake memory figure). */
  intake: arg("intake", QUICK ? 1000 : 30_000),
  /**
   * Worker processes of the server the intake figure starts (HOOKWIRE_WORKERS): the server's default with its FerretDB
   * on this machine, one per core but one.
   */
  memoryWorkers: arg("memory-workers", Math.max(1, cpus().length - 1)),
  /** Owners of one subscription each in one tenant (the owners figure). */
  owners: arg("owners", QUICK ? 2000 : 100_000),
  // The soak figure's length in seconds (--soak-seconds=N, or HOOKWIRE_SOAK_SECONDS), its offered rate, seed.
  soakSeconds: arg("soak-seconds", Number(process.env.HOOKWIRE_SOAK_SECONDS) || (QUICK ? 25 : 180)),
  soakRate: arg("soak-rate", 90),
  soakSeed: arg("soak-seed", 1),
};
// The store layout the read figures fill and read: --reads-layout=ferretdb (default) or mongodb (on the same FerretDB).
const READS_LAYOUT = process.argv.find((a) => a.startsWith("--reads-layout="))?.slice(15) === "mongodb" ? "mongodb" : "ferretdb";
const KEY = "bench-key-0123456789";
const auth = { headers: { authorization: `Bearer ${KEY}` } };

const figures: Figure[] = [];
const record = (f: Figure) => {
  figures.push(f);
  const ratio = f.ratio !== undefined ? ` (${(f.ratio * 100).toFixed(1)} % of ${f.baselineName})` : "";
  process.stderr.write(`  ${f.figure}: ${f.value.toFixed(1)} ${f.unit}${ratio}\n`);
};

const dir = mkdtempSync(join(tmpdir(), "hookwire-bench-"));
process.stderr.write(`hookwire bench${QUICK ? " (quick)" : ""}: starting FerretDB and the receiver process\n`);
const db = await startFerretDB({ dir: join(dir, "ferretdb") });
const rcv = await startReceiverProcess();
let dbNo = 0;
const servers: RunningServer[] = [];

/** `--cpu-prof-dir=DIR`: every server the run starts writes a V8 CPU profile there when it stops. */
const CPU_PROF_DIR = process.argv.find((a) => a.startsWith("--cpu-prof-dir="))?.slice("--cpu-prof-dir=".length);

async function hookwire(env: Record<string, string> = {}): Promise<{ server: RunningServer; client: Client<typeof WebhookService> }> {
  const execArgv = CPU_PROF_DIR ? ["--cpu-prof", `--cpu-prof-dir=${CPU_PROF_DIR}`] : [];
  const server = await startHookwire({
    MONGODB_URI: db.uri,
    HOOKWIRE_DATABASE: `bench_${++dbNo}`,
    HOOKWIRE_API_KEYS: `bench:${KEY}`,
    HOOKWIRE_ALLOW_PRIVATE_URLS: "true",
    // Benches deliver to receivers on this machine only (startHookwire sets it too; here it is in sight).
    HOOKWIRE_EGRESS_ALLOW: LOOPBACK_ONLY,
    HOOKWIRE_LOG_LEVEL: "info", // the port is read from the "listening" line
    ...env,
  }, execArgv);
  servers.push(server);
  return { server, client: createClient(WebhookService, createGrpcTransport({ baseUrl: server.baseUrl })) };
}

const json = (v: unknown) => fromJson(ValueSchema, v as never);
const samplePayload = { order: { id: 12345, total: "99.90", currency: "EUR", lines: [{ sku: "A-1", qty: 2 }, { sku: "B-7", qty: 1 }] }, customer: "cus_123" };
const sampleBody = JSON.stringify({ event: "order.created", payload: samplePayload, timestamp: new Date().toISOString() });

async function rawCeiling(): Promise<number> {
  const origin = `http://127.0.0.1:${rcv.port}`;
  const http = new Pool(origin, { connections: SIZE.concurrency, pipelining: 1 });
  const secret = generateSecret();
  const now = Math.floor(Date.now() / 1000);
  const headers = {
    "content-type": "application/json",
    "webhook-id": "msg_raw",
    "webhook-timestamp": String(now),
    "webhook-signature": signStandard("msg_raw", now, sampleBody, secret),
    "x-hub-signature-256": signGithub(sampleBody, secret),
    "x-webhook-event": "order.created",
  };
  const post = async () => {
    const res = await http.request({ path: "/raw", method: "POST", headers, body: sampleBody });
    await res.body.dump();
  };
  await pool(Math.min(2000, SIZE.rawRequests), SIZE.concurrency, post); // warm-up
  const t = performance.now();
  await pool(SIZE.rawRequests, SIZE.concurrency, post);
  const rate = SIZE.rawRequests / ((performance.now() - t) / 1000);
  await http.close();
  return rate;
}

async function endToEnd(raw: number): Promise<void> {
  const { client, server } = await hookwire();
  for (let i = 0; i < SIZE.e2eSubscriptions; i++) await client.register({ url: rcv.url(`/e2e/${i}`), events: ["order.*"] }, auth);
  const trigger = () => client.trigger({ event: "order.created", payload: json(samplePayload) }, auth);
  // Warm-up: connection pools, JIT, the subscription cache.
  await pool(Math.min(100, SIZE.e2eEvents), 16, trigger);
  await rcv.waitForCount(Math.min(100, SIZE.e2eEvents) * SIZE.e2eSubscriptions, 60_000);
  await rcv.reset();
  const total = SIZE.e2eEvents * SIZE.e2eSubscriptions;
  // CPU per delivery of the server and of the run's FerretDB (which only this server uses meanwhile).
  const cpu = cpuMeter({ server: serverPids(server.child.pid!), ferretdb: db.process.pid! });
  const t = performance.now();
  await pool(SIZE.e2eEvents, 16, trigger);
  const done = await rcv.waitForCount(total, 300_000);
  const rate = total / ((done - t) / 1000);
  const perDelivery = cpu.perUnit(total);
  record({
    figure: "end-to-end deliveries/s",
    value: rate,
    unit: "deliveries/s",
    baseline: raw,
    baselineName: "raw HTTP ceiling",
    ratio: rate / raw,
    target: ">= 10000/s",
    met: rate >= 10_000,
    note: `${SIZE.e2eEvents} triggers x ${SIZE.e2eSubscriptions} subscriptions; CPU per delivery: server ${perDelivery.server.toFixed(0)} µs, FerretDB ${perDelivery.ferretdb.toFixed(0)} µs`,
  });
}

/**
 * The peer figure's callers: `--peer-client=plain` (the default) calls as a plain publisher would,
 * Connect JSON with undici POSTs (HTTP/1.1, keep-alive) and gRPC with grpc-go (bench/grpc-caller, its
 * own process); `--peer-client=grpc-js` makes the gRPC calls with @grpc/grpc-js from the .proto files in
 * this process (it takes 0.37-0.42 ms of the shared cores a Trigger, more than Hookwire's store);
 * `--peer-client=connect-node` uses our SDK's transports (heavier callers, on the same 2 cores).
 */
const PEER_CLIENT = process.argv.find((a) => a.startsWith("--peer-client="))?.slice(14) ?? "plain";

/** Triggers as Connect JSON POSTs over HTTP/1.1 keep-alive (undici), the payload made per call by `payload`. */
function plainTrigger(port: number, payload: unknown | ((i: number) => unknown), event = "order.created"): ((i?: number) => Promise<void>) & { close(): Promise<void> } {
  const post = plainCall(port, "Trigger");
  const call = (i = 0) => post({ event, payload: typeof payload === "function" ? (payload as (i: number) => unknown)(i) : payload });
  return Object.assign(call, { close: post.close });
}

function grpcJsTrigger(port: number): ((i: number) => Promise<void>) & { close(): Promise<void> } {
  const def = protoLoader.loadSync("hookwire/v1/webhook_service.proto", { includeDirs: [fileURLToPath(new URL("../proto", import.meta.url))] });
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    hookwire: { v1: { WebhookService: new (addr: string, creds: grpc.ChannelCredentials) => grpc.Client & Record<string, Function> } };
  };
  const stub = new pkg.hookwire.v1.WebhookService(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const md = new grpc.Metadata();
  md.set("authorization", `Bearer ${KEY}`);
  const call = (i: number) =>
    new Promise<void>((resolve, reject) => {
      const payload = { structValue: { fields: { i: { numberValue: i }, note: { stringValue: "bench" } } } };
      stub.Trigger!({ event: "peer.event", payload }, md, (err: Error | null) => (err ? reject(err) : resolve()));
    });
  return Object.assign(call, { close: async () => stub.close() });
}

/** bench/grpc-caller built once per bench run, with the machine's Go toolchain. */
let grpcCaller: string | undefined;
function grpcCallerBinary(): string {
  if (grpcCaller) return grpcCaller;
  const binary = join(dir, "grpc-caller");
  const src = fileURLToPath(new URL("./grpc-caller", import.meta.url));
  const build = spawnSync("go", ["build", "-o", binary, "."], { cwd: src, stdio: ["ignore", "inherit", "inherit"] });
  if (build.status !== 0) throw new Error(`building bench/grpc-caller failed (go build: ${build.error?.message ?? `status ${build.status}`})`);
  return (grpcCaller = binary);
}

/**
 * The Go gRPC caller (bench/grpc-caller), started for one run: it makes `warmup` calls as it starts,
 * then `calls` measured ones when `run` is called, and exits at `end`.
 */
async function goPeerCaller(port: number, calls: number, warmup: number, extra: string[] = []): Promise<{ pid: number; run(): Promise<{ elapsedMs: number; latencies: { p50: number; p99: number } }>; end(): void }> {
  const child = spawn(grpcCallerBinary(), [`-addr=127.0.0.1:${port}`, `-key=${KEY}`, `-n=${calls}`, `-warmup=${warmup}`, `-c=${SIZE.concurrency}`, ...extra], { stdio: ["pipe", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const exited = new Promise<never>((_, reject) => child.once("exit", (code) => reject(new Error(`bench/grpc-caller exited (${code}) before its figures`))));
  const next = async () => (await Promise.race([lines.next(), exited])).value as string;
  if ((await next()) !== "ready") throw new Error("bench/grpc-caller did not say ready");
  return {
    pid: child.pid!,
    async run() {
      child.stdin!.write("go\n");
      const r = JSON.parse(await next()) as { elapsedMs: number; p50Ms: number; p99Ms: number };
      return { elapsedMs: r.elapsedMs, latencies: { p50: r.p50Ms, p99: r.p99Ms } };
    },
    // It stays until then, so that its CPU time can be read to the last delivery.
    end: () => void child.stdin!.end(),
  };
}

/** `--peer-workers=1,2`: the HOOKWIRE_WORKERS values the peer figures run Hookwire with, each in every round. */
const PEER_WORKERS = (process.argv.find((a) => a.startsWith("--peer-workers="))?.slice(15) ?? "1,2")
  .split(",")
  .map(Number)
  .filter((w) => Number.isInteger(w) && w > 0);
const workersLabel = (w: number) => `${w} worker${w === 1 ? "" : "s"}`;
const protocolLabel = (p: "connect" | "grpc") => (p === "connect" ? "Connect JSON, HTTP/1.1, 32 connections" : "gRPC, one HTTP/2 connection, 32 in flight");

/** Tables the peer figures add below the main one: every round, side by side. */
const sections: string[][] = [];

/**
 * The peer's workload (issue 10): one tenant, one destination, PEER_EVENTS single events of a small
 * payload, a closed loop of 32 calls in flight, against a server started as `npm start` starts it (its
 * own embedded FerretDB). Over Connect JSON on HTTP/1.1 keep-alive (32 connections) and over gRPC on one
 * HTTP/2 connection, with each `--peer-workers` count. When Hookdeck Outpost's binaries are built (outside
 * this repo: ../shared/peers/outpost/README.md), Hookwire and Outpost run in alternating rounds
 * (`--peer-rounds`, 3) and each figure is the median round's ratio; then the open-loop end-to-end latency,
 * the same way. Without them, Hookwire alone as before: the best of `--peer-runs`, beside Outpost's figures
 * from an older machine.
 */
async function peer(): Promise<void> {
  // --peer-protocols=grpc runs one protocol.
  const chosen = (process.argv.find((a) => a.startsWith("--peer-protocols="))?.slice(17) ?? "connect,grpc").split(",");
  const protocols = (["connect", "grpc"] as const).filter((p) => chosen.includes(p));
  const { benchSh, missing } = outpostSetup();
  if (missing.length > 0) {
    const readme = join(peersDir(), "outpost", "README.md");
    process.stderr.write(`  THE PEER IS NOT BUILT: Hookdeck Outpost's runner or binaries are missing (${missing.join(", ")}).\n  Build it yourself outside this repo, see ${readme}; Hookwire runs alone.\n`);
    await peerAlone(protocols, `the peer is not built (missing ${missing.join(", ")}; see ${readme})`);
  } else {
    await peerSideBySide(protocols, benchSh);
  }
  if (SIZE.peerE2eRounds > 0) await peerE2e(missing.length > 0 ? undefined : benchSh);
}

/** Hookwire alone (no peer built): the best of `--peer-runs` runs, beside Outpost's figures from an older machine. */
async function peerAlone(protocols: Array<"connect" | "grpc">, why: string): Promise<void> {
  for (const workers of PEER_WORKERS) {
    for (const protocol of protocols) {
      const runs: PeerRun[] = [];
      for (let r = 0; r < SIZE.peerRuns; r++) runs.push(await peerRun(protocol, workers));
      // The best run stands for the figure, as the peer's best run does; the note gives every run.
      const best = runs.reduce((a, b) => (b.delivered > a.delivered ? b : a));
      const name = `${protocolLabel(protocol)}; ${best.caller} client; ${workersLabel(workers)}`;
      const of = runs.length > 1 ? `, best of ${runs.length} runs` : "";
      const each = runs.map((r) => `${r.delivered.toFixed(0)}/s p99 ${r.p99.toFixed(1)} ms at ${r.steal.toFixed(0)} % steal (CPU ms per Trigger: ${r.cpu})`).join("; ");
      record({ figure: `peer workload (${name}): accepted`, value: best.accepted, unit: "Triggers/s", baseline: 1528, baselineName: "Outpost's best, older machine", ratio: best.accepted / 1528, target: "figure" });
      record({
        figure: `peer workload (${name}): delivered`,
        value: best.delivered,
        unit: "deliveries/s",
        baseline: 1513,
        baselineName: "Outpost's best, older machine",
        ratio: best.delivered / 1513,
        target: ">= 3000/s (2x the peer)",
        met: best.delivered >= 3000,
        note: `${why}; ${SIZE.peerEvents} events${of}; Outpost 1.2.0 on an older machine of this kind: 1,368-1,513 delivered/s (stale: side by side on this machine it did 1,789-2,527/s); runs: ${each}; steal is the machine's CPU time taken by its host`,
      });
      record({ figure: `peer workload (${name}): Trigger p50`, value: best.p50, unit: "ms", target: "figure", note: "Outpost (older machine): 19-21 ms" });
      record({ figure: `peer workload (${name}): Trigger p99`, value: best.p99, unit: "ms", target: "<= 40 ms", met: best.p99 <= 40, note: "Outpost (older machine): 49-56 ms" });
    }
  }
}

/** One round's runs: Hookwire's by protocol and worker count, and Outpost's (absent when its run failed). */
interface PeerRound {
  no: number;
  hookwire: Map<string, PeerRun>;
  outpost?: OutpostRun;
}
const runKey = (protocol: "connect" | "grpc", workers: number) => `${protocol}/${workers}`;

/**
 * Hookwire and Outpost in alternating rounds, each round every Hookwire variant (protocol x workers, each on a
 * fresh server) and one Outpost run (its runner starts everything fresh too). Who goes first alternates, so a
 * drift of the machine over the run does not always favour the same side. A figure is the median round's
 * ratio (Hookwire / Outpost of the same round), every round in its note and in the table printed below.
 */
async function peerSideBySide(protocols: Array<"connect" | "grpc">, benchSh: string): Promise<void> {
  const rounds: PeerRound[] = [];
  for (let no = 1; no <= SIZE.peerRounds; no++) {
    const round: PeerRound = { no, hookwire: new Map() };
    const hookwireTurn = async () => {
      for (const workers of PEER_WORKERS) for (const protocol of protocols) round.hookwire.set(runKey(protocol, workers), await peerRun(protocol, workers));
    };
    const outpostTurn = async () => {
      process.stderr.write(`  (round ${no}: Outpost, bash ${benchSh} ${SIZE.peerEvents})\n`);
      try {
        const r = await runOutpost(benchSh, SIZE.peerEvents);
        const f = r.fields;
        round.outpost = { accepted: f["publish/s"]!, delivered: f["deliveries/s"]!, p50: f.publish_p50_ms!, p99: f.publish_p99_ms!, complete: r.code === 0 };
        process.stderr.write(`  (run: Outpost ${r.line}${r.code === 0 ? "" : ` INCOMPLETE (exit ${r.code})`}; its logs in ${r.runDir})\n`);
      } catch (err) {
        process.stderr.write(`  (round ${no}: Outpost failed, the round has no ratio: ${(err as Error).message})\n`);
      }
    };
    await inTurn(no, hookwireTurn, outpostTurn);
    const o = round.outpost;
    const parts = [...round.hookwire].map(([k, r]) => `${k} ${perSecond(r.delivered)} p99 ${ms(r.p99)}${o ? ` = ${times(r.delivered / o.delivered)}` : ""}`);
    process.stderr.write(`  round ${no}: Outpost ${o ? `${perSecond(o.delivered)} p99 ${ms(o.p99)}` : "failed"}; Hookwire ${parts.join("; ")}\n`);
    rounds.push(round);
  }
  const compared = rounds.filter((r): r is PeerRound & { outpost: OutpostRun } => r.outpost !== undefined);
  if (compared.length === 0) throw new Error("peer: every Outpost run failed, no round to compare (its runner's output is above)");
  const of = `median of ${compared.length} round${compared.length === 1 ? "" : "s"}${compared.length < rounds.length ? ` (${rounds.length - compared.length} without an Outpost result)` : ""}`;
  for (const workers of PEER_WORKERS) {
    for (const protocol of protocols) {
      const key = runKey(protocol, workers);
      const hw = (r: PeerRound) => r.hookwire.get(key)!;
      const name = `${protocolLabel(protocol)}; ${hw(compared[0]!).caller} client; ${workersLabel(workers)}`;
      const each = compared.map((r) => `round ${r.no}: ${perSecond(hw(r).delivered)} p99 ${ms(hw(r).p99)} vs Outpost ${perSecond(r.outpost.delivered)} p99 ${ms(r.outpost.p99)}${r.outpost.complete ? "" : " (incomplete)"} = ${times(hw(r).delivered / r.outpost.delivered)}, ${hw(r).steal.toFixed(0)} % steal, CPU ms per Trigger: ${hw(r).cpu}`).join("; ");
      const delivered = medianRound(compared, (r) => hw(r).delivered / r.outpost.delivered, true);
      const accepted = medianRound(compared, (r) => hw(r).accepted / r.outpost.accepted, true);
      const p50 = medianRound(compared, (r) => hw(r).p50 / r.outpost.p50, false);
      const p99 = medianRound(compared, (r) => hw(r).p99 / r.outpost.p99, false);
      const connect = protocol === "connect";
      const dRatio = hw(delivered).delivered / delivered.outpost.delivered;
      record({ figure: `peer workload (${name}): accepted`, value: hw(accepted).accepted, unit: "Triggers/s", baseline: accepted.outpost.accepted, baselineName: `Outpost, round ${accepted.no}`, ratio: hw(accepted).accepted / accepted.outpost.accepted, target: "figure" });
      record({
        figure: `peer workload (${name}): delivered`,
        value: hw(delivered).delivered,
        unit: "deliveries/s",
        baseline: delivered.outpost.delivered,
        baselineName: `Outpost, round ${delivered.no}`,
        ratio: dRatio,
        target: connect ? ">= 2x Outpost" : "> Outpost",
        met: connect ? dRatio >= 2 : dRatio > 1,
        note: `${SIZE.peerEvents} events, ${of}, Outpost 1.2.0 beside it in each; ${each}`,
      });
      record({ figure: `peer workload (${name}): Trigger p50`, value: hw(p50).p50, unit: "ms", baseline: p50.outpost.p50, baselineName: `Outpost's publish p50, round ${p50.no}`, ratio: hw(p50).p50 / p50.outpost.p50, target: "figure" });
      const pRatio = hw(p99).p99 / p99.outpost.p99;
      record({ figure: `peer workload (${name}): Trigger p99`, value: hw(p99).p99, unit: "ms", baseline: p99.outpost.p99, baselineName: `Outpost's publish p99, round ${p99.no}`, ratio: pRatio, target: connect ? "<= Outpost's" : "figure", ...(connect ? { met: pRatio <= 1 } : {}) });
    }
  }
  // Every round side by side: delivered/s and Trigger p99 of each, Hookwire's ratio to the same round's Outpost.
  const columns = PEER_WORKERS.flatMap((w) => protocols.map((p) => [p, w] as const));
  const cell = (r: PeerRun | undefined, o: OutpostRun | undefined) => (r ? `${perSecond(r.delivered)}, ${ms(r.p99)}${o ? `, ${times(r.delivered / o.delivered)}` : ""}` : "-");
  const rows = rounds.map((r) => [String(r.no), r.outpost ? `${perSecond(r.outpost.delivered)}, ${ms(r.outpost.p99)}${r.outpost.complete ? "" : " (incomplete)"}` : "failed", ...columns.map(([p, w]) => cell(r.hookwire.get(runKey(p, w)), r.outpost))]);
  const medianRatio = (p: "connect" | "grpc", w: number) => {
    const m = medianRound(compared, (r) => r.hookwire.get(runKey(p, w))!.delivered / r.outpost.delivered, true);
    return `${times(m.hookwire.get(runKey(p, w))!.delivered / m.outpost.delivered)} (round ${m.no})`;
  };
  rows.push(["median", "", ...columns.map(([p, w]) => medianRatio(p, w))]);
  sections.push([
    `Peer workload, side by side (delivered/s, Trigger p99, ratio of delivered/s to the same round's Outpost; ${SIZE.peerEvents} events, 32 in flight):`,
    "",
    ...table(["round", "Outpost 1.2.0 (HTTP JSON)", ...columns.map(([p, w]) => `Hookwire ${p === "connect" ? "Connect JSON" : "gRPC"}, ${workersLabel(w)}`)], rows),
  ]);
}

/** One run of the peer workload on a server of its own (`npm start`'s embedded store, a fresh data folder). */
async function peerRun(protocol: "connect" | "grpc", workers: number): Promise<PeerRun> {
  // --ferretdb-debug-addr=127.0.0.1:PORT opens the embedded FerretDB's pprof.
  const debugAddr = process.argv.find((a) => a.startsWith("--ferretdb-debug-addr="))?.slice(22);
  const dataDir = mkdtempSync(join(tmpdir(), "hookwire-peer-"));
  const { server } = await hookwire({ MONGODB_URI: "", HOOKWIRE_DATA_DIR: dataDir, HOOKWIRE_WORKERS: String(workers), ...(debugAddr ? { HOOKWIRE_FERRETDB_DEBUG_ADDR: debugAddr } : {}) });
  const agent = new HttpAgent({ keepAlive: true, maxSockets: SIZE.concurrency });
  const transport =
    protocol === "connect"
      ? createConnectTransport({ baseUrl: server.baseUrl, httpVersion: "1.1", nodeOptions: { agent } })
      : createGrpcTransport({ baseUrl: server.baseUrl });
  const client = createClient(WebhookService, transport);
  await client.register({ url: rcv.url(`/peer/${protocol}`), events: ["peer.*"] }, auth);
  const caller = protocol === "grpc" && PEER_CLIENT === "plain" ? "grpc-go" : protocol === "grpc" && PEER_CLIENT === "grpc-js" ? "grpc-js" : PEER_CLIENT === "connect-node" ? "connect-node" : "undici";
  const plain = caller === "undici" ? plainTrigger(server.port, (i: number) => ({ i, note: "bench" }), "peer.event") : caller === "grpc-js" ? grpcJsTrigger(server.port) : undefined;
  const trigger = plain ?? ((i: number) => client.trigger({ event: "peer.event", payload: json({ i, note: "bench" }) }, auth).then(() => undefined));
  // The Go caller warms up by itself; the others here: pools, JIT, the subscription cache.
  const go = caller === "grpc-go" ? await goPeerCaller(server.port, SIZE.peerEvents, 1000) : undefined;
  if (!go) await pool(1000, SIZE.concurrency, trigger);
  await rcv.waitForCount(1000, 120_000);
  await rcv.reset();
  // The server's processes but its FerretDB count as the server (its worker processes, when it has them).
  const serverPid = server.child.pid!;
  const cpu = cpuMeter({ server: serverPids(serverPid), "its FerretDB": ferretdbOf(serverPid), receiver: rcv.child.pid!, callers: go?.pid ?? process.pid });
  const steal = stealMeter();
  const t = performance.now();
  let acceptedMs: number;
  let p50: number;
  let p99: number;
  if (go) {
    const r = await go.run();
    ({ p50, p99 } = r.latencies);
    acceptedMs = r.elapsedMs;
  } else {
    const latencies: number[] = [];
    await pool(SIZE.peerEvents, SIZE.concurrency, async (i) => {
      const start = performance.now();
      await trigger(i);
      latencies.push(performance.now() - start);
    });
    acceptedMs = performance.now() - t;
    latencies.sort((a, b) => a - b);
    p50 = percentile(latencies, 50);
    p99 = percentile(latencies, 99);
  }
  const delivered = await rcv.waitForCount(SIZE.peerEvents, 600_000);
  const cpuPerTrigger = Object.entries(cpu.perUnit(SIZE.peerEvents)).map(([k, us]) => `${k} ${(us / 1000).toFixed(3)}`).join(", ");
  go?.end();
  const run: PeerRun = {
    caller,
    accepted: SIZE.peerEvents / (acceptedMs / 1000),
    delivered: SIZE.peerEvents / ((delivered - t) / 1000),
    p50,
    p99,
    cpu: cpuPerTrigger,
    steal: 100 * steal.share(),
  };
  process.stderr.write(`  (run: Hookwire ${protocol}, ${workersLabel(workers)}: ${run.delivered.toFixed(0)} delivered/s, p99 ${p99.toFixed(1)} ms, steal ${run.steal.toFixed(0)} %; CPU ms per Trigger: ${cpuPerTrigger})\n`);
  agent.destroy();
  await plain?.close();
  await server.stop();
  rmSync(dataDir, { recursive: true, force: true });
  return run;
}

/**
 * End-to-end delivery latency from a fresh start (issue 25): an open loop at `--peer-e2e-rate` (1,000/s) for
 * `--peer-e2e-seconds` (20), publish start to the receiver's first arrival, every event counted from the
 * first. Hookwire on a server just started (with each `--peer-workers` count), one subscription, Connect JSON
 * Triggers; Outpost through its runner's open loop; both driven and timed by the same shared code
 * (../shared/peers/e2e-latency/openloop.cjs). Rounds alternate as the closed-loop ones do; a figure is the
 * median round's ratio. Without the peer built, Hookwire alone.
 */
async function peerE2e(benchSh: string | undefined): Promise<void> {
  const openloop = join(peersDir(), "e2e-latency", "openloop.cjs");
  if (!existsSync(openloop)) {
    process.stderr.write(`  (no end-to-end latency figure: the shared open loop is not at ${openloop})\n`);
    return;
  }
  const { rate, seconds } = { rate: SIZE.peerE2eRate, seconds: SIZE.peerE2eSeconds };
  interface E2eRound { no: number; hookwire: Map<number, E2eFigures>; outpost?: E2eFigures }
  const rounds: E2eRound[] = [];
  for (let no = 1; no <= SIZE.peerE2eRounds; no++) {
    const round: E2eRound = { no, hookwire: new Map() };
    const hookwireTurn = async () => {
      for (const workers of PEER_WORKERS) {
        const dataDir = mkdtempSync(join(tmpdir(), "hookwire-peer-e2e-"));
        const { server } = await hookwire({ MONGODB_URI: "", HOOKWIRE_DATA_DIR: dataDir, HOOKWIRE_WORKERS: String(workers) });
        try {
          const r = await hookwireOpenLoop({ openloop, port: server.port, key: KEY, rate, seconds });
          round.hookwire.set(workers, { p50: r.rx.e2e_ms.p50, p99: r.rx.e2e_ms.p99, max: r.rx.e2e_ms.max, delivered: r.rx.delivered, offered: r.pub.offered, complete: r.complete });
          for (const l of r.details) process.stderr.write(`    [hookwire ${workersLabel(workers)}] ${l}\n`);
          process.stderr.write(`  (run: ${r.line}${r.complete ? "" : " INCOMPLETE"}; ${workersLabel(workers)})\n`);
        } finally {
          await server.stop();
          rmSync(dataDir, { recursive: true, force: true });
        }
      }
    };
    const outpostTurn = async () => {
      if (!benchSh) return;
      process.stderr.write(`  (round ${no}: Outpost, RATE=${rate} DURATION_S=${seconds} bash ${benchSh})\n`);
      try {
        const r = await runOutpost(benchSh, 1, { rate, seconds });
        const f = r.fields;
        round.outpost = { p50: f.e2e_p50_ms!, p99: f.e2e_p99_ms!, max: f.e2e_max_ms!, delivered: f.delivered!, offered: f.offered!, complete: r.code === 0 };
        process.stderr.write(`  (run: ${r.line}${r.code === 0 ? "" : ` INCOMPLETE (exit ${r.code})`}; its logs in ${r.runDir})\n`);
      } catch (err) {
        process.stderr.write(`  (round ${no}: Outpost failed, the round has no ratio: ${(err as Error).message})\n`);
      }
    };
    await inTurn(no, hookwireTurn, outpostTurn);
    rounds.push(round);
  }
  const fmt = (e: E2eFigures | undefined) => (e ? `${ms(e.p50)} / ${ms(e.p99)} / ${ms(e.max)}${e.complete && e.delivered === e.offered ? "" : ` (${e.delivered} of ${e.offered} delivered)`}` : "-");
  const what = `open loop at ${rate}/s for ${seconds} s from a fresh start, publish start to first arrival, every event from the first`;
  const compared = rounds.filter((r): r is E2eRound & { outpost: E2eFigures } => r.outpost !== undefined);
  for (const workers of PEER_WORKERS) {
    const hw = (r: E2eRound) => r.hookwire.get(workers)!;
    const each = rounds.map((r) => `round ${r.no}: p50/p99/max ${fmt(hw(r))}${r.outpost ? ` vs Outpost ${fmt(r.outpost)}` : ""}`).join("; ");
    for (const stat of ["p99", "max"] as const) {
      const figure = `end-to-end latency ${stat} (${rate}/s open loop, fresh start; ${workersLabel(workers)})`;
      if (compared.length === 0) {
        const m = medianRound(rounds, (r) => hw(r)[stat], false);
        const note = `${what}; median of ${rounds.length}, no Outpost run (${benchSh ? "its runs failed" : "the peer is not built"}; Outpost 1.2.0 measured 2026-12-07: p99 61-63 ms, max 78-81 ms); ${each}`;
        record({ figure, value: hw(m)[stat], unit: "ms", target: "< Outpost's", ...(stat === "p99" ? { note } : {}) });
        continue;
      }
      const m = medianRound(compared, (r) => hw(r)[stat] / r.outpost[stat], false);
      const ratio = hw(m)[stat] / m.outpost[stat];
      record({
        figure,
        value: hw(m)[stat],
        unit: "ms",
        baseline: m.outpost[stat],
        baselineName: `Outpost, round ${m.no}`,
        ratio,
        target: "< Outpost's",
        met: ratio < 1 && hw(m).complete && hw(m).delivered === hw(m).offered,
        ...(stat === "p99" ? { note: `${what}; median round of ${compared.length} by the ratio; ${each}` } : {}),
      });
    }
  }
  sections.push([
    `End-to-end delivery latency, side by side (p50 / p99 / max; ${what}):`,
    "",
    ...table(
      ["round", "Outpost 1.2.0", ...PEER_WORKERS.map((w) => `Hookwire, ${workersLabel(w)}`)],
      rounds.map((r) => [String(r.no), benchSh ? fmt(r.outpost) : "not built", ...PEER_WORKERS.map((w) => fmt(r.hookwire.get(w)))]),
    ),
  ]);
}

/**
 * Server CPU per call by stage, over Connect JSON (undici, 32 connections) to a server started as `npm start`
 * starts it: `Sign` is the RPC alone, a Trigger no subscription matches adds the store's accept, a Trigger to
 * one subscription adds the delivery. From /proc, so the machine's speed moves it less than a rate; the
 * baseline is the receiver's CPU per POST it answers (a bare node:http server) in the same run.
 */
async function cpuPerCall(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), "hookwire-cost-"));
  const { server, client } = await hookwire({ MONGODB_URI: "", HOOKWIRE_DATA_DIR: dataDir });
  const n = QUICK ? 500 : 10_000;
  const pid = server.child.pid!;
  const ferretdb = ferretdbOf(pid);
  const sign = plainCall(server.port, "Sign");
  const trigger = plainTrigger(server.port, (i: number) => ({ i, note: "bench" }), "cost.event");
  let expected = 0;
  const measure = async (fn: (i: number) => Promise<void>, settle?: () => Promise<unknown>) => {
    await pool(Math.min(n, 1000), SIZE.concurrency, fn);
    await settle?.();
    const cpu = cpuMeter({ server: serverPids(pid), ferretdb });
    await pool(n, SIZE.concurrency, fn);
    await settle?.();
    return cpu.perUnit(n);
  };
  const rawPost = plainCall(rcv.port, "raw");
  const receiver = cpuMeter({ receiver: rcv.child.pid! });
  await pool(n, SIZE.concurrency, () => rawPost({}));
  const bare = receiver.perUnit(n).receiver;
  const stages: Array<[string, (i: number) => Promise<void>, (() => Promise<unknown>)?]> = [
    ["Sign (the RPC alone)", () => sign({ body: "aGVsbG8=", secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" })],
    ["Trigger, no subscription (+ the store's accept)", (i) => trigger(i)],
  ];
  for (const [name, fn] of stages) {
    const cost = await measure(fn);
    record({ figure: `server CPU per call: ${name}`, value: cost.server, unit: "µs", baseline: bare, baselineName: "a bare node:http answer", ratio: cost.server / bare, target: "figure", note: `its FerretDB ${cost.ferretdb.toFixed(0)} µs` });
  }
  await client.register({ url: rcv.url("/cost"), events: ["cost.*"] }, auth);
  await rcv.reset();
  const delivered = await measure(
    (i) => (expected++, trigger(i)),
    () => rcv.waitForCount(expected, 120_000),
  );
  record({ figure: "server CPU per call: Trigger, one subscription (+ the delivery)", value: delivered.server, unit: "µs", baseline: bare, baselineName: "a bare node:http answer", ratio: delivered.server / bare, target: "figure", note: `its FerretDB ${delivered.ferretdb.toFixed(0)} µs` });
  await sign.close();
  await trigger.close();
  await rawPost.close();
  await server.stop();
  rmSync(dataDir, { recursive: true, force: true });
}

/** Connect JSON POSTs of one method over HTTP/1.1 keep-alive (undici); `method` "raw" posts to the receiver's /raw. */
function plainCall(port: number, method: string): ((body: unknown) => Promise<void>) & { close(): Promise<void> } {
  const http = new Pool(`http://127.0.0.1:${port}`, { connections: SIZE.concurrency, pipelining: 1 });
  const headers = { "content-type": "application/json", authorization: `Bearer ${KEY}` };
  const path = method === "raw" ? "/raw" : `/hookwire.v1.WebhookService/${method}`;
  const call = async (body: unknown) => {
    const res = await http.request({ path, method: "POST", headers, body: JSON.stringify(body) });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`${method} answered ${res.statusCode}: ${text}`);
  };
  return Object.assign(call, { close: () => http.close() });
}

/** What a latency row measured: the offered rate and time, the steal over it, the warm-up, and `more`. */
function latencyNote(steal: number, more: string): string {
  return `${SIZE.latencyRate}/s offered for ${SIZE.latencySeconds} s at ${(100 * steal).toFixed(0)} % steal, after ${SIZE.latencyWarmSeconds} s of warm-up at that rate (${more})`;
}

/** The first seconds of fresh servers, with and without the server's start-up warm-up (bench/cold.ts). */
async function coldFigure(): Promise<void> {
  await coldStart({ hookwire, key: KEY, rate: SIZE.coldRate, seconds: SIZE.coldSeconds, rounds: SIZE.coldRounds, ownPids: [db.process.pid!, rcv.child.pid!], record });
}

async function triggerLatency(): Promise<void> {
  const { client, server } = await hookwire();
  await client.register({ url: rcv.url("/latency"), events: ["order.*"] }, auth);
  const sdk = () => client.trigger({ event: "order.created", payload: json(samplePayload) }, auth).then(() => undefined);
  const plain = plainTrigger(server.port, samplePayload);
  // The figure as it always ran (the SDK's gRPC transport), then the same load as Connect JSON from plain POSTs.
  // Each is the steady state: the first seconds at the offered rate (a server whose code V8 has not yet
  // optimised answers them several times slower) are a warm-up, their p99 in the note.
  for (const [label, call] of [["", sdk], [" (Connect JSON, undici)", plain]] as const) {
    const warm = await openLoop(call, SIZE.latencyRate, SIZE.latencyWarmSeconds);
    const steal = stealMeter();
    const latencies = await openLoop(call, SIZE.latencyRate, SIZE.latencySeconds);
    recordLatency(label, percentile(latencies, 50), percentile(latencies, 99), latencyNote(steal.share(), `its p50 ${percentile(warm, 50).toFixed(1)} ms, p99 ${percentile(warm, 99).toFixed(1)} ms`));
  }
  await plain.close();
  // The same over gRPC from grpc-go in its own process (the peer figure's caller, open loop here), so that
  // the row is the server's gRPC latency rather than the SDK transport's CPU in this process.
  const rate = SIZE.latencyRate;
  const go = await goPeerCaller(server.port, rate * SIZE.latencySeconds, rate * SIZE.latencyWarmSeconds, [`-rate=${rate}`, "-event=order.created"]);
  const steal = stealMeter();
  const { latencies } = await go.run();
  go.end();
  recordLatency(" (gRPC, grpc-go)", latencies.p50, latencies.p99, latencyNote(steal.share(), 'payload {"i": n, "note": "bench"}'));
}

/** One latency row's two figures, the p99 against its target. */
function recordLatency(label: string, p50: number, p99: number, note: string): void {
  record({ figure: `Trigger latency p50${label}`, value: p50, unit: "ms", target: "-", note });
  record({ figure: `Trigger latency p99${label}`, value: p99, unit: "ms", target: "<= 25 ms at 500/s", met: p99 <= 25 });
}

async function fanout(): Promise<void> {
  const { client } = await hookwire();
  process.stderr.write(`  (registering ${SIZE.fanout} subscriptions)\n`);
  await pool(SIZE.fanout, 32, (i) => client.register({ url: rcv.url(`/fan/${i}`), events: ["fan.out"] }, auth));
  await client.trigger({ event: "fan.warm" }, auth);
  await rcv.reset();
  const t = performance.now();
  const res = await client.trigger({ event: "fan.out", payload: json(samplePayload) }, auth);
  const answered = performance.now() - t;
  if (res.deliveries !== SIZE.fanout) throw new Error(`fan-out matched ${res.deliveries}`);
  const drained = (await rcv.waitForCount(SIZE.fanout, 300_000)) - t;
  record({ figure: `fan-out to ${SIZE.fanout}: answer`, value: answered, unit: "ms", target: "<= 250 ms", met: answered <= 250 });
  record({ figure: `fan-out to ${SIZE.fanout}: drain`, value: drained, unit: "ms", target: "-", note: `${((SIZE.fanout / drained) * 1000).toFixed(0)} deliveries/s` });
}

/**
 * The healthy endpoint's delivery rate while another subscription's endpoint hangs, against the healthy
 * endpoint alone (the target), and beside a second healthy endpoint (the same stored work, for reference).
 */
async function isolation(): Promise<void> {
  const run = async (neighbour: string | undefined) => {
    const { client } = await hookwire();
    await client.register({ url: rcv.url("/healthy"), events: ["iso.*"] }, auth);
    if (neighbour) await client.register({ url: neighbour, events: ["iso.*"], timeoutMs: 120_000, retries: 0 }, auth);
    await pool(50, 16, () => client.trigger({ event: "iso.warm" }, auth)); // warm-up
    await rcv.waitForCount(50, 60_000);
    await rcv.reset();
    const t = performance.now();
    await pool(SIZE.isolationEvents, 16, () => client.trigger({ event: "iso.event", payload: json(samplePayload) }, auth));
    for (;;) {
      const s = await rcv.stats();
      if ((s.byPath["/healthy"] ?? 0) >= SIZE.isolationEvents) return SIZE.isolationEvents / ((performance.now() - t) / 1000);
      await sleep(20);
    }
  };
  const alone = await run(undefined);
  const besideHealthy = await run(`http://127.0.0.1:${rcv.port2}/other`);
  const besideHanging = await run(`http://127.0.0.1:${rcv.hangPort}/hang`);
  record({
    figure: "healthy endpoint beside a hanging one",
    value: besideHanging,
    unit: "deliveries/s",
    baseline: alone,
    baselineName: "healthy alone",
    ratio: besideHanging / alone,
    target: ">= 90 %",
    met: besideHanging / alone >= 0.9,
    note: `beside a second healthy endpoint: ${besideHealthy.toFixed(0)} deliveries/s`,
  });
}

/**
 * The stall of the isolation issue: tenant `stuck` sends stuckTriggers to one endpoint that accepts
 * connections and never answers (5 minutes' timeout, 20 retries); before and after, tenant `bench`'s
 * Triggers to a healthy endpoint on another origin are timed one at a time, from the Trigger's answer
 * to the receiver counting the delivery (polled every millisecond).
 */
async function stuckNeighbour(): Promise<void> {
  const STUCK_KEY = "stuck-key-0123456789";
  const { server, client } = await hookwire({ HOOKWIRE_API_KEYS: `bench:${KEY},stuck:${STUCK_KEY}`, ...SIZE.stuckShares });
  const stuck = { headers: { authorization: `Bearer ${STUCK_KEY}` } };
  await client.register({ url: rcv.url("/tenant-healthy"), events: ["probe.*"] }, auth);
  await client.register({ url: `http://127.0.0.1:${rcv.hangPort}/stuck`, events: ["flood.*"], timeoutMs: 300_000, retries: 20 }, stuck);
  const probe = async (): Promise<number[]> => {
    const out: number[] = [];
    for (let i = 0; i < SIZE.isolationProbes; i++) {
      const before = (await rcv.stats()).byPath["/tenant-healthy"] ?? 0;
      await client.trigger({ event: "probe.sent", payload: json(samplePayload) }, auth);
      const answered = performance.now();
      for (let polls = 0; ((await rcv.stats()).byPath["/tenant-healthy"] ?? 0) <= before; polls++) {
        if (polls > 60_000) throw new Error("isolation: a healthy tenant's delivery did not arrive within a minute");
        await sleep(1);
      }
      out.push(performance.now() - answered);
    }
    return out.sort((a, b) => a - b);
  };
  await probe(); // warm-up
  const calm = await probe();
  const t = performance.now();
  await pool(SIZE.stuckTriggers, 32, () => client.trigger({ event: "flood.sent", payload: json(samplePayload) }, stuck));
  const floodSeconds = (performance.now() - t) / 1000;
  await sleep(1000); // the hold keeper's next take sees the share full
  const during = await probe();
  const metricsText = await (await fetch(`${server.baseUrl}/metrics`)).text();
  const parked = /^hookwire_deliveries_parked_total (\S+)$/m.exec(metricsText)?.[1] ?? "?";
  const p99 = percentile(during, 99);
  const calm99 = percentile(calm, 99);
  record({
    figure: "a healthy tenant's delivery while another's stuck endpoint holds its share: p99",
    value: p99,
    unit: "ms",
    baseline: calm99,
    baselineName: "p99 before the flood",
    ratio: p99 / calm99,
    target: "<= 1000 ms",
    met: p99 <= 1000,
    note: `${SIZE.stuckTriggers} Triggers (${floodSeconds.toFixed(1)} s) of tenant stuck to one endpoint that never answers${QUICK ? " (shares of 400/100)" : " (default shares)"}, then ${SIZE.isolationProbes} Triggers of tenant bench one at a time: p50 ${percentile(during, 50).toFixed(1)} ms (before: ${percentile(calm, 50).toFixed(1)} ms); ${parked} deliveries parked in the store`,
  });
}

async function signVerify(): Promise<void> {
  const secret = generateSecret();
  const n = SIZE.signIterations / 7;
  const key = Buffer.from(secret.slice(6), "base64");
  const now = Math.floor(Date.now() / 1000);
  const ghSig = signGithub(sampleBody, secret);
  const stdSig = signStandard("msg_1", now, sampleBody, secret);
  // The raw baselines do the same work with node:crypto alone: one HMAC, and for verify a constant-time compare.
  const rawGh = () => "sha256=" + createHmac("sha256", secret).update(sampleBody).digest("hex");
  const rawGhVerify = () => timingSafeEqual(Buffer.from(ghSig.slice(7), "hex"), createHmac("sha256", secret).update(sampleBody).digest());
  const rawStd = () => "v1," + createHmac("sha256", key).update(`msg_1.${now}.${sampleBody}`).digest("base64");
  const rawStdVerify = () => timingSafeEqual(Buffer.from(stdSig.slice(3), "base64"), createHmac("sha256", key).update(`msg_1.${now}.${sampleBody}`).digest());
  const lib = new Webhook(secret);
  const stdHeaders = { "webhook-id": "msg_1", "webhook-timestamp": String(now), "webhook-signature": stdSig };
  const rows: Array<[string, () => unknown, () => unknown, string]> = [
    ["sign (GitHub style)", rawGh, () => signGithub(sampleBody, secret), `@octokit/webhooks-methods: ${(await opsPerSecondAsync(() => octokitSign(secret, sampleBody), n)).toFixed(0)} ops/s`],
    ["verify (GitHub style)", rawGhVerify, () => verifyGithub(sampleBody, ghSig, secret), `@octokit/webhooks-methods: ${(await opsPerSecondAsync(() => octokitVerify(secret, sampleBody, ghSig), n)).toFixed(0)} ops/s`],
    ["sign (Standard Webhooks)", rawStd, () => signStandard("msg_1", now, sampleBody, secret), `standardwebhooks: ${opsPerSecond(() => lib.sign("msg_1", new Date(now * 1000), sampleBody), n).toFixed(0)} ops/s`],
    [
      "verify (Standard Webhooks)",
      rawStdVerify,
      () => verifyStandard({ webhookId: "msg_1", timestamp: now, body: sampleBody, signature: stdSig, secret, now }),
      `standardwebhooks: ${opsPerSecond(() => lib.verify(sampleBody, stdHeaders), n).toFixed(0)} ops/s`,
    ],
  ];
  for (const [figure, raw, ours, note] of rows) {
    const r = compareOps(raw, ours, n);
    record({ figure, value: r.candidate, unit: "ops/s", baseline: r.baseline, baselineName: "raw node:crypto", ratio: r.candidate / r.baseline, target: ">= 90 % of raw", met: r.candidate / r.baseline >= 0.9, note });
  }
}

async function rpcOverhead(): Promise<void> {
  const { client } = await hookwire();
  const body = new TextEncoder().encode(sampleBody);
  const req = { body, secret: "bench-secret", scheme: SignatureScheme.GITHUB, webhookId: "", timestamp: 0n };
  const inProcess = compareOps(() => signBody(req), () => signBody(req), SIZE.rpcCalls, 3).baseline;
  await pool(500, 32, () => client.sign({ body, secret: "bench-secret" }, auth)); // warm-up
  const t = performance.now();
  await pool(SIZE.rpcCalls, 32, () => client.sign({ body, secret: "bench-secret" }, auth));
  const rpc = SIZE.rpcCalls / ((performance.now() - t) / 1000);
  record({ figure: "Sign over one gRPC connection", value: rpc, unit: "RPCs/s", baseline: inProcess, baselineName: "the same work in-process", ratio: rpc / inProcess, target: "figure" });
}

async function memory(): Promise<void> {
  const database = `bench_${++dbNo}`;
  // Laid out by the server first, so the fill goes into indexed collections as a running store's would.
  await (await hookwire({ HOOKWIRE_DATABASE: database, HOOKWIRE_STORE: "ferretdb" })).server.stop();
  const client = new MongoClient(db.uri);
  const now = new Date();
  const messageCount = Math.ceil(SIZE.pending / SIZE.pendingPerMessage);
  const pad = "x".repeat(SIZE.payloadKb * 1024);
  const messageId = (m: number) => `msg_bench${String(m).padStart(9, "0")}`;
  process.stderr.write(`  (storing ${messageCount} messages of ${SIZE.payloadKb} KB)\n`);
  for (let m = 0; m < messageCount; m += 200) {
    const docs = [];
    for (let k = m; k < Math.min(m + 200, messageCount); k++) {
      const body = JSON.stringify({ event: "mem.test", payload: { n: k, pad }, timestamp: now.toISOString() });
      docs.push({ _id: messageId(k) as never, tenant: "bench", event: "mem.test", body, idempotencyKey: "", deliveries: SIZE.pendingPerMessage, createdAt: now });
    }
    await client.db(database).collection("messages").insertMany(docs, { ordered: false });
  }
  // Deliveries carry no secret: each attempt reads its subscription's (stored here in plain text, which
  // the server seals when it starts).
  await client.db(database).collection("subscriptions").insertOne({
    _id: "sub_bench" as never,
    tenant: "bench",
    url: `http://127.0.0.1:${rcv.hangPort}/mem`,
    events: ["*"],
    secret: "whsec_" + Buffer.alloc(32, 1).toString("base64"),
    description: "",
    createdAt: now,
    updatedAt: now,
    disabled: false,
    disabledReason: "",
    policy: {},
  });
  const queue = client.db(database).collection<DeliveryDoc>("delivery_queue");
  process.stderr.write(`  (storing ${SIZE.pending} pending deliveries)\n`);
  for (let done = 0; done < SIZE.pending; done += 10_000) {
    const docs: DeliveryDoc[] = [];
    for (let i = done; i < Math.min(done + 10_000, SIZE.pending); i++) {
      docs.push({
        _id: `dlv_${String(i).padStart(12, "0")}`,
        tenant: "bench",
        messageId: messageId(Math.floor(i / SIZE.pendingPerMessage)),
        subscriptionId: "sub_bench",
        url: `http://127.0.0.1:${rcv.hangPort}/mem`,
        event: "mem.test",
        policy: { retries: 3, retryDelayMs: 1000, timeoutMs: 300_000 },
        status: "pending",
        attempts: [],
        createdAt: now,
        updatedAt: now,
        nextAttemptAt: now,
        holder: "",
        holdUntil: new Date(0),
      });
    }
    await queue.insertMany(docs, { ordered: false });
  }
  await client.close();
  const idle = await hookwire();
  const idleRss = serverRssMb(idle.server.child.pid!);
  const { server } = await hookwire({ HOOKWIRE_DATABASE: database, HOOKWIRE_LOG_LEVEL: "debug" });
  // Sample until the engine holds its cap (or all there is), or its takes stopped growing for 30 s
  // after the first one, or the time is up. A figure without anything held would measure nothing.
  const cap = Math.min(20_000, SIZE.pending);
  let peak = 0;
  let held = 0;
  const started = performance.now();
  const deadline = started + (QUICK ? 20_000 : 600_000);
  let lastGrowth = Infinity;
  let firstTake = NaN;
  while (performance.now() < deadline && held < cap && performance.now() - lastGrowth < 30_000) {
    await sleep(1000);
    peak = Math.max(peak, serverRssMb(server.child.pid!));
    const takes = [...server.output().matchAll(/"held":(\d+)/g)];
    if (process.env.BENCH_DEBUG) process.stderr.write(server.output().split("\n").filter((l) => !l.includes('"msg":"rpc"')).slice(-3).join("\n") + "\n");
    const now = Number(takes.at(-1)?.[1] ?? 0);
    if (now > held) {
      lastGrowth = performance.now();
      if (Number.isNaN(firstTake)) firstTake = lastGrowth;
    }
    held = now;
  }
  // A few more samples at the cap: what the held deliveries' attempts and bodies cost settles.
  for (let i = 0; i < 10 && held > 0; i++) {
    await sleep(1000);
    peak = Math.max(peak, serverRssMb(server.child.pid!));
  }
  record({
    figure: `server RSS, ${SIZE.pending} pending deliveries of ${SIZE.payloadKb} KB messages`,
    value: peak,
    unit: "MB",
    baseline: idleRss,
    baselineName: "an idle server",
    ratio: peak / idleRss,
    target: "<= 300 MB (1,000,000 pending, 64 KB payloads)",
    met: peak <= 300 && held > 0,
    note: `${held} deliveries held in memory at the end (one tenant's share is 20,000, one endpoint's 5,000; the rest waits parked in the store), the first take after ${((firstTake - started) / 1000).toFixed(1)} s; FerretDB's own RSS ${rssMb(db.process.pid!).toFixed(0)} MB`,
  });
}

/**
 * Memory with intake (issue 25): `--intake` Triggers of a 64 KB payload, one delivery each, sent as Connect JSON by
 * 32 callers to a subscription whose endpoint accepts and never answers (a 300 s timeout, so every attempt stays
 * in flight or waits). The whole server's RSS (every worker, not its FerretDB) sampled every 250 ms through the
 * sending and 10 s after, beside an idle server of as many workers.
 */
async function memoryIntake(): Promise<void> {
  const workers = { HOOKWIRE_WORKERS: String(SIZE.memoryWorkers) };
  const idle = await hookwire(workers);
  await sleep(2000);
  const idleRss = serverRssMb(idle.server.child.pid!);
  await idle.server.stop("SIGKILL");
  const { server, client } = await hookwire(workers);
  await client.register({ url: `http://127.0.0.1:${rcv.hangPort}/intake`, events: ["intake.*"], timeoutMs: 300_000 }, auth);
  const body = JSON.stringify({ event: "intake.test", payload: { blob: "x".repeat(SIZE.payloadKb * 1024 - 64) } });
  const headers = { "content-type": "application/json", authorization: `Bearer ${KEY}` };
  const http = new Pool(server.baseUrl, { connections: SIZE.concurrency });
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, serverRssMb(server.child.pid!))), 250);
  let refused = 0;
  const started = performance.now();
  try {
    await pool(SIZE.intake, SIZE.concurrency, async () => {
      const res = await http.request({ path: "/hookwire.v1.WebhookService/Trigger", method: "POST", headers, body });
      if (res.statusCode !== 200) refused++;
      await res.body.dump();
    });
    const sendS = (performance.now() - started) / 1000;
    await sleep(10_000); // what the held deliveries cost once intake is over settles
    record({
      figure: `server RSS, ${SIZE.intake} deliveries of ${SIZE.payloadKb} KB messages sent to an endpoint that never answers (intake included, ${SIZE.memoryWorkers} workers)`,
      value: peak,
      unit: "MB",
      baseline: idleRss,
      baselineName: `an idle server of ${SIZE.memoryWorkers} workers`,
      ratio: peak / idleRss,
      target: "<= 300 MB",
      met: peak <= 300 && refused === 0,
      note: `sent in ${sendS.toFixed(1)} s (${(SIZE.intake / sendS).toFixed(0)}/s), ${refused} refused; RSS summed over the server's processes (the first and its workers), FerretDB's own ${rssMb(db.process.pid!).toFixed(0)} MB`,
    });
  } finally {
    clearInterval(sampler);
    await http.close();
  }
}

/**
 * The log RPCs at scale: the log filled with finished deliveries through the driver (1,000 a
 * command, as the store writes them), then each read timed through the server over gRPC, against
 * GetMessage (one _id lookup) in the same run. 5 deliveries a message, one of them to the tenant's
 * catch-all subscription, the rest spread over 100 subscriptions; one in ten failed.
 */
async function reads(): Promise<void> {
  const n = SIZE.reads;
  const database = `bench_${++dbNo}`;
  // The server lays the database out first (collections, indexes), so the fill writes what a running
  // store would: rows into indexed collections.
  await (await hookwire({ HOOKWIRE_DATABASE: database, HOOKWIRE_STORE: READS_LAYOUT })).server.stop();
  const mongo = new MongoClient(db.uri);
  // The FerretDB layout keeps finished deliveries in its log; the MongoDB layout keeps every delivery in one collection.
  const log = mongo.db(database).collection<DeliveryDoc>(READS_LAYOUT === "mongodb" ? "deliveries" : "delivery_log");
  const messages = mongo.db(database).collection("messages");
  const at = new Date();
  const id36 = (prefix: string, i: number) => `${prefix}_${i.toString(36).padStart(12, "0")}`;
  const sub = (i: number) => (i % 5 === 0 ? "sub_all" : id36("sub", i % 100));
  process.stderr.write(`  (storing ${n} finished deliveries)\n`);
  for (let i = 0; i < n; i += 1000) {
    const docs: DeliveryDoc[] = [];
    const msgs = [];
    for (let k = i; k < Math.min(i + 1000, n); k++) {
      const messageId = id36("msg", Math.floor(k / 5));
      if (k % 5 === 0) msgs.push({ _id: messageId as never, tenant: "bench", event: "order.created", body: sampleBody, idempotencyKey: "", deliveries: 5, createdAt: at });
      // One in ten failed, spread over every subscription (k % 10 would fail whole subscriptions).
      const failed = Math.floor(k / 100) % 10 === 3;
      docs.push({
        _id: id36("dlv", k),
        tenant: "bench",
        messageId,
        subscriptionId: sub(k),
        url: "http://127.0.0.1:9/hook",
        event: "order.created",
        policy: { retries: 3, retryDelayMs: 1000, timeoutMs: 10_000 },
        status: failed ? "failed" : "delivered",
        attempts: [{ at, durationMs: 3, statusCode: failed ? 500 : 200, excerpt: "", error: "" }],
        createdAt: at,
        updatedAt: at,
        nextAttemptAt: at,
        holder: "",
        holdUntil: new Date(0),
        ...(READS_LAYOUT === "mongodb" ? { holder: "", holdUntil: new Date(0) } : {}),
      });
    }
    await log.insertMany(docs, { ordered: false });
    if (msgs.length > 0) await messages.insertMany(msgs, { ordered: false });
  }
  await mongo.close();
  const { client } = await hookwire({ HOOKWIRE_DATABASE: database });
  const median = async (call: () => Promise<unknown>) => {
    await call(); // warm
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      await call();
      times.push(performance.now() - t);
    }
    return percentile(times, 50);
  };
  const someMessage = id36("msg", Math.floor(n / 10));
  const baseline = await median(() => client.getMessage({ id: someMessage }, auth));
  const page1 = await client.listDeliveries({ subscriptionId: id36("sub", 7), pageSize: 50 }, auth);
  const all1 = await client.listDeliveries({ subscriptionId: "sub_all", pageSize: 50 }, auth);
  const tenantFailed1 = await client.listDeliveries({ status: DeliveryStatus.FAILED, pageSize: 50 }, auth);
  const figures: Array<[string, () => Promise<unknown>]> = [
    ["ListDeliveries by message", () => client.listDeliveries({ messageId: someMessage }, auth)],
    [`ListDeliveries by subscription (${Math.round((n * 4) / 5 / 100)} in it), first page`, () => client.listDeliveries({ subscriptionId: id36("sub", 7), pageSize: 50 }, auth)],
    ["  … a later page", () => client.listDeliveries({ subscriptionId: id36("sub", 7), pageSize: 50, pageToken: page1.nextPageToken }, auth)],
    ["  … failed only", () => client.listDeliveries({ subscriptionId: id36("sub", 7), status: DeliveryStatus.FAILED, pageSize: 50 }, auth)],
    [`ListDeliveries by catch-all subscription (${n / 5} in it), first page`, () => client.listDeliveries({ subscriptionId: "sub_all", pageSize: 50 }, auth)],
    ["  … a later page", () => client.listDeliveries({ subscriptionId: "sub_all", pageSize: 50, pageToken: all1.nextPageToken }, auth)],
    ["  … failed only", () => client.listDeliveries({ subscriptionId: "sub_all", status: DeliveryStatus.FAILED, pageSize: 50 }, auth)],
    [`ListDeliveries across the tenant (${n} in it, ${n / 10} failed), failed only, first page`, () => client.listDeliveries({ status: DeliveryStatus.FAILED, pageSize: 50 }, auth)],
    ["  … a later page", () => client.listDeliveries({ status: DeliveryStatus.FAILED, pageSize: 50, pageToken: tenantFailed1.nextPageToken }, auth)],
    ["  … every status, first page", () => client.listDeliveries({ pageSize: 50 }, auth)],
  ];
  process.stderr.write(`  (reads on the ${READS_LAYOUT} layout)\n`);
  record({ figure: `GetMessage, ${n} deliveries stored`, value: baseline, unit: "ms", target: "<= 50 ms", met: baseline <= 50, note: "an _id lookup: the baseline of the reads below" });
  for (const [figure, call] of figures) {
    const ms = await median(call);
    record({ figure, value: ms, unit: "ms", baseline, baselineName: "GetMessage", ratio: ms / baseline, target: "<= 50 ms", met: ms <= 50 });
  }
}

/** Failures that make the run exit non-zero (a lost delivery); other misses only show in the table. */
const failures: string[] = [];

async function soakFigure(): Promise<void> {
  const holdMs = arg("soak-lease-ms", NaN);
  const { lost } = await soak({
    seconds: SIZE.soakSeconds,
    rate: SIZE.soakRate,
    seed: SIZE.soakSeed,
    calmShare: 0.2,
    // Short runs fault more often, so the quick one still kills each process a few times.
    faultGapS: SIZE.soakSeconds < 60 ? [3, 7] : [10, 30],
    holdMs: Number.isNaN(holdMs) ? undefined : holdMs,
    // The server's default with its FerretDB on this machine (one worker per core but one), unless --soak-workers.
    workers: arg("soak-workers", Math.max(1, cpus().length - 1)),
    // --soak-faults=FerretDB (or server, or "a worker"; comma-separated): only those faults.
    kinds: process.argv.find((x) => x.startsWith("--soak-faults="))?.slice("--soak-faults=".length).split(","),
    explain: process.argv.includes("--soak-explain"),
    record,
  });
  if (lost > 0) failures.push(`soak: ${lost} accepted Triggers never reached their healthy endpoint`);
}

const started = performance.now();
// `--only=sign,memory` runs some figures; the end-to-end one needs the raw ceiling, which always runs.
const only = process.argv.find((a) => a.startsWith("--only="))?.slice(7).split(",");
let raw = 0;
const steps: Array<[string, () => Promise<void>]> = [
  // First, on a machine the other steps have not yet loaded: short processes, each timed from spawn to exit.
  ["cli", async () => cliStart({ runs: SIZE.cliRuns, record })],
  ["peer", peer],
  ["cost", cpuPerCall],
  ["e2e", () => endToEnd(raw)],
  // The latency rows: first a fresh server's first seconds, every call counted (the cold-start rows), then the
  // steady state after the bench's own warm-up. `--only=cold` runs the cold-start rows alone.
  ["latency", async () => {
    await coldFigure();
    await triggerLatency();
  }],
  ["cold", coldFigure],
  ["fanout", fanout],
  ["isolation", async () => {
    await isolation();
    await stuckNeighbour();
  }],
  ["sign", signVerify],
  ["rpc", rpcOverhead],
  ["memory", memory],
  ["intake", memoryIntake],
  ["reads", reads],
  // The busy owners and their baseline are timed over one quiet interval of healthy endpoints' health writes
  // (30 s, engine/health-recorder.ts) after a warm-up that outlasts one: the steady state of those writes, not
  // the quiet first seconds after each endpoint's first write. The cold owners' endpoints are each reached once.
  ["owners", () => ownersFigure({ owners: SIZE.owners, rate: SIZE.latencyRate, seconds: SIZE.latencySeconds, warmSeconds: SIZE.latencyWarmSeconds, steady: QUICK ? { seconds: SIZE.latencySeconds, warmSeconds: SIZE.latencyWarmSeconds } : { seconds: 30, warmSeconds: 32 }, rounds: QUICK ? 1 : 2, hookwire, rcv, storePid: db.process.pid!, auth, record })],
  ["soak", soakFigure],
];
try {
  process.stderr.write("raw HTTP ceiling\n");
  raw = await rawCeiling();
  record({ figure: "raw HTTP ceiling", value: raw, unit: "requests/s", target: "baseline", note: `undici, ${SIZE.concurrency} connections, receiver in its own process` });
  for (const [name, step] of steps) {
    if (only ? !only.includes(name) : name === "cold") continue;
    process.stderr.write(`${name}\n`);
    await step();
  }
} finally {
  // SIGTERM when profiling: a profile is written only by a process that exits by itself.
  for (const s of servers) await s.stop(CPU_PROF_DIR ? "SIGTERM" : "SIGKILL").catch(() => undefined);
  rcv.stop();
  await db.stop();
  rmSync(dir, { recursive: true, force: true });
}

const rows = figures.map((f) => [
  f.figure,
  `${f.value >= 100 ? f.value.toFixed(0) : f.value.toFixed(1)} ${f.unit}`,
  f.baseline !== undefined ? `${f.baseline.toFixed(0)} (${f.baselineName})` : "",
  f.ratio !== undefined ? `${(f.ratio * 100).toFixed(1)} %` : "",
  f.target,
  f.met === undefined ? "" : f.met ? "yes" : "NO",
]);
const header = ["figure", "value", "baseline", "ratio", "target", "met"];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (cells: string[]) => "| " + cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ") + " |";
console.log(line(header));
console.log("|" + widths.map((w) => "-".repeat(w + 2)).join("|") + "|");
for (const r of rows) console.log(line(r));
const notes = figures.filter((f) => f.note).map((f) => `- ${f.figure}: ${f.note}`);
if (notes.length > 0) console.log(`\n${notes.join("\n")}`);
for (const section of sections) console.log(`\n${section.join("\n")}`);
const seconds = (performance.now() - started) / 1000;
console.log(`\n${cpus().length} cores, Node ${process.version}, ${seconds.toFixed(0)} s${QUICK ? ", quick sizes" : ""}`);
const outDir = fileURLToPath(new URL("./results/", import.meta.url));
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, QUICK ? "quick.json" : "latest.json"), JSON.stringify({ date: new Date().toISOString(), quick: QUICK, cores: cpus().length, node: process.version, seconds, sizes: SIZE, figures, sections }, null, 2) + "\n");
for (const f of failures) console.error(`FAILED: ${f}`);
process.exit(failures.length > 0 ? 1 : 0);
