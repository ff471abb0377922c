// The only module that opens MongoDB: the ports of server/ports.ts on its collections.
import { upserting } from "./common/duplicate-key.js";
import { MongoClient, type Db } from "mongodb";
import type { Logger } from "../telemetry/log.js";
import type { HookwireMetrics } from "../telemetry/metrics.js";
import type { DeliveryLog, DeliveryQueue, EventTypes, Messages, PortalSessions, Recoveries, Retention, SendSecrets, StorePorts } from "../ports.js";
import { DeliveryStore } from "./ferret/deliveries.js";
import { MessageStore } from "./common/messages.js";
import { migrate } from "./ferret/migrations.js";
import { StoredDeliveryQueue, type QueueOptions } from "./ferret/queue.js";
import type { SecretBox } from "../domain/secret-box.js";
import { SendSecretStore } from "./common/send-secrets.js";
import { MongoDeliveries } from "./mongo/deliveries.js";
import { SubscriptionStore } from "./common/subscriptions.js";
import { SubscriptionView } from "./common/subscription-view.js";
import { RecoveryStore } from "./common/recoveries.js";
import { EventTypeStore } from "./common/event-types.js";
import { PortalSessionStore } from "./common/portal-sessions.js";
import { HealthStore } from "./common/health.js";
import { ferretdbRetention } from "./ferret/retention.js";
import { MongoRetention } from "./mongo/retention.js";
import { WriteHealth } from "./common/write-health.js";
import { failWritesToClosedSockets } from "./common/closed-socket-writes.js";

/** Which holders are provably dead processes of this host (the composition root releases their holds at start). */
export { deadLocalHolder } from "./common/holds.js";

export interface Store extends StorePorts {
  client: MongoClient;
  db: Db;
  subscriptions: SubscriptionStore;
  messages: Messages;
  queue: DeliveryQueue;
  log: DeliveryLog;
  sendSecrets: SendSecrets;
  recoveries: Recoveries;
  health: HealthStore;
  retention: Retention;
  eventTypes: EventTypes;
  portalSessions: PortalSessions;
  /**
   * Starts following other processes' subscription changes (subscription-view.ts), so Triggers match
   * against cached lists without a read. A server does; a store opened without it reads each time.
   */
  watchSubscriptionChanges(): void;
  /** True when MongoDB answers a ping. */
  ping(): Promise<boolean>;
  /** Whether the store can write: told of failed calls, probing until writes work again after one it refused. */
  writes: WriteHealth;
  close(): Promise<void>;
}

/**
 * How deliveries are laid out: "ferretdb" in batch, queue and log collections shaped for the embedded
 * FerretDB (every read an _id lookup or a pushed-down equality), "mongodb" in one indexed collection
 * with atomic takes; "auto" by what the server says it is.
 */
export type StoreLayout = "auto" | "ferretdb" | "mongodb";

export class StoreLayoutError extends Error {
  override name = "StoreLayoutError";
}

export interface StoreOptions extends QueueOptions {
  layout: StoreLayout;
  /** Where the store's failed writes of delivery states are counted (unset: not counted). */
  metrics?: Pick<HookwireMetrics, "storeError">;
  /** HOOKWIRE_SUBSCRIPTION_CACHE_MS: how stale another process's subscription changes may be for a Trigger (0: not at all). */
  subscriptionCacheMs?: number;
}

/** The layout a database was first opened with stays its layout: the other would not see its deliveries. */
async function chooseLayout(db: Db, wanted: StoreLayout): Promise<"ferretdb" | "mongodb"> {
  const meta = db.collection<{ _id: string; layout: string }>("hookwire_meta");
  const recorded = (await meta.findOne({ _id: "layout" }))?.layout;
  let layout: "ferretdb" | "mongodb";
  if (wanted !== "auto") layout = wanted;
  else if (recorded === "ferretdb" || recorded === "mongodb") layout = recorded;
  else layout = "ferretdbVersion" in (await db.admin().command({ buildInfo: 1 })) ? "ferretdb" : "mongodb";
  if (recorded === undefined) {
    // A database used before layouts were recorded holds the FerretDB layout's collections.
    const older = (await db.listCollections({ name: "delivery_log" }, { nameOnly: true }).toArray()).length > 0;
    const existing = older ? "ferretdb" : layout;
    // Several processes may open a new database at once (a cluster's workers): the loser's retry updates.
    await upserting(() => meta.updateOne({ _id: "layout" }, { $set: { layout: existing } }, { upsert: true }));
    if (existing !== layout) throw new StoreLayoutError(`HOOKWIRE_STORE: this database holds deliveries in the "${existing}" layout, not "${layout}"`);
  } else if (recorded !== layout) {
    throw new StoreLayoutError(`HOOKWIRE_STORE: this database holds deliveries in the "${recorded}" layout, not "${layout}"`);
  }
  return layout;
}

/** `box` seals the secrets the store keeps (subscriptions' and pending Sends'). */
export async function openStore(uri: string, database: string, log: Logger, box: SecretBox, options: StoreOptions): Promise<Store> {
  // A short server selection timeout turns an unreachable database into a prompt UNAVAILABLE
  // instead of an RPC that hangs for the driver's default 30 s.
  failWritesToClosedSockets();
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 5000, appName: "hookwire" });
  await client.connect();
  const db = client.db(database);
  const writes = new WriteHealth(db.collection("hookwire_meta"), log);
  // The engine's own writes (outcomes) tell it too: a full disk shows in health even when no call comes in.
  const metrics = options.metrics;
  options = {
    ...options,
    writeFailed: (err) => {
      metrics?.storeError("record");
      void writes.failed(err);
    },
  };
  const layout = await chooseLayout(db, options.layout).catch(async (err: unknown) => {
    await client.close();
    throw err;
  });
  const view = new SubscriptionView(db.collection("subscription_epochs"), db.collection("subscription_views"), log);
  const subscriptions = new SubscriptionStore(db.collection("subscriptions"), db.collection("tenants"), db.collection("subscription_scopes"), db.collection("hookwire_meta"), box, options.subscriptionCacheMs ?? 0, view);
  const messages = new MessageStore(db.collection("messages"));
  const sendSecrets = new SendSecretStore(db.collection("send_secrets"), box);
  const health = new HealthStore(db.collection("subscription_health"));
  // Its changes take the subscriptions' change epochs too, so Triggers everywhere see them at once (event-types.ts).
  const eventTypes = new EventTypeStore(db.collection("event_types"), db.collection("event_type_versions"), view);
  const portalSessions = new PortalSessionStore(db.collection("portal_sessions"));
  let deliveries: { queue: DeliveryQueue; log: DeliveryLog; retention: Retention; ensureIndexes(): Promise<void> };
  if (layout === "mongodb") {
    const both = new MongoDeliveries(db.collection("deliveries"), messages, sendSecrets, log, options);
    const retention = new MongoRetention(db.collection("messages"), db.collection("deliveries"));
    deliveries = { queue: both, log: both, retention, ensureIndexes: async () => void (await Promise.all([both.ensureIndexes(), retention.ensureIndexes()])) };
  } else {
    const store = new DeliveryStore(
      db.collection("delivery_queue"),
      db.collection("delivery_log"),
      db.collection("delivery_batches"),
      db.collection("messages"),
      db.collection("delivery_lots"),
      db.collection("hookwire_meta"),
      sendSecrets,
    );
    const retention = ferretdbRetention({
      messages: db.collection("messages"),
      lots: db.collection("delivery_lots"),
      queue: db.collection("delivery_queue"),
      log: db.collection("delivery_log"),
    });
    const migrated = () =>
      migrate({
        queue: db.collection("delivery_queue"),
        log: db.collection("delivery_log"),
        batches: db.collection("delivery_batches"),
        messages: db.collection("messages"),
        lots: db.collection("delivery_lots"),
        meta: db.collection("hookwire_meta"),
      });
    // The one-time migrations of earlier databases run once the indexes they read through exist.
    deliveries = { queue: new StoredDeliveryQueue(store, messages, log, options), log: store, retention, ensureIndexes: async () => void (await store.ensureIndexes(), await migrated()) };
  }
  // Messages are read by _id only: no index beyond it (each one costs every insert; the FerretDB layout
  // adds its lot index, the MongoDB layout one on createdAt for retention).
  await Promise.all([subscriptions.ensureIndexes(), eventTypes.ensureIndexes(), portalSessions.ensureIndexes(), deliveries.ensureIndexes()]);
  const resealed = await subscriptions.resealAll();
  const resealedSends = await sendSecrets.resealAll();
  if (resealed + resealedSends > 0) {
    log.info("subscription secrets sealed with the current encryption key", { subscriptions: resealed, sends: resealedSends, key: box.currentKeyId });
  }
  log.info("store ready", { database, layout });
  return {
    client,
    db,
    subscriptions,
    messages,
    queue: deliveries.queue,
    log: deliveries.log,
    sendSecrets,
    recoveries: new RecoveryStore(db.collection("recoveries")),
    health,
    retention: deliveries.retention,
    eventTypes,
    portalSessions,
    watchSubscriptionChanges: () => view.start(),
    writes,
    async ping() {
      // Bounded here too: while the server cannot be reached, the driver may wait out its whole
      // server selection time (5 s) before timeoutMS applies, and health probes give up first.
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<boolean>((r) => (timer = setTimeout(() => r(false), 2000)));
      const answered = db.command({ ping: 1 }, { timeoutMS: 2000 }).then(
        () => true,
        () => false,
      );
      try {
        return await Promise.race([answered, late]);
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      writes.stop();
      await view.stop();
      await client.close();
    },
  };
}
