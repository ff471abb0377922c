// Customer portal sessions, the same in both layouts: `portal_sessions`, one document per session whose
// _id is the SHA-256 of its token (hex), so the check of each portal call is one read by _id, the lookup
// FerretDB answers from SQLite's index; the token itself is never stored. The theme is kept as JSON text
// (a logo may be a data: URL of up to 32 KiB, which a nested document would make dearer to write and
// read), and left out of the per-call read. A revocation finds the owner's sessions through the
// (tenant, owner) index and deletes them by _id.
import type { Collection } from "mongodb";
import { NO_THEME, type PortalSession, type PortalTheme } from "../../domain/portal.js";
import type { PortalSessions } from "../../ports.js";
import { deleteById } from "./delete-by-id.js";
import { ensureWalkIndex } from "./walk-index.js";

export interface PortalSessionDoc {
  /** The token's digest. */
  _id: string;
  tenant: string;
  owner: string;
  createdAt: Date;
  expiresAt: Date;
  /** JSON text of the theme; absent when every field is the default. */
  theme?: string;
}

/** Deletes per command: FerretDB deadlocks on update commands of more than about a hundred statements. */
const DELETES_PER_COMMAND = 50;
/** Sessions read per round of a revocation. */
const REVOKE_ROUND = 500;

function themeText(theme: PortalTheme | undefined): string | undefined {
  if (!theme || (theme.accentColor === "" && theme.logoUrl === "" && theme.colorScheme === "" && theme.title === "")) return undefined;
  return JSON.stringify({ accentColor: theme.accentColor, logoUrl: theme.logoUrl, colorScheme: theme.colorScheme, title: theme.title });
}

function fromDoc(doc: PortalSessionDoc, withTheme: boolean): PortalSession {
  const session: PortalSession = { digest: doc._id, tenant: doc.tenant, owner: doc.owner, createdAt: doc.createdAt, expiresAt: doc.expiresAt };
  if (withTheme) session.theme = doc.theme === undefined ? { ...NO_THEME } : (JSON.parse(doc.theme) as PortalTheme);
  return session;
}

export class PortalSessionStore implements PortalSessions {
  constructor(private readonly col: Collection<PortalSessionDoc>) {}

  async ensureIndexes(): Promise<void> {
    await ensureWalkIndex(this.col, ["tenant", "owner"]);
  }

  async create(session: PortalSession): Promise<void> {
    const theme = themeText(session.theme);
    await this.col.insertOne({
      _id: session.digest,
      tenant: session.tenant,
      owner: session.owner,
      createdAt: session.createdAt,
      expiresAt: session.expiresAt,
      ...(theme === undefined ? {} : { theme }),
    });
  }

  async byDigest(digest: string, withTheme = false): Promise<PortalSession | null> {
    const doc = await this.col.findOne({ _id: digest }, withTheme ? {} : { projection: { theme: 0 } });
    return doc ? fromDoc(doc, withTheme) : null;
  }

  async revokeOwner(tenant: string, owner: string, now: Date): Promise<number> {
    let revoked = 0;
    for (;;) {
      const docs = await this.col.find({ tenant, owner }, { projection: { expiresAt: 1 } }).limit(REVOKE_ROUND).toArray();
      await deleteById(this.col, docs.map((d) => d._id), DELETES_PER_COMMAND);
      revoked += docs.filter((d) => d.expiresAt.getTime() > now.getTime()).length;
      // A short round was the last: sessions made after the call began need not end with it.
      if (docs.length < REVOKE_ROUND) return revoked;
    }
  }

  async removeExpired(now: Date, limit: number): Promise<number> {
    // A range, which FerretDB matches in Go over every session; sessions are few (each lasts a day at most,
    // and this removes them once over).
    const old = await this.col.find({ expiresAt: { $lte: now } }, { projection: { _id: 1 } }).limit(limit).toArray();
    await deleteById(this.col, old.map((d) => d._id), DELETES_PER_COMMAND);
    return old.length;
  }
}
