// The customer portal in a real browser: headless Chromium (Debian's package, driven by puppeteer-core) against a
// real server (on the run's FerretDB) and real receivers on 127.0.0.1. A session made with CreatePortalSession over
// a real client opens the portal for one owner: it lists that owner's endpoints only, adds one through the form
// (the server's refusal shown at its field, the secret shown once and copied), sends a test event that arrives live
// and at the receiver (signature verified), shows a failing delivery's attempts and resends it, rotates the secret,
// disables and enables, deletes after a confirmation; a keyboard-only path adds an endpoint; controls have accessible
// names; the theme applies; a page on an allowed origin frames it, other origins and a server without
// HOOKWIRE_PORTAL_ORIGINS cannot; an expired, revoked or altered token shows the ended state. The core flow (another
// owner's ids not found, also in requests edited by hand; add an endpoint from the catalog and copy its secret; a test
// event live and at the receiver; a failed attempt resent) runs twice through the same steps: with the portal as the
// tab's page, and inside the iframe of a page on the allowed origin, as a platform embeds it.
// Also, over plain HTTP: the route's CSP and framing headers, the shared modules it serves; and the portal's scripts
// type-check. Screenshots go to artifacts/portal/ (kept by CI).
import { execFile } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { crc32, deflateSync } from "node:zlib";
import { fromJson, type JsonValue } from "@bufbuild/protobuf";
import { ValueSchema } from "@bufbuild/protobuf/wkt";
import { verifyDelivery } from "@hookwire/sdk/node";
import { DeliveryStatus, PortalColorScheme } from "@hookwire/sdk/proto";
import puppeteer, { type Browser, type Frame, type Page, type SerializedAXNode } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startReceiver, type Received, type Receiver } from "../helpers/receiver.js";
import { bearer, connectClient, KEYS, spawnServer, startServer, uniqueDatabase, type RunningServer } from "../helpers/server.js";
import { waitFor } from "../helpers/wait.js";

// The page's globals that callbacks run in the browser use (this project type-checks against Node's types).
interface PageElement {
  textContent: string | null;
  value: string;
  type: string;
  id: string;
  tagName: string;
  checked: boolean;
  matches(selector: string): boolean;
  getAttribute(name: string): string | null;
  setAttribute(name: string, value: string): void;
  querySelector(selector: string): PageElement | null;
}
declare const document: {
  activeElement: PageElement | null;
  title: string;
  documentElement: PageElement;
  body: PageElement & { dataset: Record<string, string | undefined> };
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): Iterable<PageElement>;
  addEventListener(type: "securitypolicyviolation", fn: (e: { violatedDirective: string; blockedURI: string }) => void): void;
};
declare const sessionStorage: { length: number; getItem(key: string): string | null };
declare const location: { hash: string };
declare const navigator: { clipboard: { readText(): Promise<string> } };
declare function getComputedStyle(el: PageElement): { getPropertyValue(p: string): string; backgroundColor: string; outlineStyle: string; outlineWidth: string };

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const SHOTS = join(ROOT, "artifacts", "portal");
const CHROMIUM = process.env.HOOKWIRE_CHROMIUM ?? "/usr/bin/chromium";
const acme = { headers: bearer(KEYS.acme) };
const TOKEN_KEY = "hookwire.portal.token";
/** The theme's logo as a data: URL (nothing is fetched from anywhere): a ring, drawn here as a PNG. */
const LOGO_SIZE = 28;
const LOGO = `data:image/png;base64,${ringPng(LOGO_SIZE, [130, 80, 223]).toString("base64")}`;

function ringPng(size: number, [r, g, b]: number[]): Buffer {
  const rows: Buffer[] = [];
  for (let y = 0; y < size; y++) {
    const row = Buffer.alloc(1 + size * 4); // filter byte 0, then RGBA
    for (let x = 0; x < size; x++) {
      const d = Math.hypot(x + 0.5 - size / 2, y + 0.5 - size / 2);
      const on = (d <= size / 2 && d >= size / 2 - 5) || d <= 4;
      row.set(on ? [r!, g!, b!, 255] : [0, 0, 0, 0], 1 + x * 4);
    }
    rows.push(row);
  }
  const chunk = (type: string, data: Buffer) => {
    const head = Buffer.alloc(4);
    head.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([head, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr.set([8, 6, 0, 0, 0], 8); // 8 bits, RGBA
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk("IHDR", ihdr), chunk("IDAT", deflateSync(Buffer.concat(rows))), chunk("IEND", Buffer.alloc(0))]);
}
const ORDER_EXAMPLE = { id: "o_1", total: 12.5, currency: "EUR" };
/** The catalog's event types and their descriptions, as the form shows them. */
const DESCRIPTIONS: Record<string, string> = {
  "order.created": "An order was placed",
  "order.cancelled": "An order was cancelled before it shipped",
  "invoice.paid": "An invoice was paid",
};

const value = (v: JsonValue) => fromJson(ValueSchema, v);

let server: RunningServer;
let rcv: Receiver;
let browser: Browser;
let page: Page;
let client: ReturnType<typeof connectClient>;
let embedder: { a: Server; b: Server; origin: (s: Server) => string };
let database: string;
let sessionUrl = "";
const problems: string[] = [];
const subs = { aOk: "", aDown: "", b: "", tenant: "", added: "", keyboard: "" };
/** The added endpoint's signing secret, as the page showed it. */
let addedSecret = "";

/** A page on another origin that frames `src` (the platform's own site, in the test). */
function embedderServer(): Server {
  return createServer((req, res) => {
    const src = new URL(req.url ?? "/", "http://127.0.0.1").searchParams.get("src") ?? "";
    const attr = src.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(
      `<!doctype html><title>Platform settings</title><h1>Platform settings</h1>` +
        `<iframe id="portal" title="Webhooks" allow="clipboard-write" width="1100" height="760" src="${attr}"></iframe>` +
        `<script>document.getElementById("portal").addEventListener("load", () => { document.body.dataset.framed = "loaded"; });</script>`,
    );
  });
}

async function listen(s: Server): Promise<Server> {
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  return s;
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set HOOKWIRE_CHROMIUM)`);
  mkdirSync(SHOTS, { recursive: true });
  const [a, b] = await Promise.all([listen(embedderServer()), listen(embedderServer())]);
  embedder = { a, b, origin: (s) => `http://127.0.0.1:${(s.address() as AddressInfo).port}` };
  rcv = await startReceiver();
  database = uniqueDatabase("portal");
  server = await startServer({ database, env: { HOOKWIRE_POLL_MS: "100", HOOKWIRE_PORTAL_ORIGINS: embedder.origin(a) } });
  client = connectClient(server);

  await client.createEventType({ name: "order.created", description: DESCRIPTIONS["order.created"], example: value(ORDER_EXAMPLE) }, acme);
  await client.createEventType({ name: "order.cancelled", description: DESCRIPTIONS["order.cancelled"] }, acme);
  await client.createEventType({ name: "invoice.paid", description: DESCRIPTIONS["invoice.paid"], example: value({ invoice: "inv_1" }) }, acme);
  const reg = async (path: string, owner: string, events: string[], extra: { retries?: number } = {}) => {
    const r = await client.register({ url: rcv.url(path), events, owner, ...extra }, acme);
    rcv.route(path, { secret: r.secret, respond: path === "/a-down" ? (n) => (n === 1 || n === 3 ? { status: 503, body: "maintenance" } : { status: 200, body: "ok" }) : undefined });
    return r.subscription!.id;
  };
  subs.aOk = await reg("/a-ok", "cust-a", ["order.*"]);
  subs.aDown = await reg("/a-down", "cust-a", ["invoice.*"], { retries: 0 });
  subs.b = await reg("/b", "cust-b", ["*"]);
  subs.tenant = await reg("/tenant", "", ["*"]);
  const session = await client.createPortalSession(
    { owner: "cust-a", theme: { accentColor: "#8250df", logoUrl: LOGO, colorScheme: PortalColorScheme.DARK, title: "Acme webhooks" } },
    acme,
  );
  sessionUrl = session.url;

  // Root runs Chromium without its sandbox (it refuses otherwise); every page is our own, from 127.0.0.1.
  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--lang=en-US"],
  });
  await browser.defaultBrowserContext().overridePermissions(server.baseUrl, ["clipboard-read", "clipboard-write", "clipboard-sanitized-write"]);
  page = await browser.newPage();
  // Waits fail (saying what they waited for) well before the test's own timeout.
  page.setDefaultTimeout(10_000);
  await page.setViewport({ width: 1200, height: 900 });
  await watchProblems(page);
}, 90_000);

/**
 * Collects the page's errors and CSP violations into `problems`, its frames' too: their console and pageerror
 * events arrive on the Page, and the listener below is added to every document of the page, framed ones included.
 */
async function watchProblems(p: Page) {
  p.on("pageerror", (err) => problems.push(`page error: ${String(err)}`));
  p.on("console", (m) => {
    // A refused call logs a failed resource load (400/401/404 are expected answers here); anything else is a problem.
    if (m.type() === "error" && !/Failed to load resource/.test(m.text())) problems.push(`console error: ${m.text()}`);
  });
  await p.evaluateOnNewDocument(() => {
    document.addEventListener("securitypolicyviolation", (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));
  });
}

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await rcv?.close();
  for (const s of [embedder?.a, embedder?.b]) s?.closeAllConnections();
  await Promise.all([embedder?.a, embedder?.b].map((s) => s && new Promise((r) => s.close(r))));
});

const shot = (name: string, p: Page = page) => p.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
const text = (sel: string, f: Frame = page.mainFrame()) => f.$eval(sel, (el) => el.textContent ?? "");
const url = (path: string) => `${server.baseUrl}${path}`;
const activeIs = (sel: string, f: Frame = page.mainFrame()) => f.evaluate((s) => document.activeElement === document.querySelector(s), sel);

/** Loads `to` afresh (goto to the same page with another hash would only change the hash). */
async function load(to: string, p: Page = page) {
  await p.goto("about:blank");
  await p.goto(to, { waitUntil: "load" });
}

/** Opens a page of the portal (the session is in sessionStorage) and waits until it has rendered. */
async function open(hash: string) {
  await load(url(`/portal${hash}`));
  await page.waitForSelector('body[data-state="ready"]');
}

/** Presses Tab until the focused element matches `selector` (at most `max` times). */
async function tabTo(selector: string, max = 40) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press("Tab");
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return;
  }
  throw new Error(`Tab did not reach ${selector} in ${max} presses`);
}

/** Every node of an accessibility tree. */
function nodes(n: SerializedAXNode | null): SerializedAXNode[] {
  return n ? [n, ...(n.children ?? []).flatMap(nodes)] : [];
}

// The core flow's steps, each on the portal's document wherever it is: the tab's page (page.mainFrame()) or the iframe
// on the platform's page. A Page's $, click, type, select, evaluate… are its main frame's, so one Frame type serves
// both; steps move between the portal's pages through its own router (the hash), as its links do.

/** Goes to one of the portal's pages, as following a link to it does. */
async function go(f: Frame, hash: string) {
  await f.evaluate((to) => {
    location.hash = to;
  }, hash);
}

/**
 * Another owner's endpoint is not found, its id typed into the address or put by hand into requests sent with the
 * page's own token (another owner's and the tenant's ids alike), and nothing of it shows.
 */
async function otherOwnersHidden(f: Frame) {
  await go(f, `#/endpoints/${encodeURIComponent(subs.b)}`);
  await f.waitForSelector('.error[data-code="not_found"]');
  expect(await f.content()).not.toContain(rcv.url("/b"));
  const edited = await f.evaluate(
    async (key, ids) => {
      const out: string[] = [];
      for (const [method, body] of [
        ["UpdateSubscription", { id: ids.b, disabled: true }],
        ["DeleteSubscription", { id: ids.tenant }],
        ["ListDeliveries", { subscriptionId: ids.b }],
      ] as const) {
        const res = await fetch(`/hookwire.v1.WebhookService/${method}`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${sessionStorage.getItem(key)}` },
          body: JSON.stringify(body),
        });
        out.push(`${method} ${res.status} ${JSON.stringify(await res.json())}`);
      }
      return out;
    },
    TOKEN_KEY,
    { b: subs.b, tenant: subs.tenant },
  );
  expect(edited[0]).toMatch(/^UpdateSubscription 404 .*"not_found"/);
  expect(edited[1]).toMatch(/^DeleteSubscription 404 .*"not_found"/);
  expect(edited[2]).toBe("ListDeliveries 200 {}");
  expect((await client.getSubscription({ id: subs.b }, acme)).subscription!.disabled).toBe(false);
  expect((await client.getSubscription({ id: subs.tenant }, acme)).subscription?.id).toBe(subs.tenant);
}

/**
 * From the endpoints page: adds an endpoint for the receiver's `path`, choosing `events` from the catalog (each shown
 * with its description). `fill` does more to the form first (its URL field is set after it). Then the secret is shown
 * once, and its copy button puts it on the clipboard, which `clipboard` reads back. The receiver's route checks
 * signatures with it from then on.
 */
async function addEndpoint(
  f: Frame,
  o: { path: string; events: string[]; clipboard: () => Promise<string>; fill?: (f: Frame) => Promise<void> },
): Promise<{ id: string; secret: string }> {
  await f.waitForSelector("#add-endpoint");
  await f.click("#add-endpoint");
  await f.waitForSelector('#endpoint-form .event-choice[data-event="order.created"]');
  // The catalog's events, each with its description.
  const shown = await f.$$eval("#endpoint-form .event-choice[data-event]", (els) => els.map((el) => el.getAttribute("data-event")));
  expect(shown).toEqual(expect.arrayContaining(Object.keys(DESCRIPTIONS)));
  for (const event of o.events) {
    expect(await text(`.event-choice[data-event="${event}"] .hint`, f)).toBe(DESCRIPTIONS[event]);
    await f.click(`.event-choice[data-event="${event}"] input`);
  }
  await o.fill?.(f);
  await f.$eval("#f-url", (el) => ((el as unknown as PageElement).value = ""));
  await f.type("#f-url", rcv.url(o.path));
  await f.click('#endpoint-form button[type="submit"]');
  await f.waitForSelector(".secret-panel .secret-value");
  const id = decodeURIComponent(/#\/endpoints\/([^/]+)$/.exec(f.url())![1]!);
  const secret = await text(".secret-value", f);
  expect(secret).toMatch(/^whsec_/);
  rcv.route(o.path, { secret });
  await f.click(".secret-panel button.copy");
  await f.waitForSelector(".copy-status[data-copied]");
  // "true": the page wrote to the clipboard (not its fallback, the secret selected for Ctrl+C).
  expect(await f.$eval(".copy-status", (el) => el.getAttribute("data-copied"))).toBe("true");
  expect(await text(".copy-status", f)).toBe("Copied to the clipboard.");
  expect(await o.clipboard()).toBe(secret);
  return { id, secret };
}

/**
 * On an endpoint's page: sends `event` as a test event, its catalog example (`example`) edited to `payload`; sees
 * its outcome arrive live, the request at the receiver's `path` with a signature that verifies (the receiver's
 * independent libraries, and the SDK's verifyDelivery with `secret`), and the delivery in the list with its body.
 */
async function sendTestEvent(f: Frame, o: { path: string; secret: string; event: string; example: unknown; payload: Record<string, unknown> }): Promise<Received> {
  await f.waitForSelector('#live[data-state="live"]', { timeout: 10_000 });
  await f.waitForSelector("select#t-event");
  await f.select("#t-event", o.event);
  expect(await f.$eval("#t-event", (el) => (el as unknown as PageElement).value)).toBe(o.event);
  expect(JSON.parse(await f.$eval("#t-payload", (el) => (el as unknown as PageElement).value))).toEqual(o.example);
  await f.$eval("#t-payload", (el, v) => ((el as unknown as PageElement).value = v), JSON.stringify(o.payload));
  const before = rcv.requests(o.path).length;
  await f.click('form.test-event button[type="submit"]');
  await f.waitForSelector('.test-delivery[data-status="delivered"]', { timeout: 15_000 });
  expect(await text(".test-delivery .outcome", f)).toMatch(/^HTTP 200/);
  const all = await rcv.waitFor((r) => r.filter((x) => x.path === o.path).length > before);
  const req = all.filter((x) => x.path === o.path)[before]!;
  expect(req.verified, req.verifyError).toBe(true);
  expect(await verifyDelivery(req.headers, req.body, { secret: o.secret })).toMatchObject({ valid: true, scheme: "standard-webhooks", event: o.event });
  expect(req.headers["webhook-id"]).toBe(await f.$eval(".test-delivery", (el) => el.getAttribute("data-message-id")));
  expect(JSON.parse(req.body)).toMatchObject({ event: o.event, payload: o.payload });
  // The delivery list fills in as the outcome streams in, with the request body sent.
  const card = `details.delivery[data-status="DELIVERY_STATUS_DELIVERED"]`;
  await f.waitForSelector(card);
  await f.click(`${card} > summary`);
  await f.waitForSelector(`${card} pre.request-body`);
  expect(JSON.parse(await text(`${card} pre.request-body`, f))).toMatchObject({ event: o.event, payload: o.payload });
  return req;
}

/**
 * The platform triggers invoice.paid for owner A; `sub` (retries 0, its receiver at `path` answering 503
 * "maintenance" this time) fails it. From the endpoints page to that endpoint's page, failed deliveries only: the
 * delivery with its attempt (status, response excerpt) and the request body sent. Answers the delivery's card.
 */
async function showFailedAttempt(f: Frame, o: { sub: string; payload: Record<string, unknown> }): Promise<{ card: string; id: string }> {
  const sent = await client.trigger({ event: "invoice.paid", owner: "cust-a", payload: value(o.payload as JsonValue) }, acme);
  const failed = await waitFor(
    async () => (await client.listDeliveries({ subscriptionId: o.sub, status: DeliveryStatus.FAILED }, acme)).deliveries.find((d) => d.messageId === sent.messageId),
    { what: "the failed delivery" },
  );
  await go(f, "#/");
  await f.waitForSelector(`tr[data-subscription-id="${o.sub}"] a`);
  await f.click(`tr[data-subscription-id="${o.sub}"] a`);
  await f.waitForSelector("#delivery-filter");
  await f.select("#delivery-filter", "DELIVERY_STATUS_FAILED");
  const card = `details.delivery[data-delivery-id="${failed.id}"]`;
  // The list may render again under the click (the filter's reload, a live outcome), replacing the card:
  // open it until an open card shows its attempts, never clicking an open one (a click would close it).
  await waitFor(
    async () => {
      if (await f.$(`${card}[open] table.attempts tbody tr td`)) return true;
      if (!(await f.$(`${card}[open]`))) await f.click(`${card} > summary`).catch(() => undefined);
      return false;
    },
    { timeoutMs: 10_000, intervalMs: 200, what: "the failed delivery's card open with its attempts" },
  );
  const cells = await f.$$eval(`${card} table.attempts tbody tr td`, (tds) => tds.map((td) => td.textContent ?? ""));
  expect(cells[2]).toBe("503");
  expect(cells[4]).toBe("maintenance");
  await f.waitForSelector(`${card} pre.request-body`);
  expect(JSON.parse(await text(`${card} pre.request-body`, f))).toMatchObject({ event: "invoice.paid", payload: o.payload });
  return { card, id: failed.id };
}

/** Resends the failed delivery from its card; the receiver at `path` gets it again, and the list shows the redelivery delivered. */
async function resend(f: Frame, failed: { card: string; id: string }, path: string) {
  const before = rcv.requests(path).length;
  // A card replaced by a render between puppeteer's find and its click fails before clicking: find it again.
  for (let tries = 1; ; tries++) {
    try {
      await f.click(`${failed.card} button.redeliver`);
      break;
    } catch (err) {
      if (tries >= 5 || !/detached/i.test(String(err))) throw err;
      await f.waitForSelector(`${failed.card} button.redeliver`);
    }
  }
  await f.waitForFunction(() => /^Redelivery dlv_\S+ queued/.test(document.querySelector("#notice")?.textContent ?? ""));
  await rcv.waitFor((all) => all.filter((r) => r.path === path).length > before);
  await f.select("#delivery-filter", "");
  await f.waitForFunction(
    (orig) => [...document.querySelectorAll("details.delivery")].some((d) => d.querySelector(".redelivery-of")?.textContent === orig && d.getAttribute("data-status") === "DELIVERY_STATUS_DELIVERED"),
    { timeout: 15_000 },
    failed.id,
  );
}

describe("the /portal route", () => {
  it("serves the page with a strict CSP that lets only the configured origins frame it, and logos from https: and data:", async () => {
    const res = await fetch(url("/portal"));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const csp = res.headers.get("content-security-policy") ?? "";
    for (const d of ["default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "img-src 'self' https: data:", "require-trusted-types-for 'script'"]) {
      expect(csp).toContain(d);
    }
    expect(csp).toContain(`frame-ancestors ${embedder.origin(embedder.a)}`);
    expect(csp).not.toMatch(/unsafe|\*/);
    // X-Frame-Options cannot name an origin: absent when some may frame.
    expect(res.headers.get("x-frame-options")).toBeNull();
    const html = await res.text();
    expect(html).not.toMatch(/<script>|\sstyle=|\son\w+=|https?:\/\//);
    // The console keeps refusing every frame.
    const consoleCsp = (await fetch(url("/console"))).headers.get("content-security-policy") ?? "";
    expect(consoleCsp).toContain("frame-ancestors 'none'");

    // Its modules, and the console's it shares, under one versioned path; every import of each resolves there.
    const base = /src="(\/portal\/v\/[0-9a-f]{12}\/)portal\.js"/.exec(html)![1]!;
    const seen = new Set<string>();
    const queue = ["portal.js"];
    while (queue.length) {
      const name = queue.pop()!;
      if (seen.has(name)) continue;
      seen.add(name);
      const r = await fetch(url(base + name));
      expect(r.status, name).toBe(200);
      expect(r.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
      for (const m of (await r.text()).matchAll(/from "\.\/([\w-]+\.js)"/g)) queue.push(m[1]!);
    }
    expect([...seen]).toEqual(expect.arrayContaining(["rpc.js", "dom.js", "live.js", "deliveries.js", "recover.js", "endpoint-form.js"]));
    for (const p of [`${base}app.js`, `${base}view-subscriptions.js`, `${base}tsconfig.json`, `${base}../../console/v/x/app.js`]) expect((await fetch(url(p))).status, p).toBe(404);
  });

  it("a value of HOOKWIRE_PORTAL_ORIGINS that is not an origin stops the server at start, naming it", async () => {
    const run = spawnServer({ env: { HOOKWIRE_PORTAL_ORIGINS: "http://127.0.0.1:3000,http://127.0.0.1:3001/settings" } });
    expect(await run.exited).toBe(2);
    expect(run.output()).toContain('HOOKWIRE_PORTAL_ORIGINS: "http://127.0.0.1:3001/settings" is not an http(s) origin');
  });

  it("the portal's browser scripts type-check (JSDoc, strict), with the console's modules they share", async () => {
    const tsc = join(ROOT, "node_modules", "typescript", "bin", "tsc");
    await promisify(execFile)(process.execPath, [tsc, "-p", join(ROOT, "server", "portal")]);
  });
});

describe("the portal in Chromium", () => {
  it("opens from the session's url: the token leaves the address bar for the tab's storage, and the theme applies", async () => {
    expect(sessionUrl).toBe(`${server.baseUrl}/portal#token=${sessionUrl.split("#token=")[1]}`);
    await load(sessionUrl);
    await page.waitForSelector('body[data-state="ready"]');
    expect(page.url()).toBe(url("/portal"));
    expect(await page.evaluate((k) => sessionStorage.getItem(k), TOKEN_KEY)).toMatch(/^hwp_/);
    // Theme: accent as a custom property (and on the primary button), title, logo, dark.
    expect(await page.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue("--accent").trim())).toBe("#8250df");
    await page.waitForSelector("#add-endpoint");
    expect(await page.$eval("#add-endpoint", (el) => getComputedStyle(el as unknown as PageElement).backgroundColor)).toBe("rgb(130, 80, 223)");
    expect(await text("#title")).toBe("Acme webhooks");
    expect(await page.evaluate(() => document.title)).toBe("Acme webhooks");
    await page.waitForFunction((size: number) => {
      const img = document.querySelector("#logo") as unknown as { hidden: boolean; complete: boolean; naturalWidth: number; src: string } | null;
      return img && !img.hidden && img.complete && img.naturalWidth === size && img.src.startsWith("data:image/png");
    }, {}, LOGO_SIZE);
    expect(await page.evaluate(() => document.documentElement.getAttribute("data-scheme"))).toBe("dark");
    expect(await page.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe("rgb(13, 17, 23)");
  });

  it("lists the owner's endpoints only, with their health; another owner's id answers not found", async () => {
    await page.waitForSelector(`tr[data-subscription-id="${subs.aOk}"]`);
    const rows = await page.$$eval("table.endpoints tbody tr", (trs) => trs.map((tr) => tr.getAttribute("data-subscription-id")));
    expect(rows).toEqual([subs.aOk, subs.aDown]);
    expect(await text(`tr[data-subscription-id="${subs.aOk}"] td.health`)).toBe("no attempts recorded");
    // Column headers a screen reader announces.
    expect(await page.$$eval("table.endpoints th[scope=col]", (ths) => ths.map((t) => t.textContent))).toEqual(["Endpoint", "Events", "State", "Success rate", "Last failure"]);
    // A reload keeps the session (sessionStorage).
    await page.reload({ waitUntil: "load" });
    await page.waitForSelector(`tr[data-subscription-id="${subs.aDown}"]`);
    await shot("01-endpoints-dark");
    await otherOwnersHidden(page.mainFrame());
  });

  it("adds an endpoint: events from the catalog, the server's refusal next to the URL field, then the secret shown once, copied", async () => {
    await open("#/");
    const added = await addEndpoint(page.mainFrame(), {
      path: "/added",
      events: ["order.created"],
      clipboard: () => page.evaluate(() => navigator.clipboard.readText()),
      // A header and a rate limit; first a URL the server refuses, its message at the field.
      async fill(f) {
        await f.type("#f-url", "ftp://127.0.0.1/hooks");
        await f.click("#add-header");
        await f.type('input[name="header-name"]', "X-Customer");
        await f.type('input[name="header-value"]', "c-1 token");
        await f.$eval("#f-rate", (el) => ((el as unknown as PageElement).value = ""));
        await f.type("#f-rate", "5");
        await f.click('#endpoint-form button[type="submit"]');
        await f.waitForSelector("#f-url-error:not([hidden])");
        expect(await text("#f-url-error", f)).toBe('url: scheme "ftp" is not allowed; use http or https');
        expect(await f.$eval("#f-url", (el) => el.getAttribute("aria-invalid"))).toBe("true");
        expect(await f.$eval("#f-url", (el) => el.getAttribute("aria-describedby"))).toContain("f-url-error");
        expect(await activeIs("#f-url", f)).toBe(true);
        await shot("02-form-refused");
      },
    });
    subs.added = added.id;
    const secret = (addedSecret = added.secret);
    await shot("03-secret-once");

    const got = (await client.getSubscription({ id: subs.added }, acme)).subscription!;
    expect(got).toMatchObject({ owner: "cust-a", url: rcv.url("/added"), events: ["order.created"], rateLimitPerSecond: 5, headers: { "x-customer": "c-1 token" } });
    // The page shows header names, never their values; the secret is gone once the page is left.
    expect(await page.$$eval("ul.headers li", (lis) => lis.map((li) => li.textContent))).toEqual(["x-customer: ••••••••"]);
    await open(`#/endpoints/${subs.added}`);
    await page.waitForSelector("#toggle-endpoint");
    expect(await page.$(".secret-panel")).toBeNull();
    expect(await page.content()).not.toContain(secret);
    expect(await page.content()).not.toContain("c-1 token");
  });

  it("sends a test event (the catalog's example, edited) and sees it arrive live and at the receiver", async () => {
    const req = await sendTestEvent(page.mainFrame(), { path: "/added", secret: addedSecret, event: "order.created", example: ORDER_EXAMPLE, payload: { id: "o_test", total: 99 } });
    // The endpoint's header, set in the form, goes with it.
    expect(req.headers["x-customer"]).toBe("c-1 token");
    await shot("04-test-event-live");
  });

  it("rotates the secret after a confirmation (Escape cancels, focus returns), and the next delivery verifies with the new one", async () => {
    await page.focus("#rotate-secret");
    await page.keyboard.press("Enter");
    await page.waitForSelector("dialog.confirm[open]");
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Cancel");
    await page.keyboard.press("Escape");
    await page.waitForFunction(() => !document.querySelector("dialog.confirm"));
    expect(await activeIs("#rotate-secret")).toBe(true);

    await page.click("#rotate-secret");
    await page.waitForSelector("dialog.confirm[open]");
    await page.click("dialog.confirm .actions button:not(.secondary)");
    await page.waitForSelector(".secret-panel .secret-value");
    expect(await text(".secret-panel h2")).toBe("New signing secret");
    const secret = await text(".secret-value");
    expect(secret).toMatch(/^whsec_/);
    rcv.route("/added", { secret });
    const before = rcv.requests("/added").length;
    await page.click('form.test-event button[type="submit"]');
    const all = await rcv.waitFor((r) => r.filter((x) => x.path === "/added").length > before);
    const last = all.filter((x) => x.path === "/added").at(-1)!;
    expect(last.verified, last.verifyError).toBe(true);
  });

  it("disables and enables the endpoint", async () => {
    await page.click("#toggle-endpoint");
    await page.waitForSelector('#toggle-endpoint[data-action="enable"]');
    expect(await page.$eval("h1 [data-state]", (el) => el.getAttribute("data-state"))).toBe("disabled");
    expect((await client.getSubscription({ id: subs.added }, acme)).subscription!.disabled).toBe(true);
    await page.click("#toggle-endpoint");
    await page.waitForSelector('#toggle-endpoint[data-action="disable"]');
    expect((await client.getSubscription({ id: subs.added }, acme)).subscription!.disabled).toBe(false);
  });

  it("edits the endpoint: header values read plain for the form only, a header removed, the rate limit changed", async () => {
    await page.click("#edit-endpoint");
    await page.waitForSelector('#endpoint-form input[name="header-value"]');
    expect(await page.$eval('input[name="header-value"]', (el) => [(el as unknown as PageElement).type, (el as unknown as PageElement).value])).toEqual(["password", "c-1 token"]);
    expect(await page.$eval('.event-choice[data-event="order.created"] input', (el) => (el as unknown as PageElement).checked)).toBe(true);
    await page.click('.header-row button[aria-label="Remove header 1"]');
    await page.$eval("#f-rate", (el) => ((el as unknown as PageElement).value = "7"));
    await page.click('#endpoint-form button[type="submit"]');
    await page.waitForSelector("#toggle-endpoint");
    await page.waitForFunction(() => document.querySelector("#notice")?.textContent === "Changes saved.");
    const got = (await client.getSubscription({ id: subs.added }, acme)).subscription!;
    expect(got).toMatchObject({ rateLimitPerSecond: 7, headers: {}, events: ["order.created"], url: rcv.url("/added") });
  });

  it("shows a failing endpoint's delivery with its attempt and error, and resends it", async () => {
    const failed = await showFailedAttempt(page.mainFrame(), { sub: subs.aDown, payload: { invoice: "inv_9", amount: 40 } });
    await shot("05-failed-delivery");
    await resend(page.mainFrame(), failed, "/a-down");
  });

  it("recovers the endpoint's failed deliveries since a time", async () => {
    await client.trigger({ event: "invoice.paid", owner: "cust-a", payload: value({ invoice: "inv_10" }) }, acme);
    await rcv.waitFor((all) => all.filter((r) => r.path === "/a-down").length === 3); // answered 503
    await waitFor(async () => (await client.listDeliveries({ subscriptionId: subs.aDown, status: DeliveryStatus.FAILED }, acme)).deliveries.length === 2, { what: "the second failed delivery" });
    await page.click('form.recover button[type="submit"]');
    await page.waitForSelector(".recover-progress .done, .recover-progress .error");
    expect(await page.$(".recover-progress .error")).toBeNull();
    expect(Number(await page.$eval(".recover-progress .done", (e) => e.getAttribute("data-recovered")))).toBeGreaterThanOrEqual(1);
    // The recovery sends every failed delivery again (inv_9's too, in no set order): waited for is inv_10's.
    await rcv.waitFor((all: Received[]) => all.filter((x) => x.path === "/a-down").slice(3).some((x) => JSON.parse(x.body).payload.invoice === "inv_10"));
  });

  it("adds an endpoint with the keyboard alone (Tab, Enter, Space), every control named for a screen reader, the focus visible", async () => {
    rcv.route("/keyboard", {});
    await open("#/");
    await page.waitForSelector("#add-endpoint");
    await tabTo("#add-endpoint");
    await page.keyboard.press("Enter");
    await page.waitForSelector("#endpoint-form #f-url");
    await tabTo("#f-url", 3);
    await page.keyboard.type(rcv.url("/keyboard"));
    await tabTo('input[value="order.cancelled"]');
    await page.keyboard.press("Space");
    expect(await page.$eval('.event-choice[data-event="order.cancelled"] input', (el) => (el as unknown as PageElement).checked)).toBe(true);

    // Names: every control of the form, as the accessibility tree has them.
    const tree = nodes(await page.accessibility.snapshot({ root: (await page.$("#endpoint-form"))!, interestingOnly: true }));
    const controls = tree.filter((n) => ["textbox", "checkbox", "button", "spinbutton", "combobox", "link"].includes(n.role));
    expect(controls.length).toBeGreaterThan(6);
    expect(controls.filter((n) => !n.name?.trim()).map((n) => n.role)).toEqual([]);
    const named = controls.map((n) => `${n.role}:${n.name}`);
    expect(named).toEqual(expect.arrayContaining(["textbox:Endpoint URL", "checkbox:order.cancelled", "checkbox:All events", "spinbutton:Rate limit (requests a second)", "button:Add endpoint"]));
    // The fieldsets are groups named by their legends (the snapshot above leaves groups out).
    expect(await page.$('::-p-aria([name="Events to send"][role="group"])')).not.toBeNull();
    expect(await page.$('::-p-aria([name="Headers (optional)"][role="group"])')).not.toBeNull();

    await tabTo('#endpoint-form button[type="submit"]');
    const ring = await page.evaluate(() => {
      const s = getComputedStyle(document.activeElement!);
      return `${s.outlineStyle} ${s.outlineWidth}`;
    });
    expect(ring).not.toMatch(/^none|\s0px$/);
    await page.keyboard.press("Enter");
    await page.waitForSelector(".secret-panel .secret-value");
    subs.keyboard = decodeURIComponent(/#\/endpoints\/([^/]+)$/.exec(page.url())![1]!);
    expect((await client.getSubscription({ id: subs.keyboard }, acme)).subscription).toMatchObject({ owner: "cust-a", events: ["order.cancelled"] });
    // Status messages are spoken: the notice is a polite live region.
    expect(await page.$eval("#notice", (el) => el.getAttribute("aria-live"))).toBe("polite");
    await page.waitForFunction(() => (document.querySelector("#notice")?.textContent ?? "").startsWith("Endpoint added"));
  });

  it("deletes an endpoint only after the confirmation", async () => {
    await page.waitForSelector("#delete-endpoint");
    await page.click("#delete-endpoint");
    await page.waitForSelector("dialog.confirm[open]");
    await page.click("dialog.confirm button.secondary"); // Cancel
    await page.waitForFunction(() => !document.querySelector("dialog.confirm"));
    expect((await client.getSubscription({ id: subs.keyboard }, acme)).subscription?.id).toBe(subs.keyboard);
    await page.click("#delete-endpoint");
    await page.waitForSelector("dialog.confirm[open]");
    await page.click("dialog.confirm button.danger");
    await page.waitForSelector(`tr[data-subscription-id="${subs.aOk}"]`);
    expect(await page.$(`tr[data-subscription-id="${subs.keyboard}"]`)).toBeNull();
    const gone = await client.getSubscription({ id: subs.keyboard }, acme).catch((e: Error) => e);
    expect(String(gone)).toMatch(/not_found|not found/i);
  });

  it("says the session has ended when it expires, when its token was altered, and when it was revoked", async () => {
    // Expired: a session of three seconds ends on the page at its expiry, and the server refuses it after.
    const short = await client.createPortalSession({ owner: "cust-a", ttlSeconds: 3n }, acme);
    await load(short.url);
    await page.waitForSelector('body[data-state="ready"]');
    await page.waitForSelector('.ended[data-state="expired"]', { timeout: 10_000 });
    expect(await text(".ended h1")).toBe("This session has ended");
    expect(await text(".ended p")).toContain("Open the portal again from the site that opened it");
    expect(await page.evaluate((k) => sessionStorage.getItem(k), TOKEN_KEY)).toBeNull();
    await load(short.url);
    await page.waitForSelector('.ended[data-state="ended"]');
    await shot("06-ended");

    // Altered: one character changed.
    const last = sessionUrl.at(-1) === "A" ? "B" : "A";
    await load(sessionUrl.slice(0, -1) + last);
    await page.waitForSelector('.ended[data-state="ended"]');

    // Revoked: the page open on a live session, then RevokePortalSessions; its next call is refused.
    const live = await client.createPortalSession({ owner: "cust-a" }, acme);
    await load(live.url);
    await page.waitForSelector(`tr[data-subscription-id="${subs.aOk}"]`);
    const revoked = await client.revokePortalSessions({ owner: "cust-a" }, acme);
    expect(revoked.revoked).toBeGreaterThanOrEqual(1);
    await page.click(`tr[data-subscription-id="${subs.aOk}"] a`);
    await page.waitForSelector('.ended[data-state="ended"]', { timeout: 10_000 });
    expect(await page.evaluate((k) => sessionStorage.getItem(k), TOKEN_KEY)).toBeNull();

    // And with nothing at all: no session.
    await load(url("/portal"));
    await page.waitForSelector('.ended[data-state="missing"]');
  });

  it("ran without page errors or CSP violations", () => {
    expect(problems).toEqual([]);
  });
});

describe("the portal framed by the platform's page", () => {
  let framing: Page;
  let other: RunningServer | undefined;
  /** The portal's document in the iframe of the allowed origin's page, for the core flow. */
  let portal: Frame;
  const framed = { id: "", secret: "", down: "" };

  beforeAll(async () => {
    // The copy button writes in the portal's frame (the iframe allows clipboard-write); the test reads the clipboard
    // back in the platform's page, as the customer pasting the secret there would.
    await browser.defaultBrowserContext().overridePermissions(embedder.origin(embedder.a), ["clipboard-read", "clipboard-write", "clipboard-sanitized-write"]);
    framing = await browser.newPage();
    framing.setDefaultTimeout(10_000);
    await framing.setViewport({ width: 1200, height: 900 });
    await watchProblems(framing);
  });
  afterAll(async () => {
    await framing?.close();
    await other?.stop();
  });

  /** Chromium's report, on the framing page's console, that it refused to frame the portal of `base`; taken out of the problems. */
  async function refusedFraming(base: string): Promise<string> {
    const refused = (p: string) => p.startsWith(`console error: Framing '${base}/' violates the following Content Security Policy directive`);
    const got = await waitFor(() => problems.find(refused), { what: `Chromium's refusal to frame ${base}` });
    problems.splice(0, problems.length, ...problems.filter((p) => !refused(p)));
    return got;
  }

  /** Loads the embedder's page framing `src`; answers the portal's frame once it has loaded (or failed to). */
  async function frame(host: Server, src: string): Promise<Frame | undefined> {
    await framing.goto(`${embedder.origin(host)}/?src=${encodeURIComponent(src)}`, { waitUntil: "load" });
    await framing.waitForFunction(() => document.body.dataset.framed === "loaded");
    return framing.frames().find((f) => f !== framing.mainFrame());
  }

  it("loads in an iframe on an allowed origin, themed and working", async () => {
    const s = await client.createPortalSession({ owner: "cust-a", theme: { accentColor: "#0a7d4f", colorScheme: PortalColorScheme.LIGHT, title: "Globex Cloud", logoUrl: LOGO } }, acme);
    const f = await frame(embedder.a, s.url);
    expect(f).toBeDefined();
    await f!.waitForSelector(`tr[data-subscription-id="${subs.aOk}"]`);
    expect(await f!.$$eval("table.endpoints tbody tr", (trs) => trs.map((tr) => tr.getAttribute("data-subscription-id")))).toEqual([subs.aOk, subs.aDown, subs.added]);
    expect(await f!.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue("--accent").trim())).toBe("#0a7d4f");
    expect(await f!.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe("rgb(246, 248, 250)");
    await shot("07-framed-light", framing);
    // Its token, altered, ends there too, naming the platform's site to open it again from.
    const g = await frame(embedder.a, s.url.slice(0, -1) + (s.url.at(-1) === "A" ? "B" : "A"));
    await g!.waitForSelector('.ended[data-state="ended"]');
    expect(await g!.$eval(".ended .platform", (el) => el.textContent)).toBe(new URL(embedder.origin(embedder.a)).host);
  });

  it("in the iframe on the allowed origin: owner A's endpoints only; another owner's id, typed or put into requests by hand, is not found", async () => {
    const s = await client.createPortalSession({ owner: "cust-a", theme: { accentColor: "#0a7d4f", colorScheme: PortalColorScheme.LIGHT, title: "Globex Cloud" } }, acme);
    portal = (await frame(embedder.a, s.url))!;
    await portal.waitForSelector(`tr[data-subscription-id="${subs.aOk}"]`);
    expect(await portal.$$eval("table.endpoints tbody tr", (trs) => trs.map((tr) => tr.getAttribute("data-subscription-id")))).toEqual([subs.aOk, subs.aDown, subs.added]);
    await otherOwnersHidden(portal);
  });

  it("in the iframe: adds an endpoint choosing events from the catalog, and copies its secret to the clipboard", async () => {
    await go(portal, "#/");
    const added = await addEndpoint(portal, {
      path: "/framed",
      events: ["order.created", "order.cancelled"],
      clipboard: () => framing.evaluate(() => navigator.clipboard.readText()),
    });
    Object.assign(framed, added);
    expect(portal.url()).toBe(url(`/portal#/endpoints/${encodeURIComponent(added.id)}`));
    const got = (await client.getSubscription({ id: added.id }, acme)).subscription!;
    expect(got).toMatchObject({ owner: "cust-a", url: rcv.url("/framed") });
    expect([...got.events].sort()).toEqual(["order.cancelled", "order.created"]);
    await shot("08-framed-secret", framing);
  });

  it("in the iframe: sends a test event, sees it arrive live, and at the receiver with a signature that verifies", async () => {
    await sendTestEvent(portal, { path: "/framed", secret: framed.secret, event: "order.created", example: ORDER_EXAMPLE, payload: { id: "o_framed", total: 7 } });
    await shot("09-framed-test-event", framing);
  });

  it("in the iframe: sees a failing endpoint's delivery with its attempt, and resends it", async () => {
    const r = await client.register({ url: rcv.url("/framed-down"), events: ["invoice.*"], owner: "cust-a", retries: 0 }, acme);
    framed.down = r.subscription!.id;
    rcv.route("/framed-down", { secret: r.secret, respond: (n) => (n === 1 ? { status: 503, body: "maintenance" } : { status: 200, body: "ok" }) });
    const failed = await showFailedAttempt(portal, { sub: framed.down, payload: { invoice: "inv_framed", amount: 12 } });
    await shot("10-framed-failed-delivery", framing);
    await resend(portal, failed, "/framed-down");
    expect(rcv.requests("/framed-down").at(-1)!.verified).toBe(true);
  });

  it("the framing page and the portal in it ran without page errors or CSP violations (one made on purpose in the frame is caught)", async () => {
    expect(problems).toEqual([]);
    // The check sees the framed document: an inline style there is refused by the portal's CSP, and reported.
    await portal.evaluate(() => document.body.setAttribute("style", "outline: 1px solid red"));
    // Reported twice: by the listener added to every document of the page, and by Chromium's own console message.
    const ours = "console error: CSP violation: style-src-attr inline";
    const chromiums = (p: string) => p.startsWith("console error: Applying inline style violates the following Content Security Policy directive 'style-src 'self''");
    await waitFor(() => problems.includes(ours) && problems.some(chromiums), { what: "the framed document's CSP violation reported" });
    expect(problems.filter((p) => p !== ours && !chromiums(p))).toEqual([]);
    problems.splice(0, problems.length);
  });

  it("is not rendered in a frame on another origin", async () => {
    const s = await client.createPortalSession({ owner: "cust-a" }, acme);
    const f = await frame(embedder.b, s.url);
    // The frame holds the browser's error page, not the portal: Chromium refused it for the portal's frame-ancestors.
    expect(await f?.$("#view").catch(() => null)).toBeFalsy();
    expect(await refusedFraming(server.baseUrl)).toContain(`directive: "frame-ancestors ${embedder.origin(embedder.a)}"`);
  });

  it("is not rendered in any frame by a server without HOOKWIRE_PORTAL_ORIGINS (frame-ancestors 'none', X-Frame-Options DENY)", async () => {
    other = await startServer({ database, env: { HOOKWIRE_POLL_MS: "100" } });
    const res = await fetch(`${other.baseUrl}/portal`);
    expect(res.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    // The same database: the session is valid there, only the framing is refused.
    const s = await connectClient(other).createPortalSession({ owner: "cust-a" }, acme);
    const f = await frame(embedder.a, s.url);
    expect(await f?.$("#view").catch(() => null)).toBeFalsy();
    // Opened on its own, the same url works.
    await framing.goto(s.url, { waitUntil: "load" });
    await framing.waitForSelector(`tr[data-subscription-id="${subs.aOk}"]`);
    expect(await refusedFraming(other.baseUrl)).toContain(`directive: "frame-ancestors 'none'"`);
  });

  it("ran without page errors or CSP violations, but for the refusals to frame it checked for", () => {
    expect(problems).toEqual([]);
  });
});
