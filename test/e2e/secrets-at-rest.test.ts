// Secrets at rest: sealed in the store, absent from delivery rows, looked up when an attempt is prepared.
// A subscription's extra headers are kept the same way.
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code } from "@connectrpc/connect";
import { MongoClient } from "mongodb";
import { afterEach, expect, inject, it } from "vitest";
import { DeliveryStatus } from "@hookwire/sdk/proto";
import { startReceiver } from "../helpers/receiver.js";
import { bearer, connectClient, failure, grpcClient, KEYS, startServer, uniqueDatabase, type RunningServer } from "../helpers/server.js";
import { sleep, waitFor } from "../helpers/wait.js";

const acme = { headers: bearer(KEYS.acme) };
const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!().catch(() => undefined);
});

const newSecret = () => "whsec_" + randomBytes(32).toString("base64");
const FAST = { HOOKWIRE_ALLOW_PRIVATE_URLS: "true", HOOKWIRE_POLL_MS: "100", HOOKWIRE_LEASE_MS: "2000" };

async function serve(env: Record<string, string | undefined>): Promise<RunningServer> {
  const s = await startServer({ env: { ...FAST, ...env } });
  cleanup.push(() => s.stop("SIGKILL"));
  return s;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .map((f) => join(dir, f))
    .filter((f) => {
      try {
        return statSync(f).isFile();
      } catch {
        return false;
      }
    });
}

it("no subscription or Send secret, nor a subscription's header value, appears in the embedded store's files, in any form a receiver library takes", async () => {
  const rcv = await startReceiver();
  cleanup.push(() => rcv.close());
  const dataDir = mkdtempSync(join(tmpdir(), "hookwire-secrets-"));
  const server = await serve({ MONGODB_URI: undefined, HOOKWIRE_DATA_DIR: dataDir });
  const client = grpcClient(server);
  const first = newSecret();
  const second = newSecret();
  const sendSecret = `plain-send-secret-${randomBytes(12).toString("hex")}`;
  // The customer's own credentials for its endpoint, as extra headers.
  const token = `customer-token-${randomBytes(12).toString("hex")}`;
  const apiKey = `customer-key-${randomBytes(12).toString("hex")}`;
  // Failing receivers keep every delivery pending: queue rows, batch rows and the Send's kept secret all exist.
  rcv.route("/sub", { secret: second, respond: () => ({ status: 500 }) });
  rcv.route("/send", { respond: () => ({ status: 500 }) });
  const { subscription } = await client.register(
    { url: rcv.url("/sub"), events: ["s.*"], secret: first, retries: 5, retryDelayMs: 60_000, headers: { Authorization: `Bearer ${token}`, "X-Api-Key": apiKey } },
    acme,
  );
  await client.rotateSecret({ id: subscription!.id, secret: second }, acme); // the first is kept as a previous secret
  await client.trigger({ event: "s.made", payload: undefined }, acme);
  const aborted = new AbortController();
  const sending = client.send(
    { url: rcv.url("/send"), secret: sendSecret, payload: { event: "s.sent", timestamp: "" }, retries: 5, retryDelayMs: 60_000 },
    { ...acme, signal: aborted.signal },
  );
  sending.catch(() => undefined);
  await rcv.waitFor(() => rcv.requests("/sub").length >= 1 && rcv.requests("/send").length >= 1);
  // The secrets were opened for the attempt: the receiver's independent libraries verified it.
  expect(rcv.requests("/sub")[0]!.verifyError).toBe("");
  expect(String(rcv.requests("/sub")[0]!.headers["webhook-signature"]).split(" ")).toHaveLength(2);
  // The headers were opened for it too, and arrived as given.
  expect(rcv.requests("/sub")[0]!.headers.authorization).toBe(`Bearer ${token}`);
  expect(rcv.requests("/sub")[0]!.headers["x-api-key"]).toBe(apiKey);
  aborted.abort();
  // The first outcomes' rows are written: both deliveries list their first attempt.
  await waitFor(
    async () => {
      const { deliveries } = await client.listDeliveries({ status: DeliveryStatus.PENDING }, acme);
      return deliveries.length === 2 && deliveries.every((d) => d.attempts.length >= 1);
    },
    { what: "both first attempts recorded" },
  );
  expect(await server.stop("SIGTERM")).toBe(0);

  const forms = [first, second, first.slice(6), second.slice(6), sendSecret, token, apiKey].map((s) => Buffer.from(s, "utf8"));
  const files = filesUnder(dataDir);
  expect(files.some((f) => f.includes("ferretdb"))).toBe(true);
  for (const file of files) {
    const bytes = readFileSync(file);
    for (const form of forms) expect(bytes.includes(form), `${file} holds a secret or a header value`).toBe(false);
  }
  // The key that seals them is private to the owner.
  expect(statSync(join(dataDir, "encryption-key")).mode & 0o777).toBe(0o600);
});

it("delivery rows carry no secret; subscriptions hold sealed secrets and headers; the key rotates", async () => {
  const rcv = await startReceiver();
  cleanup.push(() => rcv.close());
  const database = uniqueDatabase("seal");
  const [k1, k2] = [randomBytes(32).toString("base64"), randomBytes(32).toString("base64")];
  const s1 = await serve({ HOOKWIRE_DATABASE: database, HOOKWIRE_ENCRYPTION_KEY: k1 });
  const c1 = grpcClient(s1);
  const secret = newSecret();
  let status = 500;
  rcv.route("/r", { secret, respond: () => ({ status }) });
  const token = `token-${randomBytes(12).toString("hex")}`;
  const { subscription } = await c1.register({ url: rcv.url("/r"), events: ["r.*"], secret, retries: 5, retryDelayMs: 60_000, headers: { "x-customer-token": token } }, acme);
  await c1.trigger({ event: "r.one", payload: undefined }, acme);
  await rcv.waitFor(() => rcv.requests("/r").length >= 1);
  await s1.stop("SIGTERM");

  const mongo = new MongoClient(inject("mongodbUri"));
  cleanup.push(() => mongo.close());
  const db = mongo.db(database);
  const stored = await db.collection("subscriptions").findOne({ _id: subscription!.id as never });
  expect(stored!.secret).toMatch(/^hwenc:v1:/);
  expect(stored!.headers).toMatch(/^hwenc:v1:/);
  expect(JSON.stringify(stored)).not.toContain(token);
  for (const name of ["delivery_queue", "delivery_log", "delivery_batches"]) {
    for (const row of await db.collection(name).find({}).toArray()) {
      const text = JSON.stringify(row);
      expect(text).not.toContain(secret.slice(6));
      expect(text).not.toContain(token);
      expect(text).not.toContain('"secret"');
    }
  }
  expect(await db.collection("delivery_queue").countDocuments({})).toBe(1);

  // Rotation: the new key first; the old one still opens, and at start every secret is sealed anew.
  const s2 = await serve({ HOOKWIRE_DATABASE: database, HOOKWIRE_ENCRYPTION_KEY: `${k2},${k1}` });
  expect(s2.output()).toMatch(/"msg":"subscription secrets sealed with the current encryption key","subscriptions":1/);
  await s2.stop("SIGTERM");
  const resealed = await db.collection("subscriptions").findOne({ _id: subscription!.id as never });
  expect(resealed!.secret).not.toBe(stored!.secret);
  expect(resealed!.headers).not.toBe(stored!.headers);
  // Now the old key can go: the pending delivery is signed with the secret opened by the new key alone.
  status = 200;
  await serve({ HOOKWIRE_DATABASE: database, HOOKWIRE_ENCRYPTION_KEY: k2 });
  await db.collection("delivery_queue").updateMany({}, { $set: { nextAttemptAt: new Date(0), holdUntil: new Date(0) } });
  const all = await rcv.waitFor((r) => r.filter((x) => x.path === "/r").length >= 2);
  expect(all.filter((x) => x.path === "/r").at(-1)!.verifyError).toBe("");
  expect(all.filter((x) => x.path === "/r").at(-1)!.headers["x-customer-token"]).toBe(token);
});

it("a subscription deleted or disabled after the Trigger gets no more attempts, even those held in memory", async () => {
  const rcv = await startReceiver();
  cleanup.push(() => rcv.close());
  const server = await serve({ HOOKWIRE_DATABASE: uniqueDatabase("gone") });
  const client = grpcClient(server);
  for (const how of ["delete", "disable"] as const) {
    const path = `/${how}`;
    rcv.route(path, { respond: () => ({ status: 500 }) });
    // Retries due in 300 ms are held in memory by the process that made the first attempt.
    const { subscription } = await client.register({ url: rcv.url(path), events: [`${how}.*`], retries: 5, retryDelayMs: 300 }, acme);
    const { messageId } = await client.trigger({ event: `${how}.now`, payload: undefined }, acme);
    await rcv.waitFor(() => rcv.requests(path).length >= 1);
    if (how === "delete") await client.deleteSubscription({ id: subscription!.id }, acme);
    else await client.updateSubscription({ id: subscription!.id, disabled: true }, acme);
    await sleep(2500); // a sleep: none of its retries (due 300 ms on, held in memory) may be sent
    expect(rcv.requests(path)).toHaveLength(1);
    if (how === "disable") {
      // The delivery ends failed, saying why; it does not stick as pending.
      const { deliveries } = await client.listDeliveries({ messageId }, acme);
      expect(deliveries[0]!.status).toBe(DeliveryStatus.FAILED);
      expect(deliveries[0]!.attempts.at(-1)!.error).toMatch(/not sent: the subscription is disabled \(disabled by caller\)/);
    }
  }
});

it("Send refuses a whsec_ secret that is not base64, and a Send's delivery cannot be redelivered once its secret is gone", async () => {
  const rcv = await startReceiver();
  cleanup.push(() => rcv.close());
  const server = await serve({ HOOKWIRE_DATABASE: uniqueDatabase("sendsec") });
  const client = connectClient(server);
  const bad = await failure(client.send({ url: rcv.url("/x"), secret: "whsec_not*base64!", payload: { event: "x.y" } }, acme));
  expect(bad.code).toBe(Code.InvalidArgument);
  expect(bad.rawMessage).toMatch(/^secret: /);

  rcv.route("/ok", { secret: "plain-secret-for-send", respond: () => ({ status: 200 }) });
  const sent = await client.send({ url: rcv.url("/ok"), secret: "plain-secret-for-send", payload: { event: "x.y" } }, acme);
  expect(sent.delivery!.status).toBe(DeliveryStatus.DELIVERED);
  const again = await failure(client.redeliver({ deliveryId: sent.delivery!.id }, acme));
  expect(again.code).toBe(Code.FailedPrecondition);
  expect(again.rawMessage).toMatch(/^delivery_id: .*made by Send/);
  // Its kept secret went with it.
  const mongo = new MongoClient(inject("mongodbUri"));
  cleanup.push(() => mongo.close());
  const name = /"msg":"store ready","database":"([^"]+)"/.exec(server.output())![1]!;
  expect(await mongo.db(name).collection("send_secrets").countDocuments({})).toBe(0);
});
