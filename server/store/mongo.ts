// The only module that opens MongoDB: the ports of server/ports.ts on its collections.
import { MongoClient, type Db } from "mongodb";
import type { Logger } from "../log.js";
import type { DeliveryLog, DeliveryQueue, Messages, SendSecrets, StorePorts } from "../ports.js";
import { DeliveryStore } from "./deliveries.js";
import { MessageStore } from "./messages.js";
import { StoredDeliveryQueue, type QueueOptions } from "./queue.js";
import type { SecretBox } from "./secret-box.js";
import { SubscriptionStore } from "./subscriptions.js";

export interface Store extends StorePorts {
  client: MongoClient;
  db: Db;
  subscriptions: SubscriptionStore;
  messages: Messages;
  queue: DeliveryQueue;
  log: DeliveryLog;
  sendSecrets: SendSecrets;
  /** True when MongoDB answers a ping. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/** `box` seals the secrets the store keeps (subscriptions' and pending Sends'). */
export async function openStore(uri: string, database: string, log: Logger, box: SecretBox, queueOptions: QueueOptions): Promise<Store> {
  // A short server selection timeout turns an unreachable database into a prompt UNAVAILABLE
  // instead of an RPC that hangs for the driver's default 30 s.
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 5000, appName: "hookwire" });
  await client.connect();
  const db = client.db(database);
  const subscriptions = new SubscriptionStore(db.collection("subscriptions"), db.collection("tenants"), box);
  const messages = new MessageStore(db.collection("messages"));
  const deliveries = new DeliveryStore(
    db.collection("delivery_queue"),
    db.collection("delivery_log"),
    db.collection("delivery_batches"),
    db.collection("send_secrets"),
    db.collection("hookwire_meta"),
    box,
  );
  await Promise.all([subscriptions.ensureIndexes(), messages.ensureIndexes(), deliveries.ensureIndexes()]);
  const resealed = await subscriptions.resealAll();
  const resealedSends = await deliveries.resealSendSecrets();
  if (resealed + resealedSends > 0) {
    log.info("subscription secrets sealed with the current encryption key", { subscriptions: resealed, sends: resealedSends, key: box.currentKeyId });
  }
  log.info("store ready", { database });
  return {
    client,
    db,
    subscriptions,
    messages,
    queue: new StoredDeliveryQueue(deliveries, messages, log, queueOptions),
    log: deliveries,
    sendSecrets: {
      keep: (tenant, id, secret) => deliveries.keepSendSecret(tenant, id, secret),
      get: (tenant, id) => deliveries.sendSecret(tenant, id),
      drop: (ids) => deliveries.dropSendSecrets(ids),
    },
    async ping() {
      try {
        await db.command({ ping: 1 }, { timeoutMS: 2000 });
        return true;
      } catch {
        return false;
      }
    },
    close: () => client.close(),
  };
}
