// The soak figure's victims: a Hookwire server and the FerretDB it stores in, each its own process so
// either can be killed with SIGKILL and restarted on the same data (the same FerretDB folder and port, the
// same server port, data folder and database), and the peak memory of each across its restarts.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { startFerretDB, type EmbeddedFerretDB } from "../server/dev/embedded-ferretdb.js";
import { freePort } from "../test/helpers/free-port.js";
import { startHookwire, type RunningServer } from "../test/helpers/hookwire-process.js";
import { sleep } from "./lib.js";

/** VmHWM (the peak resident set so far) of a process in MB, 0 once it is gone. */
function peakRssMb(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    return Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? "0") / 1024;
  } catch {
    return 0;
  }
}

export interface SoakProcesses {
  serverPort: number;
  /** Kills the server with SIGKILL (it gets no chance to hand anything back). */
  killServer(): Promise<void>;
  startServer(): Promise<void>;
  killStore(): Promise<void>;
  startStore(): Promise<void>;
  /** The highest VmHWM seen of each, over every process it has been so far (sampled twice a second). */
  peakRss(): { server: number; store: number };
  /** Server exits the run did not cause (each is restarted by the watchdog). */
  unplannedServerExits(): number;
  /** Tail of the current server's output, for a failure's message. */
  serverOutput(): string;
  stop(): Promise<void>;
}

export async function startSoakProcesses(dir: string, env: Record<string, string>): Promise<SoakProcesses> {
  const storePort = await freePort();
  const serverPort = await freePort();
  let store: EmbeddedFerretDB | undefined;
  let server: RunningServer | undefined;
  let serverWanted = false;
  let unplanned = 0;
  const peaks = { server: 0, store: 0 };

  const startStore = async () => {
    // On a fixed TCP port (not the embedded default's private socket) so the server reaches the same address after a restart.
    store = await startFerretDB({ dir: join(dir, "ferretdb"), port: storePort, readyTimeoutMs: 60_000 });
  };
  const startServer = async () => {
    serverWanted = true;
    // A start can fail while the store is still settling after its own restart: a few tries, then the error.
    for (let tries = 1; ; tries++) {
      try {
        const s = await startHookwire({
          ...env,
          MONGODB_URI: store!.uri,
          HOOKWIRE_PORT: String(serverPort),
          HOOKWIRE_DATA_DIR: join(dir, "server"),
        });
        server = s;
        // The watchdog: a server that exits by itself (not killed here) is counted and started again.
        s.child.once("exit", () => {
          if (server === s && serverWanted) {
            unplanned++;
            server = undefined;
            void restartLater();
          }
        });
        return;
      } catch (err) {
        if (tries >= 5) throw err;
        await sleep(1000);
      }
    }
  };
  const restartLater = async () => {
    for (let tries = 0; tries < 120 && serverWanted && !server; tries++) {
      await sleep(500);
      if (store && serverWanted && !server) await startServer().catch(() => undefined);
    }
  };
  await startStore();
  await startServer();
  const sampler = setInterval(() => {
    peaks.server = Math.max(peaks.server, peakRssMb(server?.child.pid));
    peaks.store = Math.max(peaks.store, peakRssMb(store?.process.pid));
  }, 500);

  return {
    serverPort,
    async killServer() {
      const s = server;
      peaks.server = Math.max(peaks.server, peakRssMb(s?.child.pid));
      serverWanted = false;
      server = undefined;
      await s?.stop("SIGKILL");
    },
    startServer,
    async killStore() {
      const s = store;
      peaks.store = Math.max(peaks.store, peakRssMb(s?.process.pid));
      store = undefined;
      if (s && s.process.exitCode === null && s.process.signalCode === null) {
        const exited = new Promise((r) => s.process.once("exit", r));
        s.process.kill("SIGKILL");
        await exited;
      }
    },
    startStore,
    peakRss: () => ({ ...peaks }),
    unplannedServerExits: () => unplanned,
    serverOutput: () => server?.output().slice(-2000) ?? "",
    async stop() {
      clearInterval(sampler);
      serverWanted = false;
      await server?.stop("SIGKILL");
      await store?.stop();
    },
  };
}
