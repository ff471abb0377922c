// `hookwire trigger` and `hookwire messages get`: events in, and what became of one.
import { Command } from "commander";
import { contextOf } from "./context.js";
import { UsageError } from "./exit-codes.js";
import { readJsonPayload } from "./input.js";
import { iso, printFields, printJson, printLine } from "./output.js";

export function triggerCommand(): Command {
  return new Command("trigger")
    .description("store an event for one owner's matching subscriptions (delivery follows): --owner's, else the tenant's own")
    .argument("<event>", "event type, e.g. order.created")
    .option("--owner <id>", "the customer the event is for: only that owner's subscriptions receive it")
    .option("--all-owners", "an announcement to every owner's matching subscriptions (and the tenant's own)")
    .option("--data <json>", "the payload: JSON text, @file.json, or - for stdin (default: stdin when piped, else null)")
    .option("--idempotency-key <key>", "a repeat with the same key answers the first message (default: a new UUID)")
    .action(async (event: string, opts: { owner?: string; allOwners?: boolean; data?: string; idempotencyKey?: string }, cmd: Command) => {
      if (opts.owner !== undefined && opts.allOwners) throw new UsageError("--owner and --all-owners: give one");
      const { manager, json } = await contextOf(cmd);
      const payload = await readJsonPayload(opts.data);
      const res = await manager.trigger(event, payload, { owner: opts.owner, allOwners: opts.allOwners, idempotencyKey: opts.idempotencyKey });
      if (json) return printJson(res);
      printLine(`message ${res.messageId}: ${res.deliveries} ${res.deliveries === 1 ? "subscription" : "subscriptions"} matched`);
    });
}

export function messagesCommand(): Command {
  const group = new Command("messages").description("inspect messages (triggered events)");
  group
    .command("get")
    .description("show one message and its payload")
    .argument("<id>", "message id")
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const { manager, json } = await contextOf(cmd);
      const m = await manager.getMessage(id);
      if (json) return printJson(m);
      printFields([
        ["id", m.id],
        ["event", m.event],
        ["owner", m.allOwners ? "every owner" : m.owner || "- (the tenant's own)"],
        ["created", iso(m.createdAt)],
        ["timestamp", m.timestamp],
        ["deliveries", String(m.deliveries)],
        ["idempotency key", m.idempotencyKey || "-"],
        ["payload", JSON.stringify(m.payload)],
      ]);
    });
  return group;
}
