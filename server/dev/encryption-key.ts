// Where the key that seals secrets at rest comes from: HOOKWIRE_ENCRYPTION_KEY, or for the embedded
// default a key generated once into the data folder, readable by its owner only.
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError } from "../domain/errors.js";
import type { Logger } from "../telemetry/log.js";
import { ENCRYPTION_KEY_BYTES } from "../domain/secret-box.js";

/** What of the configuration decides the key (config.ts). */
export interface KeySettings {
  encryptionKeys: Buffer[] | undefined;
  dataDir: string;
  mongodbUri: string | undefined;
}

export function encryptionKeys(config: KeySettings, log: Logger): Buffer[] {
  if (config.encryptionKeys) return config.encryptionKeys;
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const file = join(config.dataDir, "encryption-key");
  try {
    // "wx": two processes starting on a new folder together must not both write a key.
    writeFileSync(file, randomBytes(ENCRYPTION_KEY_BYTES).toString("base64") + "\n", { mode: 0o600, flag: "wx" });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
  const key = Buffer.from(readFileSync(file, "utf8").trim(), "base64");
  if (key.length !== ENCRYPTION_KEY_BYTES) throw new ConfigError(`${file}: is not base64 of ${ENCRYPTION_KEY_BYTES} bytes`);
  if (config.mongodbUri !== undefined) {
    log.warn("HOOKWIRE_ENCRYPTION_KEY is not set: sealing secrets with the key kept in the data folder; every process sharing the database needs this same key", { keyFile: file });
  }
  return [key];
}
