// Whether this process's cached subscription lists are current, without a store read per Trigger.
//
// Every subscription change, in any process, inserts the next number of a dense sequence of change
// epochs (an insert, so two processes never both take one, on FerretDB as on MongoDB). Each process
// reads the next epoch by _id every POLL_MS: a new one drops its cached lists, and it then writes what
// it has seen to its view document, which also says until when it may use its cache. A change is
// answered only once every other process whose view is live has seen its epoch (or its view has run
// out), so a Trigger that arrives after the answer, anywhere, sees the change.
//
// A process uses its cache only for VIEW_MS - MARGIN_MS after the start of the poll its view was last
// written from, a margin for clock skew between hosts (the others judge its view by their own clocks).
// The view is written when what it has seen changes and otherwise every REFRESH_MS, not at every poll:
// a write per poll was ten SQLite writes a second per process, each one more writer for a Trigger's
// insert to wait behind. A change waits only for `seen`, which is written as soon as it is read.
// A view written after the one before it ran out may have been passed over by a change meanwhile, so
// it counts as a new start: the cache is dropped and the next poll follows at once.
import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import type { Collection } from "mongodb";
import { errorFields, type Logger } from "../../telemetry/log.js";
import { GroupCommit } from "./group-commit.js";
import { isDuplicateKey } from "./duplicate-key.js";

export interface EpochDoc {
  /** `e<number>` for an epoch; `latest` for a hint of the newest (where a new process starts reading). */
  _id: string;
  epoch: number;
  at: Date;
}

export interface ViewDoc {
  _id: string;
  /** The newest epoch this process had read when it wrote this. */
  seen: number;
  /** Until when, by the writer's clock, it may use lists cached under that epoch. */
  until: Date;
}

export interface ViewTiming {
  pollMs: number;
  viewMs: number;
  marginMs: number;
  /** How often an unchanged view is written again; with pollMs, well within viewMs - marginMs. */
  refreshMs: number;
}

export const DEFAULT_VIEW_TIMING: ViewTiming = { pollMs: 100, viewMs: 3000, marginMs: 1000, refreshMs: 1000 };

/** Epochs kept behind the newest (pruned every PRUNE_EVERY), and how often the hint of the newest is written. */
const PRUNE_BEHIND = 1000;
const PRUNE_EVERY = 256;
const HINT_EVERY = 16;

const epochId = (n: number) => `e${n}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class SubscriptionView {
  readonly id = `${hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`;
  /** Bumped whenever cached lists may be stale; a list cached under an older generation is not used. */
  generation = 0;
  private latest: number | undefined;
  /** performance.now() until which cached lists of the current generation serve Triggers. */
  private currentUntil = 0;
  /** performance.now() until which the view last written covers this process. */
  private coveredUntil = 0;
  /** What the view last written says this process has seen, and the start of the poll that wrote it. */
  private seenWritten: number | undefined;
  private writtenAt = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private stopped = true;
  private warned = false;
  /** The newest epoch this process took: its next one follows it even before its poll reads it. */
  private taken = 0;
  private readonly confirmations = new GroupCommit<undefined, undefined>(async (changes) => {
    await this.confirm();
    return changes.map(() => undefined);
  });

  constructor(
    private readonly epochs: Collection<EpochDoc>,
    private readonly views: Collection<ViewDoc>,
    private readonly log: Logger,
    private readonly timing: ViewTiming = DEFAULT_VIEW_TIMING,
  ) {}

  /** Cached lists of the current generation may serve a Trigger now. */
  get current(): boolean {
    return performance.now() < this.currentUntil;
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    if (this.stopped) return; // never started, or stopped already: no view document to remove
    this.stopped = true;
    clearTimeout(this.timer);
    await this.polling;
    this.currentUntil = 0;
    this.seenWritten = undefined; // the view document goes: a start writes it anew
    await this.views.deleteOne({ _id: this.id }).catch(() => undefined);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.polling = this.poll()
        .then((again) => this.schedule(again ? 0 : this.timing.pollMs))
        .catch((err: unknown) => {
          if (!this.warned) this.log.warn("reading subscription changes failed; Triggers read each tenant's version until it works again", errorFields(err));
          this.warned = true;
          this.schedule(this.timing.pollMs * 5);
        });
    }, ms);
    this.timer.unref();
  }

  /** Where a process without a newest epoch of its own starts reading: the hint (it may lag). */
  private async hinted(): Promise<number> {
    return (await this.epochs.findOne({ _id: "latest" }))?.epoch ?? 0;
  }

  /** One read of the next epoch (more while there are more), then the view; answers whether to poll again at once. */
  private async poll(): Promise<boolean> {
    const startedAt = performance.now();
    const wallStart = Date.now();
    let latest = this.latest;
    latest ??= await this.hinted();
    while (await this.epochs.findOne({ _id: epochId(latest + 1) }, { projection: { _id: 1 } })) latest++;
    if (latest !== this.latest) {
      this.generation++;
      this.latest = latest;
    }
    const unchanged = latest === this.seenWritten && startedAt - this.writtenAt < this.timing.refreshMs && startedAt < this.coveredUntil;
    if (unchanged) {
      // Nothing new since the view was written, and it still covers this process: so do its cached lists.
      this.warned = false;
      this.currentUntil = this.coveredUntil;
      return false;
    }
    await this.views.updateOne({ _id: this.id }, { $set: { seen: latest, until: new Date(wallStart + this.timing.viewMs) } }, { upsert: true });
    this.warned = false;
    this.seenWritten = latest;
    this.writtenAt = startedAt;
    const fresh = performance.now() >= this.coveredUntil;
    this.coveredUntil = startedAt + this.timing.viewMs - this.timing.marginMs;
    if (fresh) {
      this.generation++;
      this.currentUntil = 0;
      this.latest = undefined; // epochs this far back may be pruned: read on from the hint
      return true;
    }
    this.currentUntil = this.coveredUntil;
    return false;
  }

  /**
   * After a subscription change is stored: takes the next epoch and waits until every other live
   * process has seen it (or its view ran out; a process gone without a word holds changes up to VIEW_MS).
   * Changes stored while one epoch is being taken share the next: one epoch per group, not per change.
   */
  changed(): Promise<void> {
    return this.confirmations.add(undefined);
  }

  private async confirm(): Promise<void> {
    let next = Math.max(this.latest ?? (await this.hinted()), this.taken) + 1;
    for (;;) {
      try {
        await this.epochs.insertOne({ _id: epochId(next), epoch: next, at: new Date() });
        this.taken = next;
        break;
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        next++;
      }
    }
    // A hint only, written every HINT_EVERY epochs: it may lag the sequence, which readers follow from it.
    // Epochs far behind it are no longer read: a live process reads every new one within a poll, and a
    // new or lapsed one starts from the hint.
    if (next % HINT_EVERY === 0) {
      await this.epochs.updateOne({ _id: "latest" }, { $max: { epoch: next }, $set: { at: new Date() } }, { upsert: true }).catch(() => undefined);
    }
    if (next % PRUNE_EVERY === 0 && next > PRUNE_BEHIND) {
      await this.epochs.deleteMany({ _id: { $ne: "latest" }, epoch: { $lt: next - PRUNE_BEHIND } }).catch(() => undefined);
    }
    const giveUpAt = performance.now() + this.timing.viewMs + this.timing.marginMs;
    for (;;) {
      const now = Date.now();
      const behind = (await this.views.find({ seen: { $lt: next } }).toArray()).filter((v) => v._id !== this.id && v.until.getTime() > now);
      if (behind.length === 0) return;
      if (performance.now() > giveUpAt) {
        // Views valid further ahead than they may be: a clock ahead of this one by more than the margin.
        this.log.warn("subscription change: other processes did not confirm it in time; their clocks may be ahead", { processes: behind.map((v) => v._id) });
        return;
      }
      await sleep(this.timing.pollMs / 4);
    }
  }
}
