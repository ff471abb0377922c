// The soak and chaos figure (issue 21, item 7; `npm run bench -- --only=soak`): for a bounded time several
// tenants trigger at a steady rate to healthy, failing, slow, never-answering and resetting endpoints on
// loopback, while the server and its FerretDB are killed with SIGKILL and restarted at seeded random moments.
// The first part of the run has no faults: it is the baseline the faulty part's latency is set beside.
// Then a drain without faults, and the count: every Trigger accepted must have reached its tenant's healthy
// endpoint (the run fails otherwise); duplicates are counted (at-least-once allows them).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Pool } from "undici";
import { generateSecret } from "@hookwire/sdk/node";
import { percentile, sleep } from "./lib.js";
import { startPublisher, type AcceptedTrigger } from "./soak-publisher.js";
import { startSoakProcesses } from "./soak-processes.js";
import { BAD_KINDS, startSoakReceivers, type HealthyEndpoint } from "./soak-receivers.js";
import type { Figure } from "./lib.js";


export interface SoakOptions {
  /** Seconds of Triggers (the calm part included); the drain comes after. */
  seconds: number;
  /** Triggers per second offered, over all tenants. */
  rate: number;
  /** Seeds the fault schedule and the publisher's jitter: one seed, one schedule. */
  seed: number;
  /** The first faults come after this share of the time (the calm baseline). */
  calmShare: number;
  /** Seconds between faults, drawn evenly from [min, max]. */
  faultGapS: [number, number];
  /** HOOKWIRE_LEASE_MS for the server, or undefined for its default. */
  holdMs: number | undefined;
  /** HOOKWIRE_WORKERS for the server; above 1, one of its workers is killed by turns too. */
  workers: number;
  /** Only these kinds of fault ("server", "FerretDB", "a worker"); every kind when unset. */
  kinds?: string[] | undefined;
  /** Prints where the slowest catch-up deliveries' time went, from the server's own record of them. */
  explain: boolean;
  record(f: Figure): void;
}

const TENANTS = ["acme", "globex", "initech"];
/** What the soak kills: the whole server, its FerretDB, one of the server's workers (with several). */
const FAULT_KINDS = ["server", "FerretDB", "a worker"];
/** The slow and never-answering endpoints' subscriptions give up after this; the slow one answers later. */
const BAD_TIMEOUT_MS = 2000;
/** The server's default hold, for the drain's bound when the run does not set one. */
const DEFAULT_HOLD_MS = 30_000;

/** mulberry32: a small seeded generator, so a run's fault schedule can be repeated. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Answers how many accepted Triggers never reached their healthy endpoint (the caller fails the run on any). */
export async function soak(o: SoakOptions): Promise<{ lost: number }> {
  for (const k of o.kinds ?? []) if (!FAULT_KINDS.includes(k)) throw new Error(`--soak-faults: no fault "${k}" (server, FerretDB or "a worker")`);
  const random = seeded(o.seed);
  const between = (lo: number, hi: number) => lo + random() * (hi - lo);
  const dir = mkdtempSync(join(tmpdir(), "hookwire-soak-"));
  const tenants = TENANTS.map((tenant) => ({ tenant, key: `soak-${tenant}-key-0123456789`, secret: generateSecret() }));
  const receivers = await startSoakReceivers(tenants, BAD_TIMEOUT_MS + 1000);
  const procs = await startSoakProcesses(dir, {
    HOOKWIRE_DATABASE: "soak",
    HOOKWIRE_API_KEYS: tenants.map((t) => `${t.tenant}:${t.key}`).join(","),
    HOOKWIRE_ALLOW_PRIVATE_URLS: "true",
    HOOKWIRE_LOG_LEVEL: "info", // the "listening" line says when a (re)started server is ready
    HOOKWIRE_WORKERS: String(o.workers),
    ...(o.holdMs !== undefined ? { HOOKWIRE_LEASE_MS: String(o.holdMs) } : {}),
  });
  try {
    // Each tenant: its healthy endpoint takes every event; each bad kind takes a fifth of them.
    const api = new Pool(`http://127.0.0.1:${procs.serverPort}`, { connections: 4 });
    const register = async (key: string, sub: Record<string, unknown>) => {
      const res = await api.request({ path: "/hookwire.v1.WebhookService/Register", method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${key}` }, body: JSON.stringify(sub) });
      const text = await res.body.text();
      if (res.statusCode !== 200) throw new Error(`Register answered ${res.statusCode}: ${text}`);
    };
    for (const t of tenants) {
      const ep = receivers.healthy.find((h) => h.tenant === t.tenant)!;
      await register(t.key, { url: ep.url, events: ["soak.*"], secret: t.secret });
      for (const kind of BAD_KINDS) await register(t.key, { url: receivers.badUrl(kind, t.tenant), events: [`soak.${kind}`], timeoutMs: BAD_TIMEOUT_MS, retries: 1, retryDelayMs: 500 });
    }
    await api.close();
    const events = [...BAD_KINDS.map((k) => `soak.${k}`), "soak.calm"];

    const t0 = performance.now();
    const lag = lagSampler();
    const calmEnd = t0 + o.seconds * o.calmShare * 1000;
    const end = t0 + o.seconds * 1000;
    const publisher = startPublisher({
      port: procs.serverPort,
      tenants,
      rate: o.rate,
      event: (i) => events[i % events.length]!,
      keyPrefix: `soak-${o.seed}-${Date.now()}`,
      giveUpMs: 60_000,
      maxInFlight: 5000,
      // Its own generator: the publisher draws as many numbers as the faults make it retry, which would
      // move the fault schedule's draws if they shared one.
      random: seeded(o.seed ^ 0x9e3779b9),
    });
    // Peak memory of the calm part: the baseline of the run's peak.
    await sleep(calmEnd - performance.now());
    const calmRss = procs.peakRss();
    const faults: string[] = [];
    /** When each killed process was killed and when it was back (performance.now()). */
    const gaps: Gap[] = [];
    // The kinds take turns from a seeded first one, so even a short run kills each: the whole server (its first
    // process and every worker), its FerretDB, and, with workers, one worker (the server starts another itself).
    const kinds = o.kinds ?? (o.workers > 1 ? FAULT_KINDS : FAULT_KINDS.filter((k) => k !== "a worker"));
    let turn = Math.floor(random() * kinds.length);
    for (;;) {
      const at = performance.now() + between(o.faultGapS[0], o.faultGapS[1]) * 1000;
      if (at >= end) break;
      await sleep(at - performance.now());
      const down = between(0.5, 3);
      const which = kinds[turn++ % kinds.length]!;
      const t = performance.now();
      if (which === "a worker") {
        await procs.killWorker(Math.floor(random() * o.workers));
      } else {
        if (which === "server") await procs.killServer();
        else await procs.killStore();
        await sleep(down * 1000);
        if (which === "server") await procs.startServer();
        else await procs.startStore();
      }
      gaps.push({ from: t, back: performance.now(), which });
      const line = `kill -9 ${which} at ${((t - t0) / 1000).toFixed(1)} s, ${which === "a worker" ? "replaced by the server" : "restarted"} after ${((performance.now() - t) / 1000).toFixed(1)} s`;
      faults.push(line);
      process.stderr.write(`  (${line})\n`);
    }
    await sleep(end - performance.now());
    const pub = await publisher.stop();
    const lags = lag.stop();

    // The drain: no faults; until every accepted Trigger reached its healthy endpoint, or the bound (work a
    // killed server held comes back when its hold runs out).
    const drainMs = drainBoundMs(o);
    const missing = () => pub.accepted.filter((a) => !healthyOf(receivers.healthy, a).firstSeen.has(a.messageId)).length;
    const drainStart = performance.now();
    while (missing() > 0 && performance.now() - drainStart < drainMs) await sleep(250);
    const drained = (performance.now() - drainStart) / 1000;
    // Late duplicates (a retry of a delivery whose outcome a kill lost) may still come: a short settle.
    await sleep(2000);

    report(o, { pub, receivers: receivers.healthy, t0, calmEnd, end, faults, gaps, drained, calmRss, procs, neverOpen: receivers.neverOpen(), badHits: receivers.badHits, lags });
    if (o.explain) await explainCatchUps(procs.serverPort, tenants, pub.accepted, receivers.healthy, gaps);
    const lost = receivers.healthy.reduce((sum, h) => sum + expected(pub.accepted, h).filter((a) => !h.firstSeen.has(a.messageId)).length, 0);
    return { lost };
  } finally {
    await procs.stop().catch(() => undefined);
    await receivers.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * How long the drain may wait. Work a killed server held comes back only after its hold (and what the
 * engine waits beyond it): in trial runs with the 30 s default, a delivery held at a kill arrived 65 s
 * later, so three holds and a margin, and never under two minutes: a late delivery is not a lost one.
 */
const drainBoundMs = (o: SoakOptions) => Math.max(120_000, 3 * (o.holdMs ?? DEFAULT_HOLD_MS) + 30_000);

const healthyOf = (healthy: HealthyEndpoint[], a: AcceptedTrigger) => healthy.find((h) => h.tenant === a.tenant)!;
const expected = (accepted: AcceptedTrigger[], h: HealthyEndpoint) => accepted.filter((a) => a.tenant === h.tenant);

/**
 * The bench process's own event-loop lag, sampled every 10 ms: the publisher and the receivers share this process,
 * so a receive time (and an answer's) is late by what the process itself is busy with, which the server did not do.
 */
function lagSampler(): { stop(): Array<[number, number]> } {
  const samples: Array<[number, number]> = [];
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    samples.push([now, Math.max(0, now - last - 10)]);
    last = now;
  }, 10);
  return {
    stop() {
      clearInterval(timer);
      return samples;
    },
  };
}

/** A killed process's gap: from its kill to its restart's end. */
interface Gap {
  from: number;
  back: number;
  /** What was killed: the server, FerretDB or a worker. */
  which: string;
}

/**
 * How long after a killed process is back its catch-up lasts: every Trigger refused meanwhile comes back
 * within it (the publisher's backoff is at most 2 s), with the deliveries the store's gap held.
 */
const CATCH_UP_MS = 2000;

/** The gap whose catch-up a moment falls in (the first, where two overlap): from its kill to CATCH_UP_MS after it was back. */
const gapOf = (gaps: Gap[], at: number) => gaps.find((g) => at >= g.from && at < g.back + CATCH_UP_MS);

interface Run {
  pub: Awaited<ReturnType<ReturnType<typeof startPublisher>["stop"]>>;
  receivers: HealthyEndpoint[];
  t0: number;
  calmEnd: number;
  end: number;
  faults: string[];
  gaps: Gap[];
  drained: number;
  calmRss: { server: number; store: number };
  procs: { peakRss(): { server: number; store: number }; unplannedServerExits(): number };
  neverOpen: { now: number; peak: number };
  badHits: Record<string, number>;
  /** The bench process's own event-loop lag: [when (performance.now()), ms late]. */
  lags: Array<[number, number]>;
}

function report(o: SoakOptions, r: Run): void {
  const { pub } = r;
  const warm = Math.min(5000, (r.calmEnd - r.t0) / 3); // the first seconds are the server's warm-up (JIT, pools)
  const calm: number[] = [];
  const faulty: number[] = [];
  // The same deliveries timed from the Trigger's answer (0 when a delivery came before its answer did): without
  // the time a call waited inside the server for its store, which the send-time figure includes.
  const faultyFromAnswer: number[] = [];
  const calmFromAnswer: number[] = [];
  // The faulty part's deliveries split by when their Trigger was sent: during a gap or the catch-up after
  // it, or between (more than CATCH_UP_MS after the last process came back).
  const catchUpFromAnswer: number[] = [];
  const betweenFromAnswer: number[] = [];
  const catchUpOf = (at: number) => gapOf(r.gaps, at);
  /** The catch-up's deliveries again, by gap: which fault's aftermath makes the tail. */
  const byGap = new Map<Gap, number[]>(r.gaps.map((g) => [g, []]));
  /** [sent (s into the run), answered after (ms), delivered after (ms)] of every delivery during the faults, for the slowest's note. */
  const slowest: Array<[number, number, number]> = [];
  let wrongCount = 0;
  for (const a of pub.accepted) {
    const h = healthyOf(r.receivers, a);
    if (a.deliveries !== (a.event === "soak.calm" ? 1 : 2)) wrongCount++;
    const seen = h.firstSeen.get(a.messageId);
    if (seen === undefined) continue;
    if (a.at >= r.t0 + warm && a.at < r.calmEnd) {
      calm.push(seen - a.at);
      calmFromAnswer.push(Math.max(0, seen - a.answeredAt));
    }
    else if (a.at >= r.calmEnd && a.at < r.end) {
      faulty.push(seen - a.at);
      faultyFromAnswer.push(Math.max(0, seen - a.answeredAt));
      const fromAnswer = Math.max(0, seen - a.answeredAt);
      const gap = catchUpOf(a.at);
      (gap ? catchUpFromAnswer : betweenFromAnswer).push(fromAnswer);
      if (gap) byGap.get(gap)!.push(fromAnswer);
      slowest.push([(a.at - r.t0) / 1000, a.answeredAt - a.at, seen - a.at]);
    }
  }
  faultyFromAnswer.sort((x, y) => x - y);
  catchUpFromAnswer.sort((x, y) => x - y);
  betweenFromAnswer.sort((x, y) => x - y);
  calmFromAnswer.sort((x, y) => x - y);
  slowest.sort((x, y) => y[2] - x[2]);
  const slowNote = slowest
    .slice(0, 8)
    .map(([at, answered, seen]) => `${at.toFixed(1)} s (answered ${answered.toFixed(0)} ms, delivered ${seen.toFixed(0)} ms)`)
    .join(", ");
  calm.sort((x, y) => x - y);
  faulty.sort((x, y) => x - y);
  const perEndpoint = r.receivers.map((h) => {
    const exp = expected(pub.accepted, h);
    const lost = exp.filter((a) => !h.firstSeen.has(a.messageId)).length;
    const dup = [...h.arrivals.values()].reduce((s, n) => s + n - 1, 0);
    return { tenant: h.tenant, expected: exp.length, received: exp.length - lost, lost, dup, notGenuine: h.notGenuine };
  });
  const lost = perEndpoint.reduce((s, e) => s + e.lost, 0);
  // When the lost ones were accepted (seconds into the run), to set them beside the fault times.
  const lostAt = pub.accepted.filter((a) => !healthyOf(r.receivers, a).firstSeen.has(a.messageId)).map((a) => ((a.at - r.t0) / 1000).toFixed(1));
  const dup = perEndpoint.reduce((s, e) => s + e.dup, 0);
  const received = perEndpoint.reduce((s, e) => s + e.received, 0);
  const notGenuine = perEndpoint.reduce((s, e) => s + e.notGenuine, 0);
  const refusals = [...pub.refusals].map(([k, n]) => `${k} ${n}`).join(", ") || "none";
  const rss = r.procs.peakRss();
  const label = `soak ${o.seconds} s`;
  const where = `${TENANTS.length} tenants, ${o.rate} Triggers/s offered, seed ${o.seed}, ${r.faults.length} faults`;

  o.record({
    figure: `${label}: Triggers accepted`,
    value: pub.accepted.length,
    unit: "Triggers",
    baseline: pub.offered,
    baselineName: "offered",
    ratio: pub.accepted.length / pub.offered,
    target: "figure",
    note: `${where}; given up ${pub.givenUp} (unanswered 60 s), skipped ${pub.skipped} (publisher's in-flight bound); refused tries before an OK: ${refusals}; at most ${pub.maxTries} tries for one; ${wrongCount} answered a match count other than expected`,
  });
  o.record({
    figure: `${label}: healthy deliveries lost`,
    value: lost,
    unit: "deliveries",
    baseline: received + lost,
    baselineName: "expected",
    target: "0",
    met: lost === 0,
    note: `per endpoint (expected/received/lost/duplicates): ${perEndpoint.map((e) => `${e.tenant} ${e.expected}/${e.received}/${e.lost}/${e.dup}`).join(", ")}; drain ${r.drained.toFixed(1)} s (bound ${drainBoundMs(o) / 1000} s); ${notGenuine} requests without a valid webhook-id and signature (not counted)${lostAt.length > 0 ? `; the lost were accepted at ${lostAt.slice(0, 20).join(", ")} s` : ""}`,
  });
  o.record({
    figure: `${label}: healthy duplicates`,
    value: dup,
    unit: "deliveries",
    baseline: received,
    baselineName: "distinct received",
    ratio: received > 0 ? dup / received : 0,
    target: "figure (at-least-once)",
    note: `same webhook-id at the same endpoint more than once; bad endpoints got ${Object.entries(r.badHits).map(([k, n]) => `${k} ${n}`).join(", ")}; never-answering sockets held at most ${r.neverOpen.peak} at once, ${r.neverOpen.now} at the end (closed)`,
  });
  const p50 = [percentile(calm, 50), percentile(faulty, 50)];
  const p99 = [percentile(calm, 99), percentile(faulty, 99)];
  const a99 = [percentile(calmFromAnswer, 99), percentile(faultyFromAnswer, 99)];
  const phases = `before: ${calm.length} deliveries of the first ${((r.calmEnd - r.t0) / 1000).toFixed(0)} s after ${(warm / 1000).toFixed(1)} s of warm-up; during: ${faulty.length}; faults: ${r.faults.join("; ") || "none"}`;
  // A figure beside its baseline of the same run (the calm phase before the faults).
  const beside = (figure: string, value: number, unit: string, baseline: number, baselineName: string, rest: Pick<Figure, "target" | "met" | "note">) =>
    o.record({ figure: `${label}: ${figure}`, value, unit, baseline, baselineName, ratio: value / baseline, ...rest });
  beside("healthy delivery p50 during faults", p50[1]!, "ms", p50[0]!, "p50 before faults", { target: "figure", note: "from the accepted Trigger call's send" });
  // Delivery latency proper: from the moment the platform knows its Trigger is accepted (the answer) to the receiver.
  beside("healthy delivery p99 during faults, from the Trigger's answer", a99[1]!, "ms", a99[0]!, "p99 before faults", {
    target: "<= 2x before (not a gate)",
    met: a99[1]! <= 2 * a99[0]!,
    note: `receive time minus the time the accepted call's answer came (0 when the delivery came first); p50 ${percentile(faultyFromAnswer, 50).toFixed(1)} ms during, ${percentile(calmFromAnswer, 50).toFixed(1)} ms before; ${phases}`,
  });
  beside("healthy delivery p99 between faults, from the Trigger's answer", percentile(betweenFromAnswer, 99), "ms", a99[0]!, "p99 before faults", {
    target: "figure",
    note: `the faulty part's deliveries whose Trigger was sent more than ${CATCH_UP_MS / 1000} s after the last killed process was back (${betweenFromAnswer.length}): the bad endpoints and the faults' aftermath without the catch-up`,
  });
  const lagOf = (pick: (at: number) => boolean) => r.lags.filter(([at]) => pick(at)).map(([, ms]) => ms).sort((x, y) => x - y);
  const calmLag = lagOf((at) => at >= r.t0 + warm && at < r.calmEnd);
  const catchUpLag = lagOf((at) => catchUpOf(at) !== undefined);
  const perGap = [...byGap].map(([g, fromAnswer]) => {
    fromAnswer.sort((x, y) => x - y);
    return `${g.which} at ${((g.from - r.t0) / 1000).toFixed(0)} s: p99 ${percentile(fromAnswer, 99).toFixed(1)} ms, max ${(fromAnswer.at(-1) ?? 0).toFixed(0)} ms of ${fromAnswer.length}`;
  });
  const lagNote = `each catch-up: ${perGap.join("; ") || "none"}; the bench process's own event-loop lag (publisher and receivers share it), p99/max: ${percentile(calmLag, 99).toFixed(1)}/${(calmLag.at(-1) ?? 0).toFixed(0)} ms before the faults, ${percentile(catchUpLag, 99).toFixed(1)}/${(catchUpLag.at(-1) ?? 0).toFixed(0)} ms in the catch-ups`;
  beside("healthy delivery p99 in the catch-ups, from the Trigger's answer", percentile(catchUpFromAnswer, 99), "ms", a99[0]!, "p99 before faults", {
    target: "figure",
    note: `the faulty part's deliveries whose Trigger was sent while a process was down or within ${CATCH_UP_MS / 1000} s after it was back (${catchUpFromAnswer.length}, ${((100 * catchUpFromAnswer.length) / Math.max(1, faultyFromAnswer.length)).toFixed(1)} % of the faulty part's): every refused Trigger retried (with backoff, within 2 s) beside what the gap held; p50 ${percentile(catchUpFromAnswer, 50).toFixed(1)} ms; ${lagNote}`,
  });
  beside("healthy delivery p99 during faults, from the Trigger's send", p99[1]!, "ms", p99[0]!, "p99 before faults", {
    target: "figure",
    note: `receive time minus the accepted call's send time: this includes what a Trigger sent as the store died waited inside the server until the store was back; max ${(faulty.at(-1) ?? NaN).toFixed(0)} ms; slowest, sent at: ${slowNote}`,
  });
  beside("server peak RSS", rss.server, "MB", r.calmRss.server, "peak before faults", {
    target: "figure",
    note: `VmHWM of every server process of the run, sampled twice a second; ${r.procs.unplannedServerExits()} server exits the run did not cause (restarted)`,
  });
  beside("FerretDB peak RSS", rss.store, "MB", r.calmRss.store, "peak before faults", { target: "figure" });
}

/**
 * The slowest catch-up deliveries, each split by the server's own record of it (its Delivery): from the
 * Trigger's answer to the attempt's start (the server's wait: preparing the attempt, a free slot) and the
 * attempt's duration (the receiver, in this process, answering). This is how the catch-up's tail was found
 * (bench/README.md, the soak).
 */
async function explainCatchUps(port: number, tenants: Array<{ tenant: string; key: string }>, accepted: AcceptedTrigger[], healthy: HealthyEndpoint[], gaps: Gap[]): Promise<void> {
  const slowest = accepted
    .map((a) => ({ a, gap: gapOf(gaps, a.at), late: (healthyOf(healthy, a).firstSeen.get(a.messageId) ?? NaN) - a.answeredAt }))
    .filter((r) => r.gap !== undefined && !Number.isNaN(r.late))
    .sort((x, y) => y.late - x.late)
    .slice(0, 20);
  /** A bench moment as the server's clock tells it. */
  const wall = (at: number) => performance.timeOrigin + at;
  for (const { a, gap, late } of slowest) {
    const key = tenants.find((t) => t.tenant === a.tenant)!.key;
    const res = await fetch(`http://127.0.0.1:${port}/hookwire.v1.WebhookService/ListDeliveries`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${key}` }, body: JSON.stringify({ messageId: a.messageId }) });
    const body = (await res.json()) as { deliveries?: Array<{ attempts?: Array<{ attemptedAt: string; durationMs?: string; statusCode?: number; error?: string }> }> };
    const attempts = body.deliveries?.find((d) => d.attempts?.some((x) => x.statusCode === 200))?.attempts ?? [];
    const attempt = attempts.find((x) => x.statusCode === 200);
    // Earlier attempts of the same delivery (a failed one is retried after its delay), with what they said.
    const before = attempts.filter((x) => x !== attempt).map((x) => `${(Date.parse(x.attemptedAt) - wall(a.answeredAt)).toFixed(0)} ms: ${x.statusCode || x.error}`);
    const split = attempt ? `attempt started ${(Date.parse(attempt.attemptedAt) - wall(a.answeredAt)).toFixed(0)} ms after the answer, took ${attempt.durationMs ?? 0} ms${before.length ? `; before it ${before.join(", ")}` : ""}` : "no successful attempt found";
    process.stderr.write(`  (catch-up after ${gap!.which} at ${((gap!.back - gaps[0]!.from) / 1000).toFixed(1)} s: Trigger sent ${((a.at - gap!.back) / 1000).toFixed(2)} s after it was back, answered in ${(a.answeredAt - a.at).toFixed(0)} ms, delivered ${late.toFixed(0)} ms after the answer: ${split})\n`);
  }
}
