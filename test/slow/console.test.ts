// The web console in a real browser: headless Chromium (Debian's package, driven by puppeteer-core) against a
// real server and a real receiver. It signs in, watches a delivery appear live, opens it, redelivers it,
// shows the failed-only view, recovers and shows the event type catalog; screenshots go to artifacts/console/ (kept by CI).
// Also, over plain HTTP: the route's content types, caching, CSP; and the console's scripts type-check.
import { execFile } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { DeliveryStatus } from "@hookwire/sdk/proto";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startReceiver, type Receiver } from "../helpers/receiver.js";
import { bearer, connectClient, KEYS, startServer, type RunningServer } from "../helpers/server.js";
import { waitFor } from "../helpers/wait.js";

// The page's globals that callbacks run in the browser use (this project type-checks against Node's types).
interface PageElement {
  textContent: string | null;
  getAttribute(name: string): string | null;
  querySelector(selector: string): PageElement | null;
}
declare const document: {
  querySelectorAll(selector: string): Iterable<PageElement>;
  addEventListener(type: "securitypolicyviolation", fn: (e: { violatedDirective: string; blockedURI: string }) => void): void;
};
declare const sessionStorage: { length: number; setItem(key: string, value: string): void };

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const SHOTS = join(ROOT, "artifacts", "console");
const CHROMIUM = process.env.HOOKWIRE_CHROMIUM ?? "/usr/bin/chromium";
const acme = { headers: bearer(KEYS.acme) };

let server: RunningServer;
let rcv: Receiver;
let browser: Browser;
let page: Page;
let client: ReturnType<typeof connectClient>;
const problems: string[] = [];
const subs = { ok: "", down: "", globex: "" };

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set HOOKWIRE_CHROMIUM)`);
  mkdirSync(SHOTS, { recursive: true });
  rcv = await startReceiver();
  server = await startServer({ env: { HOOKWIRE_ALLOW_PRIVATE_URLS: "true", HOOKWIRE_POLL_MS: "100" } });
  client = connectClient(server);
  const ok = await client.register({ url: rcv.url("/orders"), events: ["order.*"], description: "order service" }, acme);
  rcv.route("/orders", { secret: ok.secret, respond: () => ({ status: 200, body: '{"received":true}' }) });
  const down = await client.register({ url: rcv.url("/invoices"), events: ["invoice.*"], retries: 0, description: "billing (down)" }, acme);
  rcv.route("/invoices", { secret: down.secret, respond: () => ({ status: 503, body: "maintenance" }) });
  const other = await client.register({ url: rcv.url("/globex"), events: ["*"] }, { headers: bearer(KEYS.globex) });
  subs.ok = ok.subscription!.id;
  subs.down = down.subscription!.id;
  subs.globex = other.subscription!.id;
  // Root runs Chromium without its sandbox (it refuses otherwise); the page is our own, from 127.0.0.1.
  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--lang=en-US"],
  });
  page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 820 });
  page.on("pageerror", (err) => problems.push(`page error: ${String(err)}`));
  page.on("console", (m) => {
    // A refused call logs a failed resource load (401/404 are expected answers here); anything else is a problem.
    if (m.type() === "error" && !/Failed to load resource/.test(m.text())) problems.push(`console error: ${m.text()}`);
  });
  await page.evaluateOnNewDocument(() => {
    document.addEventListener("securitypolicyviolation", (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));
  });
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await rcv?.close();
});

const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
const text = (sel: string) => page.$eval(sel, (el) => el.textContent ?? "");
const url = (path: string) => `${server.baseUrl}${path}`;

async function signIn(key: string) {
  await page.goto(url("/console#/signin"), { waitUntil: "load" });
  await page.waitForSelector("form.signin input[name=key]");
  await page.$eval("form.signin input[name=key]", (el) => ((el as unknown as { value: string }).value = ""));
  await page.type("form.signin input[name=key]", key);
  await page.click("form.signin button[type=submit]");
}

/** Equal as data (int64 fields are bigints, which JSON.stringify refuses). */
const same = (a: unknown, b: unknown) => JSON.stringify(a, (_, v: unknown) => (typeof v === "bigint" ? v.toString() : v)) === JSON.stringify(b, (_, v: unknown) => (typeof v === "bigint" ? v.toString() : v));

async function failedDeliveryOf(subscriptionId: string) {
  return waitFor(async () => (await client.listDeliveries({ subscriptionId, status: DeliveryStatus.FAILED }, acme)).deliveries[0], {
    timeoutMs: 10_000,
    intervalMs: 100,
    what: `a failed delivery of ${subscriptionId}`,
  });
}

describe("the /console route", () => {
  it("serves the page and its assets with their types, caching headers and a strict CSP", async () => {
    const res = await fetch(url("/console"));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(res.headers.get("cache-control")).toBe("no-cache");
    const csp = res.headers.get("content-security-policy") ?? "";
    for (const d of ["default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'", "require-trusted-types-for 'script'"]) {
      expect(csp).toContain(d);
    }
    expect(csp).not.toMatch(/unsafe|https?:|\*/);
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    const html = await res.text();
    const app = /src="(\/console\/v\/[0-9a-f]{12}\/)app\.js"/.exec(html);
    expect(app, html).not.toBeNull();
    expect(html).not.toMatch(/<script>|\sstyle=|\son\w+=|https?:\/\//); // no inline code, nothing from outside

    const etag = res.headers.get("etag")!;
    expect((await fetch(url("/console/"), { headers: { "if-none-match": etag } })).status).toBe(304);

    const base = app![1]!;
    const js = await fetch(url(`${base}app.js`), { headers: { "accept-encoding": "gzip" } });
    expect(js.status).toBe(200);
    expect(js.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(js.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(js.headers.get("content-encoding")).toBe("gzip");
    expect(await js.text()).toContain("import");
    const css = await fetch(url(`${base}console.css`));
    expect(css.headers.get("content-type")).toBe("text/css; charset=utf-8");

    // Only the current version's own files, read at start-up: nothing else of the file system.
    for (const p of ["/console/v/000000000000/app.js", `${base}tsconfig.json`, `${base}..%2f..%2fapp.ts`, `${base}../../api/console-route.ts`, "/console/app.js"]) {
      expect((await fetch(url(p))).status, p).toBe(404);
    }
    expect((await fetch(url("/consoles"))).status).toBe(404);
    const post = await fetch(url("/console"), { method: "POST", body: "x" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD");
    const head = await fetch(url("/console"), { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
  });

  it("WatchDeliveries over Connect sends its headers once it listens, before any outcome", async () => {
    const abort = new AbortController();
    const started = Date.now();
    const res = await fetch(url("/hookwire.v1.WebhookService/WatchDeliveries"), {
      method: "POST",
      headers: { ...acme.headers, "content-type": "application/connect+json", "connect-protocol-version": "1" },
      body: new Uint8Array([0, 0, 0, 0, 2, 0x7b, 0x7d]), // one envelope: flags 0, length 2, "{}"
      signal: AbortSignal.any([abort.signal, AbortSignal.timeout(5000)]),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/connect+json");
    expect(Date.now() - started).toBeLessThan(5000);
    abort.abort();
  });

  it("the console's browser scripts type-check (JSDoc, strict)", async () => {
    const tsc = join(ROOT, "node_modules", "typescript", "bin", "tsc");
    await promisify(execFile)(process.execPath, [tsc, "-p", join(ROOT, "server", "console")]);
  });
});

describe("the console's health summary (server/console/format.js, as the pages use it)", () => {
  it("a rate per delivery over the stated window (a success after retries is a success), and no rate before any", async () => {
    // @ts-expect-error: a plain browser module (JSDoc-typed, checked by its own tsconfig), imported here for its pure helpers.
    const { health } = (await import("../../server/console/format.js")) as { health: (s: unknown) => Record<string, unknown> };
    expect(health({})).toMatchObject({ total: 0, rateText: "no attempts recorded", level: "none" });
    expect(health({ health: { attemptsSucceeded: "0", attemptsFailed: "0" } })).toMatchObject({ total: 0, rateText: "no attempts recorded" });
    // int64 counts arrive as strings in protobuf JSON; absent fields are zero. One delivery that succeeded on its
    // third attempt: 100 %, not one attempt in three.
    const third = health({ health: { attemptsSucceeded: "1", attemptsFailed: "2", recentDeliveriesSucceeded: "1", recentWindowHours: 24 } });
    expect(third).toMatchObject({ rateText: "100 % of 1 delivery (last 24 h)", level: "good", attemptsText: "1 of 3 attempts answered 2xx (all time)" });
    expect(health({ health: { attemptsSucceeded: "45", attemptsFailed: "9", recentDeliveriesSucceeded: "39", recentDeliveriesFailed: "1", recentWindowHours: 24 } })).toMatchObject({
      deliveries: 40,
      rateText: "97.5 % of 40 deliveries (last 24 h)",
      level: "fair",
    });
    expect(
      health({ health: { attemptsFailed: "7", recentDeliveriesFailed: "7", recentWindowHours: 24, lastError: "HTTP 503", failingSince: "2026-01-01T00:00:00Z", consecutiveFailures: "7" } }),
    ).toMatchObject({ rateText: "0 % of 7 deliveries (last 24 h)", level: "poor", lastError: "HTTP 503", consecutiveFailures: 7 });
    // Attempts made, but none finished within the window: no rate, saying so.
    expect(health({ health: { attemptsSucceeded: "3", recentWindowHours: 24 } })).toMatchObject({ rateText: "no deliveries finished in the last 24 h", level: "none" });
  });
});

describe("the console in Chromium", () => {
  it("refuses a wrong key at sign-in, saying why", async () => {
    await signIn("not-a-key-000000");
    await page.waitForSelector(".signin .error[data-code=unauthenticated]");
    expect(await text(".signin .error")).toContain("unknown API key");
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    await shot("01-sign-in-refused");
  });

  it("signs in and lists this tenant's subscriptions, with their health", async () => {
    await signIn(KEYS.acme);
    await page.waitForSelector(`tr[data-subscription-id="${subs.ok}"]`);
    await page.waitForSelector(`tr[data-subscription-id="${subs.down}"]`);
    expect(await page.$(`tr[data-subscription-id="${subs.globex}"]`)).toBeNull();
    expect(await page.$$eval("table.subscriptions tbody tr", (rows) => rows.length)).toBe(2);
    expect(await page.evaluate(() => Object.keys(sessionStorage))).toEqual(["hookwire.console.apiKey"]);
    // Health as the server has it: no attempts yet, so no rate (a server without health answers zeros too).
    const h = (await client.getSubscription({ id: subs.ok }, acme)).subscription!.health;
    expect(Number(h?.attemptsSucceeded ?? 0) + Number(h?.attemptsFailed ?? 0)).toBe(0);
    expect(await text(`tr[data-subscription-id="${subs.ok}"] td.health`)).toBe("no attempts recorded");
    await shot("02-subscriptions");
  });

  it("shows each subscription's owner, and filters the list to one owner's", async () => {
    const owned = await client.register({ url: rcv.url("/owned"), events: ["nothing.*"], owner: "user-zed <b>x</b>" }, acme);
    await page.reload(); // the list is read when the page opens
    const row = `tr[data-subscription-id="${owned.subscription!.id}"]`;
    await page.waitForSelector(row);
    // Shown as text, never as markup.
    expect(await text(`${row} td.owner`)).toBe("user-zed <b>x</b>");
    expect(await page.$(`${row} td.owner b`)).toBeNull();
    expect(await text(`tr[data-subscription-id="${subs.ok}"] td.owner`)).toBe("tenant");
    await page.type("form.owner-filter input[name=owner]", "user-zed <b>x</b>");
    await page.click("form.owner-filter button[type=submit]");
    const rows = () => page.$$eval("table.subscriptions tbody tr", (trs) => trs.map((tr) => tr.getAttribute("data-subscription-id")));
    await waitFor(async () => JSON.stringify(await rows()) === JSON.stringify([owned.subscription!.id]), { what: "only the owner's row" });
    await shot("02b-subscriptions-of-one-owner");
    await client.deleteSubscription({ id: owned.subscription!.id }, acme);
  });

  it("shows a subscription's rate limit and its extra headers' names, never their values", async () => {
    const token = "Bearer cust-secret-7f3a";
    const reg = await client.register({ url: rcv.url("/with-headers"), events: ["nothing.*"], headers: { Authorization: token, "X-Shop": "42" }, rateLimitPerSecond: 7 }, acme);
    const id = reg.subscription!.id;
    await page.goto(url(`/console#/subscriptions/${id}`));
    await page.waitForSelector("ul.headers");
    expect(await page.$$eval("ul.headers li", (lis) => lis.map((li) => li.textContent))).toEqual(["authorization: ••••••••", "x-shop: ••••••••"]);
    expect(await page.$$eval("dl.facts dt, dl.facts dd", (els) => els.map((e) => e.textContent).join("|"))).toContain("Rate limit|7 attempts a second (per Hookwire process)");
    // GetSubscription answered the values; the page keeps none of them.
    const html = await page.content();
    expect(html).not.toContain("cust-secret-7f3a");
    expect(html).not.toContain(">42<");
    await shot("02c-subscription-settings");
    await client.deleteSubscription({ id }, acme);
  });

  let messageId = "";
  let deliveryId = "";

  it("shows a delivery live in the tail after a Trigger", async () => {
    await page.click('nav a[data-nav="tail"]');
    // The stream's headers arrive once the server's watch is registered: nothing after this is missed.
    await page.waitForSelector('.tail-state[data-state="live"]', { timeout: 10_000 });
    const t = await client.trigger({ event: "order.created", payload: { kind: { case: "stringValue", value: "order 1001 <b>bold?</b>" } } }, acme);
    messageId = t.messageId;
    const row = `tr.tail-row[data-message-id="${messageId}"]`;
    await page.waitForSelector(row, { timeout: 15_000 });
    expect(await page.$eval(row, (el) => el.querySelector("[data-status]")?.getAttribute("data-status"))).toBe("delivered");
    expect(await page.$eval(row, (el) => el.textContent)).toContain("HTTP 200");
    deliveryId = (await page.$eval(row, (el) => el.getAttribute("data-delivery-id")))!;
    expect(deliveryId).toMatch(/^dlv_/);
    await shot("03-live-tail");
  });

  it("opens the delivery: its message, payload and every attempt", async () => {
    await page.click(`tr.tail-row[data-message-id="${messageId}"]`);
    await page.waitForSelector("code.message-id");
    expect(await text("code.message-id")).toBe(messageId);
    // The payload is shown as text: its markup is not markup.
    expect(await text("pre.payload")).toContain("order 1001 <b>bold?</b>");
    expect(await page.$("pre.payload b")).toBeNull();
    const card = `details.delivery[data-delivery-id="${deliveryId}"]`;
    await page.waitForSelector(card);
    await page.click(`${card} > summary`);
    const cells = await page.$$eval(`${card} table.attempts tbody tr td`, (tds) => tds.map((td) => td.textContent ?? ""));
    expect(cells[2]).toBe("200");
    expect(cells[3]).toMatch(/\d+ ms|s$/);
    expect(cells[4]).toBe('{"received":true}');
    await shot("04-message");
  });

  it("redelivers it and sees the redelivery arrive", async () => {
    const card = `details.delivery[data-delivery-id="${deliveryId}"]`;
    await page.click(`${card} button.redeliver`);
    await page.waitForSelector(".banner.notice");
    expect(await text(".banner")).toMatch(/^Redelivery dlv_\S+ queued/);
    // The new delivery appears, and turns delivered when its outcome streams in.
    await page.waitForFunction(
      (orig) => [...document.querySelectorAll("details.delivery")].some((d) => d.querySelector(".redelivery-of")?.textContent === orig && d.getAttribute("data-status") === "DELIVERY_STATUS_DELIVERED"),
      { timeout: 15_000 },
      deliveryId,
    );
    // The original now reads as handled, naming its redelivery.
    const original = `details.delivery[data-delivery-id="${deliveryId}"]`;
    await page.waitForSelector(`${original} [data-handled=redelivered]`);
    expect(await text(`${original} summary .badge`)).toBe("handled (redelivered)");
    const received = rcv.requests("/orders").filter((r) => r.headers["webhook-id"] === messageId);
    expect(received.length).toBe(2);
    expect(received.every((r) => r.verified)).toBe(true);
    await shot("05-redelivered");
  });

  it("shows a failing endpoint's deliveries with the error each attempt got", async () => {
    await client.trigger({ event: "invoice.overdue", payload: { kind: { case: "numberValue", value: 42 } } }, acme);
    const failed = await failedDeliveryOf(subs.down);
    await page.goto(url(`/console#/subscriptions/${subs.down}`));
    await page.waitForSelector("section.health-panel");
    await page.select("select[name=status]", "DELIVERY_STATUS_FAILED");
    const card = `details.delivery[data-delivery-id="${failed.id}"]`;
    await page.waitForSelector(card);
    await page.click(`${card} > summary`);
    const cells = await page.$$eval(`${card} table.attempts tbody tr td`, (tds) => tds.map((td) => td.textContent ?? ""));
    expect(cells[2]).toBe("503");
    expect(cells[4]).toBe("maintenance");
    await shot("06-subscription-failing");
  });

  it("shows a subscription's health as the server records it", async () => {
    // Health comes from the server (zeros until it records attempts: branch endpoint-health, which writes it about
    // once a second); the page must say what the server says. Wait until the server's record shows the failed
    // attempt, then load the page afresh and compare it with a read made after it rendered.
    const read = async () => (await client.getSubscription({ id: subs.down }, acme)).subscription!.health;
    const attempts = (h: Awaited<ReturnType<typeof read>>) => Number(h?.attemptsSucceeded ?? 0) + Number(h?.attemptsFailed ?? 0);
    await waitFor(async () => attempts(await read()) > 0, { timeoutMs: 10_000, intervalMs: 100, what: "the failed attempt in the subscription's health" });
    let health = await read();
    for (let i = 0; i < 5; i++) {
      await page.goto(url(`/console#/subscriptions/${subs.down}`));
      await page.reload(); // the same URL with a hash is not loaded again by goto
      await page.waitForSelector("section.health-panel");
      const again = await read();
      if (same(again, health)) break;
      health = again;
    }
    const ok = Number(health?.attemptsSucceeded ?? 0);
    const total = ok + Number(health?.attemptsFailed ?? 0);
    const deliveries = Number(health?.recentDeliveriesSucceeded ?? 0) + Number(health?.recentDeliveriesFailed ?? 0);
    const rate = await text("section.health-panel dd.rate");
    expect(health?.recentWindowHours).toBe(24);
    if (total === 0) {
      expect(rate).toBe("no attempts recorded");
    } else {
      expect(rate).toMatch(new RegExp(`^\\d+(\\.\\d)? % of ${deliveries} deliver(y|ies) \\(last 24 h\\)$`));
      expect(await text("section.health-panel dd.attempt-counts")).toBe(`${ok} of ${total} attempt${total === 1 ? "" : "s"} answered 2xx (all time)`);
      if (health?.lastError) expect(await text("section.health-panel")).toContain(health.lastError);
      if (health?.failingSince) expect(await text("section.health-panel")).toContain(`${health.consecutiveFailures} failed in a row`);
    }
    await shot("07-health");
  });

  // Needs the server's tenant-wide ListDeliveries (neither id, status FAILED): branch `recovery`.
  it("shows the failed-only view across the tenant", async () => {
    const failed = await failedDeliveryOf(subs.down);
    await page.click('nav a[data-nav="failed"]');
    await page.waitForSelector(`details.delivery[data-delivery-id="${failed.id}"], .error`, { timeout: 10_000 });
    await shot("08-failed");
    expect(await page.$(".error"), await page.$eval(".error", (e) => e.textContent).catch(() => "")).toBeNull();
    const statuses = await page.$$eval("details.delivery", (ds) => ds.map((d) => d.getAttribute("data-status")));
    expect(statuses.length).toBeGreaterThan(0);
    expect(new Set(statuses)).toEqual(new Set(["DELIVERY_STATUS_FAILED"]));
  });

  // Needs the RecoverDeliveries use case: branch `recovery`.
  it("recovers a subscription's failed deliveries since a time", async () => {
    const before = rcv.requests("/invoices").length;
    await page.goto(url(`/console#/subscriptions/${subs.down}`));
    await page.waitForSelector("form.recover button[type=submit]");
    await page.click("form.recover button[type=submit]");
    await page.waitForSelector(".recover-progress .done, .recover-progress .error", { timeout: 15_000 });
    await shot("09-recovered");
    expect(await page.$(".recover-progress .error"), await text(".recover-progress")).toBeNull();
    expect(await page.$eval(".recover-progress .done", (e) => e.getAttribute("data-recovered"))).toBe("1");
    await rcv.waitFor(() => rcv.requests("/invoices").length > before);
  });

  it("shows a recovered delivery as handled, linking to its redelivery, which the link opens", async () => {
    const original = await failedDeliveryOf(subs.down);
    const listed = await waitFor(async () => (await client.listDeliveries({ subscriptionId: subs.down, status: DeliveryStatus.FAILED }, acme)).deliveries.find((d) => d.id === original.id && d.redeliveredAs), {
      timeoutMs: 10_000,
      intervalMs: 100,
      what: "the recovered delivery answered with its redelivery",
    });
    const redelivery = listed.redeliveredAs;
    await page.click('nav a[data-nav="failed"]');
    const card = `details.delivery[data-delivery-id="${original.id}"]`;
    await page.waitForSelector(`${card} [data-handled=redelivered]`, { timeout: 10_000 });
    expect(await text(`${card} summary .badge`)).toBe("handled (redelivered)");
    await page.click(`${card} > summary`);
    expect(await text(`${card} a.redelivered-as`)).toBe(redelivery);
    await shot("09b-recovered-handled");
    await page.click(`${card} a.redelivered-as`);
    // Lands on the message's page with the redelivery open and marked, naming the delivery it redelivers.
    const landed = `details.delivery.focus[data-delivery-id="${redelivery}"]`;
    await page.waitForSelector(landed, { timeout: 10_000 });
    expect(page.url()).toContain(`#/messages/${original.messageId}/${redelivery}`);
    expect(await page.$eval(landed, (d) => d.getAttribute("open"))).not.toBeNull();
    expect(await text(`${landed} a.redelivery-of`)).toBe(original.id);
    await shot("09c-redelivery-opened");
  });

  it("lists newest first by default, and oldest first when chosen, on every list that takes the choice", async () => {
    const sub = await client.register({ url: rcv.url("/ordered"), events: ["ordered.*"] }, acme);
    rcv.route("/ordered", { secret: sub.secret, respond: () => ({ status: 200, body: "ok" }) });
    const id = sub.subscription!.id;
    for (let i = 0; i < 4; i++) await client.trigger({ event: "ordered.step", payload: { kind: { case: "numberValue", value: i } } }, acme);
    const all = await waitFor(async () => {
      const ds = (await client.listDeliveries({ subscriptionId: id, status: DeliveryStatus.DELIVERED }, acme)).deliveries;
      return ds.length === 4 ? ds.map((d) => d.id) : undefined;
    }, { timeoutMs: 10_000, intervalMs: 100, what: "four delivered" });
    const up = [...all].sort();
    const shown = () => page.$$eval("details.delivery", (ds) => ds.map((d) => d.getAttribute("data-delivery-id")));
    await page.goto(url(`/console#/subscriptions/${id}`));
    await page.waitForSelector("details.delivery");
    await waitFor(async () => (await shown()).length === 4, { what: "the four deliveries" });
    expect(await shown()).toEqual([...up].reverse());
    expect(await page.$eval("select[name=order]", (el) => (el as unknown as { value: string }).value)).toBe("newest");
    await shot("11-newest-first");
    await page.select("select[name=order]", "oldest");
    await waitFor(async () => JSON.stringify(await shown()) === JSON.stringify(up), { what: "the oldest first" });
    await shot("11b-oldest-first");
    // The choice holds for the other lists, and the server pages on in it: the subscriptions, newest last now.
    await page.goto(url("/console#/subscriptions"));
    await page.waitForSelector(`tr[data-subscription-id="${id}"]`);
    const rows = await page.$$eval("table.subscriptions tbody tr", (trs) => trs.map((tr) => tr.getAttribute("data-subscription-id")));
    expect(rows.at(-1)).toBe(id);
    await page.select("select[name=order]", "newest");
    await waitFor(async () => (await page.$$eval("table.subscriptions tbody tr", (trs) => trs.map((tr) => tr.getAttribute("data-subscription-id"))))[0] === id, { what: "the newest subscription first" });
    // Newest first is the default, kept as nothing: the tab holds only the key.
    expect(await page.evaluate(() => Object.keys(sessionStorage))).toEqual(["hookwire.console.apiKey"]);
    await client.deleteSubscription({ id }, acme);
  });

  it("counts a delivery that succeeded on its third attempt as 100 % in the success rate", async () => {
    const sub = await client.register({ url: rcv.url("/flaky"), events: ["flaky.*"], retries: 2, retryDelayMs: 10 }, acme);
    rcv.route("/flaky", { secret: sub.secret, respond: (n) => (n <= 2 ? { status: 503, body: "not yet" } : { status: 200, body: "ok" }) });
    const id = sub.subscription!.id;
    await client.trigger({ event: "flaky.once", payload: { kind: { case: "numberValue", value: 3 } } }, acme);
    const health = await waitFor(async () => {
      const h = (await client.getSubscription({ id }, acme)).subscription!.health;
      return Number(h?.recentDeliveriesSucceeded ?? 0) === 1 && Number(h?.attemptsSucceeded ?? 0) === 1 ? h : undefined;
    }, { timeoutMs: 15_000, intervalMs: 100, what: "the delivery's success in the health" });
    expect(Number(health!.attemptsFailed)).toBe(2);
    expect(Number(health!.recentDeliveriesFailed ?? 0)).toBe(0);
    await page.goto(url(`/console#/subscriptions/${id}`));
    await page.reload();
    await page.waitForSelector("section.health-panel");
    expect(await text("section.health-panel dd.rate")).toBe("100 % of 1 delivery (last 24 h)");
    expect(await page.$eval("section.health-panel", (e) => e.getAttribute("data-health"))).toBe("good");
    expect(await text("section.health-panel dd.attempt-counts")).toBe("1 of 3 attempts answered 2xx (all time)");
    // Its attempts newest first: the success on top, numbered from the first.
    await page.waitForSelector("details.delivery");
    await page.click("details.delivery > summary");
    expect(await page.$$eval("details.delivery table.attempts tbody tr", (trs) => trs.map((tr) => tr.getAttribute("data-attempt")))).toEqual(["3", "2", "1"]);
    await shot("12-success-rate-per-delivery");
    await page.goto(url("/console#/subscriptions"));
    await page.waitForSelector(`tr[data-subscription-id="${id}"]`);
    expect(await text(`tr[data-subscription-id="${id}"] td.health`)).toBe("100 % of 1 delivery (last 24 h)");
    await client.deleteSubscription({ id }, acme);
  });

  it("shows the event type catalog: the tenant's types and the built-ins, each with its schema and example", async () => {
    const schema = { type: "object", properties: { id: { type: "string" }, total: { type: "number" } }, required: ["id"] };
    await client.createEventType({ name: "order.created", description: "An order was placed <i>now</i>", schema, example: { kind: { case: "structValue", value: { fields: { id: { kind: { case: "stringValue", value: "o_1" } } } } } } }, acme);
    await client.createEventType({ name: "order.cancelled", description: "No schema" }, acme);
    await page.click('nav a[data-nav="event-types"]');
    await page.waitForSelector('details.event-type[data-name="order.created"]');
    const names = await page.$$eval("details.event-type", (ds) => ds.map((d) => [d.getAttribute("data-name"), d.getAttribute("data-builtin")]));
    expect(names).toEqual([
      ["hookwire.delivery.exhausted", "true"],
      ["hookwire.endpoint.disabled", "true"],
      ["order.cancelled", "false"],
      ["order.created", "false"],
    ]);
    const card = 'details.event-type[data-name="order.created"]';
    expect(await text(`${card} .schema-state`)).toBe("schema");
    expect(await text('details.event-type[data-name="order.cancelled"] .schema-state')).toBe("no schema");
    // Descriptions are text, never markup.
    expect(await text(`${card} .description`)).toBe("An order was placed <i>now</i>");
    expect(await page.$(`${card} .description i`)).toBeNull();
    await page.click(`${card} > summary`);
    expect(JSON.parse(await text(`${card} pre.schema`))).toEqual(schema);
    expect(JSON.parse(await text(`${card} pre.example`))).toEqual({ id: "o_1" });
    await page.click('details.event-type[data-name="hookwire.endpoint.disabled"] > summary');
    expect(await text('details.event-type[data-name="hookwire.endpoint.disabled"] pre.example')).toContain("subscription_id");
    await shot("10-event-types");
  });

  it("signs out with the reason when the server stops taking the key", async () => {
    await page.goto(url("/console#/subscriptions"));
    await page.waitForSelector("table.subscriptions");
    // As if the key were revoked: the next call is refused.
    await page.evaluate(() => sessionStorage.setItem("hookwire.console.apiKey", "revoked-key-0000000"));
    await page.reload();
    await page.waitForSelector(".signin .error[data-code=unauthenticated]");
    expect(await text(".signin .error")).toContain("The server refused the key: unknown API key");
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
  });

  it("ran without page errors or CSP violations", () => {
    expect(problems).toEqual([]);
  });
});
