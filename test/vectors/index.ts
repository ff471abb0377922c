import { readFileSync } from "node:fs";

export interface GithubVector {
  name: string;
  body: string;
  secret: string;
  signature: string;
}
export interface StandardVector extends GithubVector {
  webhook_id: string;
  timestamp: number;
}
export interface SignatureVectors {
  github: GithubVector[];
  standard_webhooks: StandardVector[];
}

/** The one file of signature test vectors, read by every test that signs (and by the Go and Python callers). */
export const vectors: SignatureVectors = JSON.parse(
  readFileSync(new URL("./signatures.json", import.meta.url), "utf8"),
) as SignatureVectors;
