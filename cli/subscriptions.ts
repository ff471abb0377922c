// `hookwire subscriptions …`: list, get, create, update, delete, rotate-secret.
import type { Subscription } from "@hookwire/sdk";
import { Command } from "commander";
import { contextOf } from "./context.js";
import { listPages } from "./pages.js";
import { UsageError } from "./exit-codes.js";
import { integer } from "./input.js";
import { iso, printFields, printJson, printLine, printNote, printTable } from "./output.js";

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** Repeated --header name=value flags as the API's map; a name given twice is refused (the server compares names ignoring case too). */
function headerMap(flags: string[] | undefined): Record<string, string> | undefined {
  if (flags === undefined) return undefined;
  const seen = new Set<string>();
  const pairs = flags.map((flag): [string, string] => {
    // "=" cannot be in a header name (RFC 9110 token), so the first one ends it; the value may hold more.
    const at = flag.indexOf("=");
    if (at <= 0) throw new UsageError(`--header: "${flag}" is not name=value`);
    const name = flag.slice(0, at);
    if (seen.has(name)) throw new UsageError(`--header: ${name} is given twice`);
    seen.add(name);
    return [name, flag.slice(at + 1)];
  });
  return Object.fromEntries(pairs);
}

/** A subscription's extra headers as rows of printFields, one "name: value" each (values as answered: masked by every call but get). */
function headerRows(headers: Record<string, string>): [string, string][] {
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}`);
  return lines.length === 0 ? [["headers", "-"]] : lines.map((line, i) => [i === 0 ? "headers" : "", line]);
}

/** How the endpoint has been doing, in a few words. */
function healthSummary(s: Subscription): string {
  const h = s.health;
  if (s.disabled) return `disabled${s.disabledReason ? `: ${s.disabledReason}` : ""}`;
  if (h.failingSince) return `failing since ${iso(h.failingSince)} (${h.consecutiveFailures} in a row: ${h.lastError})`;
  if (h.attemptsSucceeded + h.attemptsFailed === 0) return "no attempts yet";
  return `ok (${h.attemptsSucceeded} succeeded, ${h.attemptsFailed} failed)`;
}

function printSubscription(s: Subscription): void {
  printFields([
    ["id", s.id],
    ["owner", s.owner || "- (the tenant's own)"],
    ["url", s.url],
    ["events", s.events.join(", ")],
    ["description", s.description || "-"],
    ["status", s.disabled ? `disabled${s.disabledReason ? ` (${s.disabledReason})` : ""}` : "enabled"],
    ["health", healthSummary(s)],
    ["retries", s.retries ? String(s.retries) : "server default"],
    ["retry delay", s.retryDelayMs ? `${s.retryDelayMs} ms` : "server default"],
    ["timeout", s.timeoutMs ? `${s.timeoutMs} ms` : "server default"],
    ["rate limit", s.rateLimitPerSecond ? `${s.rateLimitPerSecond} attempts a second (per Hookwire process)` : "none"],
    ...headerRows(s.headers),
    ["created", iso(s.createdAt)],
    ["updated", iso(s.updatedAt)],
  ]);
}

/** The delivery policy and endpoint settings flags create and update share. */
function policyFlags(cmd: Command, headerHelp: string, rateHelp: string): Command {
  return cmd
    .option("--retries <n>", "retries after the first attempt (0-20)", integer("--retries"))
    .option("--retry-delay-ms <ms>", "first retry delay; later ones back off (10-3600000)", integer("--retry-delay-ms"))
    .option("--timeout-ms <ms>", "per-attempt timeout (100-300000)", integer("--timeout-ms"))
    .option("--header <name=value>", headerHelp, collect)
    .option("--rate-limit <n>", rateHelp, integer("--rate-limit"));
}

interface PolicyOptions {
  retries?: number;
  retryDelayMs?: number;
  timeoutMs?: number;
  header?: string[];
  rateLimit?: number;
}

export function subscriptionsCommand(): Command {
  const group = new Command("subscriptions").description("manage webhook subscriptions").alias("subs");

  group
    .command("list")
    .description("list the tenant's subscriptions (or one owner's) with their health")
    .option("--owner <id>", "only this owner's subscriptions")
    .option("--page-size <n>", "subscriptions per call (server default 50, at most 100)", integer("--page-size", 1))
    .option("--page-token <token>", "start where a previous list stopped")
    .option("--all", "follow every page")
    .action(async (opts: { owner?: string; pageSize?: number; pageToken?: string; all?: boolean }, cmd: Command) => {
      const { manager, json } = await contextOf(cmd);
      const { items: subscriptions, pageToken } = await listPages(opts.all, opts.pageToken, async (pageToken) => {
        const page = await manager.listSubscriptions({ owner: opts.owner, pageSize: opts.pageSize, pageToken });
        return { items: page.subscriptions, nextPageToken: page.nextPageToken };
      });
      if (json) return printJson({ subscriptions, nextPageToken: pageToken });
      if (subscriptions.length === 0) printLine("no subscriptions");
      else printTable(["ID", "OWNER", "EVENTS", "URL", "HEALTH"], subscriptions.map((s) => [s.id, s.owner || "-", s.events.join(","), s.url, healthSummary(s)]));
      if (pageToken) printNote(`more: add --page-token ${pageToken} (or --all)`);
    });

  group
    .command("get")
    .description("show one subscription")
    .argument("<id>", "subscription id")
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const { manager, json } = await contextOf(cmd);
      const s = await manager.getSubscription(id);
      if (json) printJson(s);
      else printSubscription(s);
    });

  policyFlags(
    group
      .command("create")
      .description("register an endpoint; prints its signing secret (shown only now)")
      // Not --url: that global flag is Hookwire's own address.
      .requiredOption("--endpoint <url>", "the endpoint to deliver to (http or https; the API's url)")
      .option("--owner <id>", "the customer it belongs to (your user or account id); fixed once created (default: the tenant's own)")
      .option("--event <pattern>", "event pattern, repeatable: order.created, order.*, * (default *)", collect)
      .option("--secret <secret>", "whsec_ + base64 of 24-64 bytes (default: generated)")
      .option("--description <text>", "what it is for"),
    "extra request header for every delivery, repeatable, e.g. --header 'Authorization=Bearer <token>' (sealed at rest)",
    "at most n attempts a second to the endpoint, retries included (1-10000; default none; per Hookwire process)",
  ).action(async (opts: PolicyOptions & { endpoint: string; owner?: string; event?: string[]; secret?: string; description?: string }, cmd: Command) => {
    const { manager, json } = await contextOf(cmd);
    const res = await manager.register({
      url: opts.endpoint,
      owner: opts.owner,
      events: opts.event ?? ["*"],
      secret: opts.secret,
      description: opts.description,
      retries: opts.retries,
      retryDelayMs: opts.retryDelayMs,
      timeoutMs: opts.timeoutMs,
      headers: headerMap(opts.header),
      rateLimitPerSecond: opts.rateLimit,
    });
    if (json) return printJson(res);
    printSubscription(res.subscription);
    printFields([["secret", res.secret]]);
  });

  policyFlags(
    group
      .command("update")
      .description("change a subscription; only the flags given change")
      .argument("<id>", "subscription id")
      .option("--endpoint <url>", "new endpoint URL")
      .option("--event <pattern>", "event pattern, repeatable; replaces all patterns", collect)
      .option("--description <text>", "new description")
      .option("--disable", "stop delivering to it")
      .option("--enable", "deliver to it again (re-enables a disabled one)")
      .option("--clear-headers", "remove every extra header"),
    "extra request header, repeatable; replaces all of them (those not given are removed)",
    "at most n attempts a second to the endpoint (1-10000); 0 removes the limit",
  ).action(
    async (
      id: string,
      opts: PolicyOptions & { endpoint?: string; event?: string[]; description?: string; disable?: boolean; enable?: boolean; clearHeaders?: boolean },
      cmd: Command,
    ) => {
      if (opts.disable && opts.enable) throw new UsageError("--disable and --enable: give one");
      if (opts.clearHeaders && opts.header) throw new UsageError("--clear-headers and --header: give one (--header alone replaces them all)");
      const { manager, json } = await contextOf(cmd);
      const s = await manager.updateSubscription({
        id,
        url: opts.endpoint,
        events: opts.event,
        description: opts.description,
        disabled: opts.disable ? true : opts.enable ? false : undefined,
        retries: opts.retries,
        retryDelayMs: opts.retryDelayMs,
        timeoutMs: opts.timeoutMs,
        // {} removes every header (the SDK sends clear_headers).
        headers: opts.clearHeaders ? {} : headerMap(opts.header),
        rateLimitPerSecond: opts.rateLimit,
      });
      if (json) printJson(s);
      else printSubscription(s);
    },
  );

  group
    .command("delete")
    .description("delete a subscription")
    .argument("<id>", "subscription id")
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const { manager, json } = await contextOf(cmd);
      await manager.deleteSubscription(id);
      if (json) printJson({ deleted: id });
      else printLine(`deleted ${id}`);
    });

  group
    .command("rotate-secret")
    .description("give a subscription a new signing secret; the old one keeps signing beside it for a while")
    .argument("<id>", "subscription id")
    .option("--secret <secret>", "the new secret (default: generated)")
    .option("--previous-ttl <seconds>", "how long the old secret keeps signing (default 86400)", integer("--previous-ttl"))
    .action(async (id: string, opts: { secret?: string; previousTtl?: number }, cmd: Command) => {
      const { manager, json } = await contextOf(cmd);
      const res = await manager.rotateSecret(id, { secret: opts.secret, previousSecretTtlSeconds: opts.previousTtl });
      if (json) return printJson(res);
      printFields([
        ["id", res.subscription.id],
        ["secret", res.secret],
      ]);
    });

  return group;
}
