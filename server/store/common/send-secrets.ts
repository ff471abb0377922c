// A pending Send's secret: sealed, in a document of its own keyed by the delivery id, kept only
// until the delivery ends. Shared by both store layouts.
import type { Collection } from "mongodb";
import type { SendSecrets } from "../../ports.js";
import type { SecretBox } from "../../domain/secret-box.js";
import { deleteById } from "./delete-by-id.js";

export interface SendSecretDoc {
  _id: string;
  tenant: string;
  secret: string;
  createdAt: Date;
}

const context = (tenant: string, deliveryId: string) => `send:${tenant}:${deliveryId}`;

export class SendSecretStore implements SendSecrets {
  constructor(
    private readonly col: Collection<SendSecretDoc>,
    private readonly box: SecretBox,
  ) {}

  async keep(tenant: string, deliveryId: string, secret: string): Promise<void> {
    await this.col.insertOne({ _id: deliveryId, tenant, secret: this.box.seal(secret, context(tenant, deliveryId)), createdAt: new Date() });
  }

  /** By _id alone, the tenant checked after: the one filter FerretDB's SQLite backend answers without a scan. */
  async get(tenant: string, deliveryId: string): Promise<string | undefined> {
    const doc = await this.col.findOne({ _id: deliveryId });
    return doc && doc.tenant === tenant ? this.box.open(doc.secret, context(tenant, deliveryId)) : undefined;
  }

  async drop(deliveryIds: string[]): Promise<void> {
    await deleteById(this.col, deliveryIds);
  }

  /** Seals every kept secret with the current key (after a key rotation); answers how many. */
  async resealAll(): Promise<number> {
    let count = 0;
    for await (const doc of this.col.find({})) {
      if (this.box.isCurrent(doc.secret)) continue;
      const ctx = context(doc.tenant, doc._id);
      await this.col.updateOne({ _id: doc._id }, { $set: { secret: this.box.seal(this.box.open(doc.secret, ctx), ctx) } });
      count++;
    }
    return count;
  }
}
