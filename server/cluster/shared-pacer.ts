// Rate limits kept once for all workers. Each worker takes deliveries of any endpoint (a connection's Triggers go to
// the worker that holds the connection, retries to whichever worker takes them), so a subscription's limit held
// in each worker would multiply by the workers, and splitting it evenly would starve a limited endpoint whose
// Triggers all come over one HTTP/2 connection. So the primary keeps the one token bucket per limited line (the
// engine's own Pacer) and grants tokens one at a time; a worker asks when it wants to start an attempt. Only limited
// lines ask, each at most at its rate, so the channel carries at most what the limits add up to.
import { Pacer, type LinePacer } from "../engine/pacer.js";
import { isMessage, type PaceAnswer, type PaceRequest, type ToPrimary } from "./messages.js";

/** While a line's request is on its way, its next look comes this soon (a round trip takes well under this). */
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
  asking: boolean;
  /** Nothing to ask for before this (the primary's answer said when its next token is). */
  notBefore: number;
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
    state.asking = false;
    if (m.waitMs > 0) state.notBefore = this.now() + m.waitMs;
    else if (state.owed > 0) state.owed--;
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
    if (state.asking) return ASKING_WAIT_MS;
    const wait = state.notBefore - this.now();
    if (wait > 0) return Math.ceil(wait);
    this.ask(line, state);
    return ASKING_WAIT_MS;
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
    this.send({ type: "hookwire:pace-request", line, perSecond: state.perSecond });
  }

  private use(line: string, perSecond: number): LineState {
    const now = this.now();
    let state = this.lines.get(line);
    if (!state || state.perSecond !== perSecond) state = { perSecond, usedAt: now, granted: 0, owed: state?.owed ?? 0, asking: state?.asking ?? false, notBefore: 0 };
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

/** The primary's side: one bucket per limited line for all workers; answers each request with a token or a wait. */
export class PaceGrants {
  private readonly pacer = new Pacer(() => performance.now());

  /** The answer to a worker's request, or undefined when the message is not one. */
  answer(m: unknown): PaceAnswer | undefined {
    if (!isMessage<PaceRequest>(m, "hookwire:pace-request")) return undefined;
    return { type: "hookwire:pace-answer", line: m.line, waitMs: this.pacer.take(m.line, m.perSecond) };
  }
}
