// `hookwire event-types …`: list, get, create, update, delete the tenant's event type catalog.
import type { HookwireManager } from "@hookwire/sdk";
import { Command } from "commander";
import { contextOf } from "./context.js";
import { listPages } from "./pages.js";
import { UsageError } from "./exit-codes.js";
import { integer, readJsonPayload } from "./input.js";
import { iso, printFields, printJson, printLine, printNote, printTable } from "./output.js";

/** What the SDK answers for an event type (the SDK's main entry does not name the type). */
type EventType = Awaited<ReturnType<HookwireManager["getEventType"]>>;

function printEventType(e: EventType): void {
  printFields([
    ["name", e.name],
    ["description", e.description || "-"],
    ["built-in", e.builtin ? "yes (Hookwire's own operational event)" : "no"],
    ["created", iso(e.createdAt)],
    ["updated", iso(e.updatedAt)],
    ["schema", e.schema ? JSON.stringify(e.schema) : "- (payloads are not checked)"],
    ["example", "example" in e ? JSON.stringify(e.example) : "-"],
  ]);
}

/** --schema's JSON object (text, @file or - for stdin), refused as a usage error unless it is an object. */
async function schemaFlag(value: string): Promise<Record<string, unknown>> {
  const schema = await readJsonPayload(value, "--schema");
  if (typeof schema !== "object" || schema === null || Array.isArray(schema)) throw new UsageError("--schema: must be a JSON object (a JSON Schema)");
  return schema as Record<string, unknown>;
}

const SCHEMA_HELP = "a JSON Schema for the payload (draft 2020-12, or draft-07 by its $schema): JSON text, @file.json, or - for stdin";
const EXAMPLE_HELP = "an example payload (it must satisfy the schema): JSON text, @file.json, or - for stdin";

export function eventTypesCommand(): Command {
  const group = new Command("event-types")
    .description("manage the tenant's event type catalog: names, descriptions, payload schemas and examples")
    .addHelpText(
      "after",
      `
A Trigger of an event whose entry has a schema is checked against it and refused
with the failing place named (exit 3), e.g.
  invalid argument: payload/items/0/price: must be number (the schema of event type "order.created")
Events without an entry are triggered as before. Hookwire's own operational events
(hookwire.*) are listed as built-ins and cannot be changed.

Example:
  hookwire event-types create order.created --description "An order was placed" \\
    --schema '{"type":"object","properties":{"id":{"type":"string"}},"required":["id"]}' \\
    --example '{"id":"o_1"}'`,
    );

  group
    .command("list")
    .description("list the tenant's event types and the built-ins, in name order")
    .option("--page-size <n>", "event types per call (server default 50, at most 100)", integer("--page-size", 1))
    .option("--page-token <token>", "start where a previous list stopped")
    .option("--all", "follow every page")
    .action(async (opts: { pageSize?: number; pageToken?: string; all?: boolean }, cmd: Command) => {
      const { manager, json } = await contextOf(cmd);
      const { items: eventTypes, pageToken } = await listPages(opts.all, opts.pageToken, async (pageToken) => {
        const page = await manager.listEventTypes({ pageSize: opts.pageSize, pageToken });
        return { items: page.eventTypes, nextPageToken: page.nextPageToken };
      });
      if (json) return printJson({ eventTypes, nextPageToken: pageToken });
      printTable(
        ["NAME", "SCHEMA", "KIND", "DESCRIPTION"],
        eventTypes.map((e) => [e.name, e.schema ? "yes" : "-", e.builtin ? "built-in" : "own", e.description]),
      );
      if (pageToken) printNote(`more: add --page-token ${pageToken} (or --all)`);
    });

  group
    .command("get")
    .description("show one event type, with its schema and example")
    .argument("<name>", "event type name, e.g. order.created")
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const { manager, json } = await contextOf(cmd);
      const e = await manager.getEventType(name);
      if (json) printJson(e);
      else printEventType(e);
    });

  group
    .command("create")
    .description("add an event type to the catalog")
    .argument("<name>", "the event's name as trigger takes it, e.g. order.created")
    .option("--description <text>", "what the event means")
    .option("--schema <json>", SCHEMA_HELP)
    .option("--example <json>", EXAMPLE_HELP)
    .action(async (name: string, opts: { description?: string; schema?: string; example?: string }, cmd: Command) => {
      if (opts.schema === "-" && opts.example === "-") throw new UsageError("--schema and --example: only one can read stdin");
      const { manager, json } = await contextOf(cmd);
      const e = await manager.createEventType({
        name,
        description: opts.description,
        schema: opts.schema === undefined ? undefined : await schemaFlag(opts.schema),
        example: opts.example === undefined ? undefined : await readJsonPayload(opts.example, "--example"),
      });
      if (json) printJson(e);
      else printEventType(e);
    });

  group
    .command("update")
    .description("change an event type; only the flags given change")
    .argument("<name>", "event type name")
    .option("--description <text>", "new description")
    .option("--schema <json>", `replaces the schema: ${SCHEMA_HELP}`)
    .option("--no-schema", "remove the schema (payloads are no longer checked)")
    .option("--example <json>", `replaces the example: ${EXAMPLE_HELP}`)
    .option("--no-example", "remove the example")
    .action(async (name: string, opts: { description?: string; schema?: string | false; example?: string | false }, cmd: Command) => {
      if (opts.schema === "-" && opts.example === "-") throw new UsageError("--schema and --example: only one can read stdin");
      const { manager, json } = await contextOf(cmd);
      const e = await manager.updateEventType({
        name,
        description: opts.description,
        schema: opts.schema === undefined ? undefined : opts.schema === false ? null : await schemaFlag(opts.schema),
        example: opts.example === undefined ? undefined : opts.example === false ? null : await readJsonPayload(opts.example, "--example"),
      });
      if (json) printJson(e);
      else printEventType(e);
    });

  group
    .command("delete")
    .description("remove an event type (its event is no longer checked; subscriptions and messages stay)")
    .argument("<name>", "event type name")
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const { manager, json } = await contextOf(cmd);
      await manager.deleteEventType(name);
      if (json) printJson({ deleted: name });
      else printLine(`deleted ${name}`);
    });

  return group;
}
