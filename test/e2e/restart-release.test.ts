// A server killed with -9 and started again on the same database: the new process releases at start the
// holds of the dead one (same host, its pid gone), so the work it held is delivered within about a poll,
// not once its hold (HOOKWIRE_LEASE_MS) runs out. A process that is alive keeps its holds.
import { fromJson } from "@bufbuild/protobuf";
import { ValueSchema } from "@bufbuild/protobuf/wkt";
import { afterEach, expect, it } from "vitest";
import { startReceiver } from "../helpers/receiver.js";
import { bearer, grpcClient, KEYS, startServer, uniqueDatabase, type RunningServer } from "../helpers/server.js";
import { sleep } from "../helpers/wait.js";

const acme = { headers: bearer(KEYS.acme) };
const json = (v: unknown) => fromJson(ValueSchema, v as never);
const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!().catch(() => undefined);
});

/** A hold far longer than anything waited for here: what is delivered early was released, not run out. */
const LEASE_MS = 60_000;

async function serve(database: string, layout: string): Promise<RunningServer> {
  const s = await startServer({ database, env: { HOOKWIRE_ALLOW_PRIVATE_URLS: "true", HOOKWIRE_LEASE_MS: String(LEASE_MS), HOOKWIRE_STORE: layout } });
  cleanup.push(() => s.stop("SIGKILL"));
  return s;
}

/** The holder a server logged at start (its "owner"). */
function ownerOf(server: RunningServer): string {
  const m = /"msg":"hookwire listening".*?"owner":"([^"]+)"/.exec(server.output());
  if (!m?.[1]) throw new Error(`no owner in the log:\n${server.output()}`);
  return m[1];
}

/** A receiver that holds the first request (never answers it) and answers 200 after; a subscription to it on `server`. */
async function hangingFirst(server: RunningServer) {
  const rcv = await startReceiver();
  cleanup.push(() => rcv.close());
  const { secret } = await grpcClient(server).register({ url: rcv.url("/r"), events: ["restart.*"], timeoutMs: 120_000, retryDelayMs: 100 }, acme);
  rcv.route("/r", { secret, respond: (n) => (n === 1 ? { status: 200, hang: true } : { status: 200, body: "ok" }) });
  return rcv;
}

it.each(["ferretdb", "mongodb"])(
  "killed with -9 mid-attempt, restarted on the same database: the dead process's delivery arrives within seconds, far under its hold (%s layout)",
  async (layout) => {
    const database = uniqueDatabase("restart");
    const a = await serve(database, layout);
    const rcv = await hangingFirst(a);
    const key = `restart-${layout}`;
    const { messageId } = await grpcClient(a).trigger({ event: "restart.test", payload: json({ n: 1 }), idempotencyKey: key }, acme);
    await rcv.waitFor((all) => all.length >= 1); // a's attempt is in flight, held by a
    const deadOwner = ownerOf(a);
    await a.stop("SIGKILL");

    const b = await serve(database, layout);
    const started = Date.now();
    // The caller retries the same Trigger: answered with the first message.
    const again = await grpcClient(b).trigger({ event: "restart.test", payload: json({ n: 1 }), idempotencyKey: key }, acme);
    expect(again.messageId).toBe(messageId);
    const all = await rcv.waitFor((r) => r.length >= 2, 10_000);
    expect(Date.now() - started).toBeLessThan(10_000);
    const second = all[1]!;
    expect(second.verified, second.verifyError).toBe(true);
    expect(second.headers["webhook-id"]).toBe(messageId);
    expect(JSON.parse(second.body)).toMatchObject({ event: "restart.test", payload: { n: 1 } });
    const released = b.output().split("\n").find((l) => l.includes("released the holds of dead processes"));
    expect(released, b.output()).toBeDefined();
    expect(JSON.parse(released!)).toMatchObject({ level: "info", holders: [deadOwner], owner: ownerOf(b) });
  },
  90_000,
);

it("a second process started beside a live one releases none of its holds: the held delivery is not sent again", async () => {
  const database = uniqueDatabase("restart");
  const a = await serve(database, "ferretdb");
  const rcv = await hangingFirst(a);
  await grpcClient(a).trigger({ event: "restart.test", payload: json({ n: 2 }) }, acme);
  await rcv.waitFor((all) => all.length >= 1);
  const b = await serve(database, "ferretdb");
  await sleep(4000); // a sleep: nothing may happen within it (b takes at start and then every poll, 1 s)
  expect(rcv.requests("/r")).toHaveLength(1);
  expect(b.output()).not.toContain("released the holds of dead processes");
  expect(a.child.exitCode).toBeNull();
}, 60_000);
