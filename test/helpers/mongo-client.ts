// A driver client on the tests' FerretDB for one test file, closed when the file is done. The driver
// connects on its first command.
import { MongoClient } from "mongodb";
import { afterAll, inject } from "vitest";

export function fileMongoClient(): MongoClient {
  const client = new MongoClient(inject("mongodbUri"));
  afterAll(() => client.close());
  return client;
}
