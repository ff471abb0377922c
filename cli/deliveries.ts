// `hookwire deliveries list` and `hookwire redeliver`: the attempt log, and sending one again.
import type { Delivery, DeliveryStatus } from "@hookwire/sdk";
import { Command, Option } from "commander";
import { contextOf } from "./context.js";
import { listPages } from "./pages.js";
import { UsageError } from "./exit-codes.js";
import { integer } from "./input.js";
import { attemptSummary, deliveryState, iso, printJson, printLine, printNote, printTable } from "./output.js";

interface ListOptions {
  failed?: boolean;
  status?: DeliveryStatus;
  subscription?: string;
  message?: string;
  owner?: string;
  pageSize?: number;
  pageToken?: string;
  all?: boolean;
}

export function deliveriesRow(d: Delivery): string[] {
  return [d.id, deliveryState(d), d.event, String(d.attempts.length), attemptSummary(d.attempts.at(-1)), iso(d.createdAt), d.url];
}

export const DELIVERY_HEADER = ["ID", "STATUS", "EVENT", "ATTEMPTS", "LAST ATTEMPT", "CREATED", "URL"];

export function deliveriesCommand(): Command {
  const group = new Command("deliveries").description("the delivery log: every delivery with its attempts");
  group
    .command("list")
    .description("list deliveries of a subscription, of a message, or (with neither) of the whole tenant, oldest first")
    .option("--failed", "only failed deliveries (same as --status failed)")
    .addOption(new Option("--status <status>", "only deliveries in this status").choices(["pending", "delivered", "failed"]))
    .option("--subscription <id>", "only this subscription's deliveries")
    .option("--message <id>", "only this message's deliveries")
    .option("--owner <id>", "only deliveries to this owner's subscriptions")
    .option("--page-size <n>", "deliveries per call (server default 50, at most 100)", integer("--page-size", 1))
    .option("--page-token <token>", "start where a previous list stopped")
    .option("--all", "follow every page")
    .action(async (opts: ListOptions, cmd: Command) => {
      if (opts.subscription && opts.message) throw new UsageError("--subscription and --message: give at most one");
      if (opts.failed && opts.status && opts.status !== "failed") throw new UsageError(`--failed and --status ${opts.status}: give one`);
      const { manager, json } = await contextOf(cmd);
      const status: DeliveryStatus | undefined = opts.failed ? "failed" : opts.status;
      const { items: deliveries, pageToken } = await listPages(opts.all, opts.pageToken, async (pageToken) => {
        const page = await manager.listDeliveries({ subscriptionId: opts.subscription, messageId: opts.message, owner: opts.owner, status, pageSize: opts.pageSize, pageToken });
        return { items: page.deliveries, nextPageToken: page.nextPageToken };
      });
      if (json) return printJson({ deliveries, nextPageToken: pageToken });
      if (deliveries.length === 0) printLine("no deliveries");
      else printTable(DELIVERY_HEADER, deliveries.map(deliveriesRow));
      if (pageToken) printNote(`more: add --page-token ${pageToken} (or --all)`);
    });
  return group;
}

export function redeliverCommand(): Command {
  return new Command("redeliver")
    .description("deliver a finished delivery's message again, as a new delivery")
    .argument("<delivery-id>", "a delivered or failed delivery")
    .action(async (deliveryId: string, _opts: unknown, cmd: Command) => {
      const { manager, json } = await contextOf(cmd);
      const d = await manager.redeliver(deliveryId);
      if (json) return printJson(d);
      printLine(`redelivering ${deliveryId} as ${d.id} (${d.status})`);
    });
}
