// The store's walkable indexes (server/store/common/walk-index.ts): created under the name our FerretDB build
// walks, replacing an index of the same keys that an earlier version made under its default name.
import { expect, it } from "vitest";
import { fileMongoClient } from "../helpers/mongo-client.js";
import { ensureWalkIndex } from "../../server/store/common/walk-index.js";

const client = fileMongoClient();

it("replaces an earlier version's index of the same keys, keeps others, and runs again without change", async () => {
  const col = client.db("walk_index").collection<{ _id: string; tenant: string; subscriptionId: string }>("log");
  await col.insertOne({ _id: "dlv_1", tenant: "t", subscriptionId: "sub_1" });
  await col.createIndex({ tenant: 1, subscriptionId: 1, _id: 1 });
  await col.createIndex({ tenant: 1, subscriptionId: 1 });
  for (let i = 0; i < 2; i++) await ensureWalkIndex(col, ["tenant", "subscriptionId"]);
  const names = (await col.listIndexes().toArray()).map((ix) => ix.name).sort();
  expect(names).toEqual(["_id_", "hookwire_strings_tenant_subscriptionId", "tenant_1_subscriptionId_1"]);
  const plan = JSON.stringify(
    (await client.db("walk_index").command({ explain: { find: "log", filter: { tenant: "t", subscriptionId: "sub_1" }, sort: { _id: 1 }, limit: 10 } })).queryPlanner,
  );
  expect(plan).toMatch(/USING INDEX \S+_hookwire_strings_tenant_subscriptionId /);
  expect(await col.find({ tenant: "t", subscriptionId: "sub_1" }).sort({ _id: 1 }).limit(10).toArray()).toHaveLength(1);
});
