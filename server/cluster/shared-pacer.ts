// Rate limits kept once for all workers. Each worker takes deliveries of any endpoint (a connection's Triggers go to
// the worker that holds the connection, retries to whichever worker takes them), so a subscription's limit held
// in each worker would multiply by the workers, and splitting it evenly would starve a limited endpoint whose
// Triggers all come over one HTTP/2 connection. So the primary keeps the one token bucket per limited line (the
// engine's own Pacer) and grants its tokens one at a time, first asked first served: a worker asks when it wants
// to start an attempt, and a worker whose ask must wait is told about when its token will come, then sent it.
// Only limited lines ask, each at most at its rate, so the channel carries at most what the limits add up to.
import { Pacer, type LinePacer } from "../engine/pacer.js";
import { isMessage, type PaceAnswer, type PaceRequest, type ToPrimary } from "./messages.js";

/** How soon a line with its ask on the way looks again, when no time for its token was said. */
const ASKING_WAIT_MS = 2;
/** A line not asked about this long is forgotten (its rate is read again from the subscription if it comes back). */
const FORGET_AFTER_MS = 10_000;

interface LineState {
  perSecond: number;
  usedAt: number;
  /** Tokens granted and not used yet. */
  granted: number;
  /** Granted tokens already owed to attempts that started before asking (charge). */
  owed: number;
  /** An ask is on its way or queued at the primary: its token will come. */
  asking: boolean;
  /** When the primary said the queued ask's token will come. */
  expectedAt: number;
}

/** The worker's side: the scheduler's LinePacer, asking the primary over the cluster's channel. */
export class SharedPacer implements LinePacer {
  /** Least recently used first. */
  private readonly lines = new Map<string, LineState>();

  constructor(
    private readonly send: (m: ToPrimary) => void,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Hand every message from the primary here; answers whether it was one of this protocol's. */
  receive(m: unknown): boolean {
    if (!isMessage<PaceAnswer>(m, "hookwire:pace-answer")) return false;
    const state = this.lines.get(m.line);
    if (!state) return true;
    if (m.waitMs > 0) {
      state.expectedAt = this.now() + m.waitMs;
      return true;
    }
    state.asking = false;
    if (state.owed > 0) state.owed--;
    else state.granted++;
    return true;
  }

  known(line: string): number | undefined {
    return this.lines.get(line)?.perSecond;
  }

  take(line: string, perSecond: number): number {
    const state = this.use(line, perSecond);
    if (state.granted > 0) {
      state.granted--;
      return 0;
    }
    if (!state.asking) this.ask(line, state);
    return Math.max(ASKING_WAIT_MS, Math.ceil(state.expectedAt - this.now()));
  }

  charge(line: string, perSecond: number): void {
    const state = this.use(line, perSecond);
    if (state.granted > 0) state.granted--;
    else {
      state.owed++;
      if (!state.asking) this.ask(line, state);
    }
  }

  forget(line: string): void {
    this.lines.delete(line);
  }

  private ask(line: string, state: LineState): void {
    state.asking = true;
    state.expectedAt = 0;
    this.send({ type: "hookwire:pace-request", line, perSecond: state.perSecond });
  }

  private use(line: string, perSecond: number): LineState {
    const now = this.now();
    let state = this.lines.get(line);
    if (!state) state = { perSecond, usedAt: now, granted: 0, owed: 0, asking: false, expectedAt: 0 };
    state.perSecond = perSecond;
    this.lines.delete(line);
    this.lines.set(line, state);
    state.usedAt = now;
    for (const [other, s] of this.lines) {
      if (now - s.usedAt < FORGET_AFTER_MS) break;
      this.lines.delete(other);
    }
    return state;
  }
}

interface Ask {
  perSecond: number;
  reply(answer: PaceAnswer): void;
}

/**
 * The primary's side: one bucket per limited line for all workers. Asks are served in the order they came: one
 * that must wait is answered with about when its token comes (its place in the line at the line's rate), and the
 * token is sent when the bucket has it.
 */
export class PaceGrants {
  private readonly pacer: Pacer;
  private readonly waiting = new Map<string, Ask[]>();
  private readonly timers = new Set<string>();

  constructor(
    now: () => number = () => performance.now(),
    private readonly later: (run: () => void, ms: number) => void = (run, ms) => void setTimeout(run, ms).unref(),
  ) {
    this.pacer = new Pacer(now);
  }

  /** Takes a worker's ask (answering it through `reply`, now or later); false when the message is not one. */
  request(m: unknown, reply: (answer: PaceAnswer) => void): boolean {
    if (!isMessage<PaceRequest>(m, "hookwire:pace-request")) return false;
    let queue = this.waiting.get(m.line);
    if (!queue) this.waiting.set(m.line, (queue = []));
    queue.push({ perSecond: m.perSecond, reply });
    if (this.timers.has(m.line)) reply({ type: "hookwire:pace-answer", line: m.line, waitMs: Math.ceil((queue.length * 1000) / m.perSecond) });
    else this.serve(m.line);
    return true;
  }

  private serve(line: string): void {
    const queue = this.waiting.get(line);
    while (queue && queue.length > 0) {
      const head = queue[0]!;
      const waitMs = this.pacer.take(line, head.perSecond);
      if (waitMs > 0) {
        queue.forEach((ask, i) => ask.reply({ type: "hookwire:pace-answer", line, waitMs: waitMs + Math.ceil((i * 1000) / ask.perSecond) }));
        this.timers.add(line);
        this.later(() => {
          this.timers.delete(line);
          this.serve(line);
        }, waitMs);
        return;
      }
      queue.shift();
      head.reply({ type: "hookwire:pace-answer", line, waitMs: 0 });
    }
    this.waiting.delete(line);
  }
}
