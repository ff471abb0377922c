// `npm start` runs built JavaScript: the server process (dist/server/main.mjs, with npm start's node flags, which
// test/unit/start-flags.test.ts keeps in step) loads no TypeScript compiler and no TypeScript source, neither at
// start nor when it serves an RPC and delivers. Read from inside the running process through its inspector: the
// scripts V8 holds, every module loaded (ESM and CommonJS) among them.
import { fromJson } from "@bufbuild/protobuf";
import { ValueSchema } from "@bufbuild/protobuf/wkt";
import { WebSocket } from "undici";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startReceiver, type Receiver } from "../helpers/receiver.js";
import { bearer, grpcClient, KEYS, startServer, type RunningServer } from "../helpers/server.js";

let server: RunningServer;
let rcv: Receiver;

beforeAll(async () => {
  rcv = await startReceiver();
  // Port 0: the inspector picks a free port and says which on stderr; it listens on loopback only.
  server = await startServer({ env: { HOOKWIRE_ALLOW_PRIVATE_URLS: "true" }, execArgv: ["--inspect=127.0.0.1:0"] });
});
afterAll(async () => {
  await server?.stop();
  await rcv?.close();
});

/** The URL of every script the process holds (Debugger.enable reports those already parsed, then answers). */
async function loadedScripts(inspectorUrl: string): Promise<string[]> {
  const ws = new WebSocket(inspectorUrl);
  const urls: string[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener("open", () => ws.send(JSON.stringify({ id: 1, method: "Debugger.enable" })));
      ws.addEventListener("error", () => reject(new Error(`inspector at ${inspectorUrl} failed`)));
      ws.addEventListener("message", (e) => {
        const m = JSON.parse(String(e.data)) as { id?: number; method?: string; params?: { url?: string } };
        if (m.method === "Debugger.scriptParsed" && m.params?.url) urls.push(m.params.url);
        if (m.id === 1) resolve();
      });
    });
  } finally {
    ws.close();
  }
  return urls;
}

it("the server process loads no TypeScript compiler or source, at start and while it serves and delivers", async () => {
  const acme = { headers: bearer(KEYS.acme) };
  const client = grpcClient(server);
  await client.register({ url: rcv.url("/compiled"), events: ["compiled.*"] }, acme);
  await client.trigger({ event: "compiled.check", payload: fromJson(ValueSchema, { n: 1 }) }, acme);
  await rcv.waitFor((all) => all.some((r) => r.path === "/compiled"));

  const inspector = /Debugger listening on (ws:\/\/127\.0\.0\.1:\d+\/[\w-]+)/.exec(server.output())?.[1];
  expect(inspector, server.output()).toBeDefined();
  const scripts = await loadedScripts(inspector!);
  // The list is the process's modules: the built entry and the packages it runs on are in it.
  expect(scripts.some((u) => u.endsWith("/dist/server/main.mjs"))).toBe(true);
  expect(scripts.some((u) => u.includes("/node_modules/mongodb/"))).toBe(true);
  expect(scripts.filter((u) => /\/node_modules\/(tsx|esbuild|@esbuild|typescript|get-tsconfig)\//.test(u))).toEqual([]);
  expect(scripts.filter((u) => /\.[mc]?tsx?$/.test(u))).toEqual([]);
});
