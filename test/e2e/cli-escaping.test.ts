// The `hookwire` CLI never passes a terminal control sequence from the server to the operator's terminal:
// a subscription whose description carries an OSC title change, BEL, a colour and a C1 CSI is printed
// escaped in every human form, losslessly (with \u escapes only) in --json, and so is an error line.
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { createWebhookManager, type Delivery } from "@hookwire/sdk";
import { terminalSafe } from "../../cli/output.js";
import { outcomeLine } from "../../cli/tail.js";
import { runCli, type CliOptions } from "../helpers/cli.js";
import { KEYS, startServer, type RunningServer } from "../helpers/server.js";

vi.setConfig({ testTimeout: 60_000 });

/** ESC ] 0 ; title BEL (sets the window title), ESC [ 31 m (red), a lone C1 CSI, a right-to-left override. */
const HOSTILE = "\x1b]0;pwned\x07\x1b[31m red \u009b2J \u202e";
/** Any raw control character a terminal could act on. */
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

let server: RunningServer;
let as: CliOptions;
let id: string;

beforeAll(async () => {
  server = await startServer();
  as = { env: { HOOKWIRE_API_KEY: KEYS.acme, HOOKWIRE_URL: server.baseUrl } };
  // Set up through the SDK: what is under test is the CLI's printing of what the server answers.
  const sdk = createWebhookManager({ baseUrl: server.baseUrl, apiKey: KEYS.acme });
  ({ subscription: { id } } = await sdk.register({ url: "http://127.0.0.1:9/escaping", events: ["escape.*"], description: HOSTILE }));
});
afterAll(async () => {
  await server?.stop();
});

it("terminalSafe writes every control character as an escape and leaves the rest alone", () => {
  expect(terminalSafe(HOSTILE)).toBe("\\x1b]0;pwned\\x07\\x1b[31m red \\x9b2J \\u202e");
  expect(terminalSafe("a\tb\nc\rd\x7f")).toBe("a\\tb\\nc\\rd\\x7f");
  expect(terminalSafe("https://hooks.example/ünïcode ok")).toBe("https://hooks.example/ünïcode ok");
});

it("subscriptions get and list print the description escaped", async () => {
  const get = await runCli(["subscriptions", "get", id], as);
  expect(get.code, get.stderr).toBe(0);
  expect(get.stdout).not.toMatch(RAW_CONTROL);
  expect(get.stdout).toMatch(/^description\s+\\x1b\]0;pwned\\x07\\x1b\[31m red \\x9b2J \\u202e$/m);
  const list = await runCli(["subscriptions", "list"], as);
  expect(list.code, list.stderr).toBe(0);
  expect(list.stdout).not.toMatch(RAW_CONTROL);
  expect(list.stdout).toContain(id);
});

it("--json keeps the description exactly, with no raw control character in the text", async () => {
  const r = await runCli(["subscriptions", "get", id, "--json"], as);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).not.toMatch(RAW_CONTROL);
  expect(JSON.parse(r.stdout).description).toBe(HOSTILE);
});

it("an error line quoting what the server refused is escaped too", async () => {
  const r = await runCli(["subscriptions", "create", "--endpoint", "\x1b[2Jnot a url"], as);
  expect(r.code).toBe(3);
  expect(r.stderr).not.toMatch(RAW_CONTROL);
  expect(r.stderr).toMatch(/^hookwire: invalid argument: url: "\\x1b\[2Jnot a url" is not an absolute URL\n$/);
});

it("tail's outcome line escapes the server's pieces, not its own colours", () => {
  const at = new Date("2026-12-07T00:00:00Z");
  const d = {
    id: "dlv_1",
    event: "escape.x",
    url: "http://127.0.0.1:9/escaping",
    status: "failed",
    attempts: [{ attemptedAt: at, statusCode: 0, error: "refused \x1b[2J\u009b", durationMs: 3, responseExcerpt: "" }],
    updatedAt: at,
  } as unknown as Delivery;
  const coloured = outcomeLine(d, (text, c) => `\x1b[${c === "red" ? 31 : 2}m${terminalSafe(text)}\x1b[0m`);
  expect(coloured).toContain("refused \\x1b[2J\\x9b in 3 ms");
  // Only our own colour codes remain: ESC [ digits m.
  expect(coloured.replace(/\x1b\[\d+m/g, "")).not.toMatch(RAW_CONTROL);
});
