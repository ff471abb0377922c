// `hookwire tail`: delivery outcomes as they happen (WatchDeliveries), one line each, until Ctrl-C.
import type { Delivery } from "@hookwire/sdk";
import { Command } from "commander";
import { contextOf } from "./context.js";
import { EXIT } from "./exit-codes.js";
import { integer } from "./input.js";
import { attemptSummary, colourFor, deliveryState, iso, printColouredLine, printJsonLine, printNote, terminalSafe, type Colour } from "./output.js";

const STATE_COLOUR: Record<string, Colour> = { delivered: "green", failed: "red", retrying: "yellow", pending: "yellow" };

/** One outcome: when, what became of it, which delivery, the event, what the endpoint answered; each piece made safe for a terminal. */
export function outcomeLine(d: Delivery, colour: (text: string, c: Colour) => string): string {
  const last = d.attempts.at(-1);
  const state = deliveryState(d);
  const next = state === "retrying" && d.nextAttemptAt ? `, next attempt at ${iso(d.nextAttemptAt)}` : "";
  return [
    colour(iso(last?.attemptedAt ?? d.updatedAt), "dim"),
    colour(state.padEnd(9), STATE_COLOUR[state] ?? "dim"),
    terminalSafe(d.id),
    terminalSafe(d.event),
    terminalSafe(d.url),
    terminalSafe(`${attemptSummary(last)} (attempt ${d.attempts.length}${next})`),
  ].join("  ");
}

export function tailCommand(): Command {
  return new Command("tail")
    .description("print delivery outcomes as they happen, one line each (Ctrl-C stops)")
    .option("--subscription <id>", "only this subscription's outcomes")
    .option("--owner <id>", "only outcomes of deliveries to this owner's subscriptions")
    .option("--count <n>", "stop after this many outcomes", integer("--count", 1))
    .action(async (opts: { subscription?: string; owner?: string; count?: number }, cmd: Command) => {
      const { manager, json, baseUrl } = await contextOf(cmd);
      const stop = new AbortController();
      // Ctrl-C ends the stream and the command cleanly, with exit code 0.
      const onSignal = () => stop.abort();
      process.once("SIGINT", onSignal);
      process.once("SIGTERM", onSignal);
      const colour = colourFor(process.stdout);
      const of = [opts.subscription, opts.owner && `owner ${opts.owner}`].filter(Boolean).join(", ");
      if (!json && process.stderr.isTTY) printNote(`watching deliveries${of ? ` of ${of}` : ""} (Ctrl-C to stop)`);
      let seen = 0;
      try {
        for await (const d of manager.watchDeliveries({ subscriptionId: opts.subscription, owner: opts.owner, signal: stop.signal })) {
          if (json) printJsonLine(d);
          else printColouredLine(outcomeLine(d, colour));
          if (opts.count !== undefined && ++seen >= opts.count) break;
        }
        // The stream ended without Ctrl-C or --count: the server closed it (it stops, or restarts).
        if (!stop.signal.aborted && (opts.count === undefined || seen < opts.count)) {
          printNote(`hookwire: Hookwire at ${baseUrl} ended the stream`);
          process.exitCode = EXIT.unavailable;
        }
      } finally {
        stop.abort();
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
      }
    });
}
