// The soak figure's victims: a Hookwire server and the FerretDB it stores in, each its own process so
// either can be killed with SIGKILL and restarted on the same data (the same FerretDB folder and port, the
// same server port, data folder and database), and the peak memory of each across its restarts.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { startFerretDB, type EmbeddedFerretDB } from "../server/dev/embedded-ferretdb.js";
import { freePort } from "../test/helpers/free-port.js";
import { startHookwire, type RunningServer } from "../test/helpers/hookwire-process.js";
import { serverPids, sleep } from "./lib.js";

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
  /** Kills the server with SIGKILL, its first process and every worker (none gets a chance to hand anything back). */
  killServer(): Promise<void>;
  /**
   * Kills one of the server's worker processes (the `pick`-th, modulo their number) with SIGKILL and resolves
   * once the server has started another in its place; false when the server has no workers (HOOKWIRE_WORKERS=1).
   */
  killWorker(pick: number): Promise<boolean>;
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
  /** The server's peak: the sum of its processes' peaks (its workers' come and go with the faults). */
  const serverPeak = (s: RunningServer | undefined) => (s?.child.pid ? serverPids(s.child.pid).reduce((sum, p) => sum + peakRssMb(p), 0) : 0);
  const sampler = setInterval(() => {
    peaks.server = Math.max(peaks.server, serverPeak(server));
    peaks.store = Math.max(peaks.store, peakRssMb(store?.process.pid));
  }, 500);

  return {
    serverPort,
    async killServer() {
      const s = server;
      peaks.server = Math.max(peaks.server, serverPeak(s));
      serverWanted = false;
      server = undefined;
      // The workers first: killed after their first process, they would see it gone and stop gracefully.
      const workers = s?.child.pid ? serverPids(s.child.pid).slice(1) : [];
      for (const pid of workers) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // gone already
        }
      }
      await s?.stop("SIGKILL");
    },
    async killWorker(pick) {
      const s = server;
      const workers = s?.child.pid ? serverPids(s.child.pid).slice(1) : [];
      if (!s || workers.length === 0) return false;
      peaks.server = Math.max(peaks.server, serverPeak(s));
      const readies = () => s.output().split('"msg":"worker ready"').length;
      const before = readies();
      process.kill(workers[pick % workers.length]!, "SIGKILL");
      while (readies() === before && server === s) await sleep(50);
      return true;
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
