// The peer figures' rounds: Hookwire and Hookdeck Outpost measured in turn on one machine, each round's ratio,
// and the median round that stands for the figure. Only arithmetic and text here; run.ts runs the rounds.

/** One Hookwire run of the peer workload (closed loop, 32 in flight). */
export interface PeerRun {
  caller: string;
  accepted: number;
  delivered: number;
  p50: number;
  p99: number;
  /** CPU ms per Trigger of each process, to the last delivery: a figure this machine's noise moves little. */
  cpu: string;
  steal: number;
}

/** One Outpost run of the same workload, from its runner's `outpost:` line. */
export interface OutpostRun {
  accepted: number;
  delivered: number;
  p50: number;
  p99: number;
  /** false when the runner gave up at its time limit (delivered/s is then distinct deliveries over the time). */
  complete: boolean;
}

/** One open-loop end-to-end latency run (publish start to first arrival), either system. */
export interface E2eFigures {
  p50: number;
  p99: number;
  max: number;
  delivered: number;
  offered: number;
  complete: boolean;
}

/**
 * The round whose `value` is the median. With an even count, the less favourable of the two middle rounds
 * (`higherIsBetter` says which way is favourable), so an even number of rounds never flatters the figure.
 */
export function medianRound<T>(rounds: T[], value: (r: T) => number, higherIsBetter: boolean): T {
  const sorted = [...rounds].sort((a, b) => value(a) - value(b));
  const mid = (sorted.length - 1) / 2;
  return sorted[higherIsBetter ? Math.floor(mid) : Math.ceil(mid)]!;
}

/** Odd rounds run Hookwire first, even rounds the peer first: a drift of the machine favours neither side. */
export async function inTurn(round: number, hookwire: () => Promise<void>, peer: () => Promise<void>): Promise<void> {
  for (const turn of round % 2 === 1 ? [hookwire, peer] : [peer, hookwire]) await turn();
}

export const perSecond = (x: number) => `${Math.round(x).toLocaleString("en-US")}/s`;
export const ms = (x: number) => `${x >= 100 ? x.toFixed(0) : x.toFixed(1)} ms`;
export const times = (x: number) => `${x.toFixed(2)}x`;

/** A small Markdown table, columns padded. */
export function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => "| " + cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ") + " |";
  return [line(header), "|" + widths.map((w) => "-".repeat(w + 2)).join("|") + "|", ...rows.map(line)];
}
