// `hookwire recover`: redeliver every failed delivery of a subscription since a time. It calls the
// SDK's recoverDeliveries (the RecoverDeliveries RPC) page after page, until the server says the range is
// done; each call is bounded by --batch, and a failed run can be resumed with the token it printed.
import { Command } from "commander";
import type { Delivery } from "@hookwire/sdk";
import { contextOf } from "./context.js";
import { integer, parseSince } from "./input.js";
import { printJson, printLine, printNote } from "./output.js";
import { progressOn } from "./progress.js";

export function recoverCommand(): Command {
  return new Command("recover")
    .description("redeliver every failed delivery of a subscription created since a time")
    .requiredOption("--subscription <id>", "the subscription")
    .requiredOption("--since <time>", "RFC 3339 date-time (2026-05-01T12:00:00Z) or a span ago (30m, 6h, 7d)")
    .option("--batch <n>", "most deliveries per call (server default 100, at most 1000)", integer("--batch", 1))
    .option("--page-token <token>", "resume a run that stopped (the token it printed)")
    .action(async (opts: { subscription: string; since: string; batch?: number; pageToken?: string }, cmd: Command) => {
      const { manager, json } = await contextOf(cmd);
      const since = parseSince(opts.since);
      const progress = progressOn(process.stderr, !json);
      const recovered: Delivery[] = [];
      let pageToken = opts.pageToken ?? "";
      let calls = 0;
      const started = Date.now();
      try {
        do {
          const page = await manager.recoverDeliveries({ subscriptionId: opts.subscription, since, limit: opts.batch, pageToken });
          calls++;
          recovered.push(...page.deliveries);
          pageToken = page.nextPageToken;
          // Shown only once a second call is needed: a run that fits in one call has nothing to watch.
          if (pageToken) progress.update(`recovering: ${recovered.length} redelivered in ${calls} ${calls === 1 ? "call" : "calls"}, ${((Date.now() - started) / 1000).toFixed(1)} s`);
        } while (pageToken);
      } catch (err) {
        progress.done();
        // Where to pick up: the deliveries so far are made, and a repeat never redelivers them twice.
        if (recovered.length && pageToken) printNote(`stopped after ${recovered.length} redelivered; resume with --page-token ${pageToken}`);
        throw err;
      }
      progress.done();
      if (json) return printJson({ subscriptionId: opts.subscription, since: since.toISOString(), recovered: recovered.length, calls, deliveries: recovered });
      printLine(`recovered ${recovered.length} failed ${recovered.length === 1 ? "delivery" : "deliveries"} of ${opts.subscription} since ${since.toISOString()}`);
    });
}
