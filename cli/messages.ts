// `hookwire trigger` and `hookwire messages get`: events in, and what became of one.
import { Command } from "commander";
import { contextOf } from "./context.js";
import { readJsonPayload } from "./input.js";
import { iso, printFields, printJson, printLine } from "./output.js";

export function triggerCommand(): Command {
  return new Command("trigger")
    .description("store an event for every matching subscription (delivery follows)")
    .argument("<event>", "event type, e.g. order.created")
    .option("--data <json>", "the payload: JSON text, @file.json, or - for stdin (default: stdin when piped, else null)")
    .option("--idempotency-key <key>", "a repeat with the same key answers the first message (default: a new UUID)")
    .action(async (event: string, opts: { data?: string; idempotencyKey?: string }, cmd: Command) => {
      const { manager, json } = await contextOf(cmd);
      const payload = await readJsonPayload(opts.data);
      const res = await manager.trigger(event, payload, opts.idempotencyKey);
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
        ["created", iso(m.createdAt)],
        ["timestamp", m.timestamp],
        ["deliveries", String(m.deliveries)],
        ["idempotency key", m.idempotencyKey || "-"],
        ["payload", JSON.stringify(m.payload)],
      ]);
    });
  return group;
}
