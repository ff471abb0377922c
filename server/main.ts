// Entry point: `npm start`. Reads the environment, starts the embedded store when MONGODB_URI is unset,
// serves until SIGTERM/SIGINT: in this process (HOOKWIRE_WORKERS=1) or in worker processes it forks, which
// run this same file (server/cluster/).
import "./harden.js";
import cluster from "node:cluster";
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { startHookwire as StartHookwire } from "./app.js";
import { startWorkers } from "./cluster/primary.js";
import { ConfigError, loadConfig, type ApiKey, type Config } from "./config.js";
import { DataFolderInUseError, prepareDataFolder } from "./dev/data-folder.js";
import { EmbeddedStoreError, startFerretDB, type EmbeddedFerretDB } from "./dev/embedded-ferretdb.js";
import { encryptionKeys } from "./dev/encryption-key.js";
import { createLogger, errorFields, type Logger } from "./telemetry/log.js";

/** Without HOOKWIRE_API_KEYS, a development key for tenant "default", kept in the data folder so it survives restarts. */
function developmentKey(config: Config, log: Logger): ApiKey[] {
  mkdirSync(config.dataDir, { recursive: true });
  const file = join(config.dataDir, "dev-api-key");
  let key: string;
  try {
    key = readFileSync(file, "utf8").trim();
  } catch {
    key = `hwk_${randomBytes(24).toString("base64url")}`;
    writeFileSync(file, key + "\n", { mode: 0o600 });
  }
  log.warn("HOOKWIRE_API_KEYS is not set: using a development key for tenant \"default\"", { keyFile: file });
  return [{ tenant: "default", key }];
}

/**
 * One Ctrl-C under `npm start` reaches the server twice within milliseconds: the terminal signals the whole
 * foreground process group (npm and the server) and npm forwards what it got to its child. A second signal this
 * soon after the first is that same one; a person pressing Ctrl-C again to skip the grace comes later.
 */
const SAME_SIGNAL_MS = 1000;

/**
 * The server itself (store, engine, RPCs) is loaded only by the processes that serve: a cluster's first
 * process never does, so it holds its few jobs without the memory of the whole server.
 */
function serverModule(): Promise<{ startHookwire: typeof StartHookwire }> {
  return import("./app.js");
}

async function main(): Promise<void> {
  let config: Config;
  let log: Logger;
  let keys: Buffer[];
  try {
    config = loadConfig();
    log = createLogger(config.logLevel);
    // The folder's lock comes before anything else touches it; the key file is made inside it after.
    prepareDataFolder(config);
    keys = encryptionKeys(config, log);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`hookwire: configuration error: ${err.message}\n`);
      process.exit(2);
    }
    if (err instanceof DataFolderInUseError) {
      process.stderr.write(`hookwire: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const apiKeys = config.apiKeys ?? developmentKey(config, log);

  let stopping = false;
  let embedded: EmbeddedFerretDB | undefined;
  let mongodbUri = config.mongodbUri;
  if (mongodbUri === undefined) {
    try {
      // Restarted with backoff whenever it dies: meanwhile calls answer UNAVAILABLE and accepted work waits in memory
      // (outcomes) or in the store; the server does not exit over it.
      embedded = await startFerretDB({ dir: join(config.dataDir, "ferretdb"), debugAddr: config.ferretdbDebugAddr, restart: { log } });
    } catch (err) {
      if (err instanceof EmbeddedStoreError) {
        process.stderr.write(`hookwire: ${err.message}\n`);
        process.exit(2);
      }
      throw err;
    }
    mongodbUri = embedded.uri;
    log.info("embedded FerretDB started", { dataDir: embedded.dataDir, pid: embedded.process.pid });
  }

  const starting: Promise<{ close(): Promise<void> }> =
    config.workers > 1
      ? // Each worker's own stop is its grace, then its store's close; past that (and a margin) it is killed.
        startWorkers({ workers: config.workers, maxHeapMb: config.maxHeapMb, mongodbUri, apiKeys, encryptionKeys: keys, stopWaitMs: config.shutdownGraceMs + 10_000, log }).then((workers) => {
          log.info("hookwire listening", { host: config.host, port: workers.port, protocols: ["grpc", "connect", "grpc-web"], workers: workers.pids() });
          return workers;
        })
      : serverModule().then((m) => m.startHookwire({ config, mongodbUri, apiKeys, encryptionKeys: keys, log }));
  let firstSignalAt = 0;
  const stop = async (signal: string) => {
    if (stopping && Date.now() - firstSignalAt < SAME_SIGNAL_MS) {
      log.debug("signal repeated at once: the same stop", { signal });
      return;
    }
    if (stopping) {
      // A second signal: no more grace. Holds on unfinished work run out and any process takes it over.
      log.warn("second signal: exiting at once", { signal });
      embedded?.process.kill("SIGTERM");
      process.exit(1);
    }
    stopping = true;
    firstSignalAt = Date.now();
    log.info("shutting down", { signal });
    try {
      // FerretDB, in its own process group, saw no Ctrl-C: it is stopped only after the graceful stop has written
      // the outcomes and handed back the work the server held. A signal during the start stops what it started.
      await (await starting).close();
      await embedded?.stop();
    } catch (err) {
      log.error("shutdown failed", errorFields(err));
    }
    process.exit(0);
  };
  // Before the "listening" line is written: a caller that stops the server the instant it reads that line (a
  // supervisor, a test) must get the graceful stop, not the default end of the process.
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
  try {
    await starting;
  } catch (err) {
    stopping = true;
    await embedded?.stop();
    throw err;
  }
}

if (cluster.isWorker) {
  void import("./cluster/worker.js").then((w) => w.runWorker());
} else {
  main().catch((err: unknown) => {
    process.stderr.write(`hookwire: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
