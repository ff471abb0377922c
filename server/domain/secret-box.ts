// Secrets at rest: AES-256-GCM under a key the database never sees. Each sealed value names the key
// that sealed it, so a key can be rotated: the first configured key seals, every configured key opens.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { SecretUnreadableError } from "./model.js";

const PREFIX = "hwenc:v1:";
const IV_BYTES = 12;
const TAG_BYTES = 16;
export const ENCRYPTION_KEY_BYTES = 32;

export class SecretBoxError extends SecretUnreadableError {
  override name = "SecretBoxError";
}

/** A short public name for a key: lets a sealed value say which key opens it without revealing the key. */
export function keyId(key: Buffer): string {
  return createHash("sha256").update("hookwire encryption key id\0").update(key).digest("hex").slice(0, 12);
}

export class SecretBox {
  private readonly keys = new Map<string, Buffer>();
  readonly currentKeyId: string;

  /** keys[0] seals; all of them open. */
  constructor(keys: readonly Buffer[]) {
    if (keys.length === 0) throw new SecretBoxError("at least one encryption key is needed");
    for (const k of keys) {
      if (k.length !== ENCRYPTION_KEY_BYTES) throw new SecretBoxError(`an encryption key must be ${ENCRYPTION_KEY_BYTES} bytes`);
      this.keys.set(keyId(k), k);
    }
    this.currentKeyId = keyId(keys[0]!);
  }

  /**
   * `context` is bound into the ciphertext (as GCM's associated data): a sealed value copied to
   * another record (another tenant's subscription, say) does not open there.
   */
  seal(plain: string, context: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.keys.get(this.currentKeyId)!, iv);
    cipher.setAAD(Buffer.from(context, "utf8"));
    const ct = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
    return `${PREFIX}${this.currentKeyId}:${Buffer.concat([iv, cipher.getAuthTag(), ct]).toString("base64url")}`;
  }

  open(sealed: string, context: string): string {
    const parsed = parse(sealed);
    if (!parsed) throw new SecretBoxError("the stored secret is not sealed");
    const key = this.keys.get(parsed.keyId);
    if (!key) throw new SecretBoxError(`the stored secret was sealed with key ${parsed.keyId}, which is not configured (HOOKWIRE_ENCRYPTION_KEY)`);
    const raw = Buffer.from(parsed.data, "base64url");
    const decipher = createDecipheriv("aes-256-gcm", key, raw.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(context, "utf8"));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString("utf8");
    } catch {
      throw new SecretBoxError("the stored secret does not open with its key (altered, or moved from another record)");
    }
  }

  /** Sealed with the key that seals now (else it is plain text from before encryption, or an older key's). */
  isCurrent(value: string): boolean {
    return parse(value)?.keyId === this.currentKeyId;
  }

  /** The value in plain text: opened when sealed, as it is when stored before encryption existed. */
  openOrPlain(value: string, context: string): string {
    return isSealed(value) ? this.open(value, context) : value;
  }
}

export function isSealed(value: string): boolean {
  return value.startsWith(PREFIX);
}

function parse(value: string): { keyId: string; data: string } | undefined {
  if (!isSealed(value)) return undefined;
  const rest = value.slice(PREFIX.length);
  const colon = rest.indexOf(":");
  if (colon <= 0) return undefined;
  return { keyId: rest.slice(0, colon), data: rest.slice(colon + 1) };
}
