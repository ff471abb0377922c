// Where deliveries may go: the private-address rule (HOOKWIRE_ALLOW_PRIVATE_URLS) and the operator's egress
// allow-list (HOOKWIRE_EGRESS_ALLOW), judged in one place for validation (validation.ts) and for the
// sender's connect-time check (engine/http-sender.ts).
//
// How the two combine, as Svix's `whitelist_subnets` does: a network in the allow-list that lies wholly
// inside a refused range (127.0.0.0/8, 10.0.0.0/8, fd00::/8, ...) is an explicit exception to the private
// rule, so `HOOKWIRE_EGRESS_ALLOW=127.0.0.0/8,::1/128` alone lets deliveries reach loopback and nothing else,
// and `0.0.0.0/0,::/0,10.1.2.0/24` is "the internet plus one internal subnet". A broad entry that merely
// overlaps refused ranges (0.0.0.0/0) does not open them: naming the world must not quietly open the cloud
// metadata address. Host entries allow by name, never past the private rule: what a name resolves to is
// not the operator's to vouch for.
import { BlockList, isIP } from "node:net";
import { isPrivateAddress, parseIPv6, REFUSED_V4, REFUSED_V6 } from "./addresses.js";

export interface EgressAllowList {
  /** Every network entry. */
  readonly networks: BlockList;
  /** The network entries wholly inside a refused range: exceptions to the private rule. */
  readonly exceptions: BlockList;
  readonly hasNetworks: boolean;
  readonly hasExceptions: boolean;
  /** Exact host names, lower case, without a trailing dot. */
  readonly hosts: ReadonlySet<string>;
  /** From "*.example.org" entries: ".example.org" (any name below it, not the name itself). */
  readonly suffixes: readonly string[];
}

/** Why a destination is refused: the private rule, or the allow-list. */
export type Refusal = "private" | "outside";

const HOST_NAME = /^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$/;

/** An address's bits as a number: 32 for IPv4, 128 for IPv6. */
function bitsOf(address: string, family: 4 | 6): bigint {
  if (family === 4) return address.split(".").reduce((n, octet) => (n << 8n) | BigInt(Number(octet)), 0n);
  return parseIPv6(address)!.reduce((n, group) => (n << 16n) | BigInt(group), 0n);
}

const refusedRanges = (family: 4 | 6) =>
  (family === 4 ? REFUSED_V4 : REFUSED_V6).map(([net, prefix]) => {
    const list = new BlockList();
    list.addSubnet(net, prefix, family === 4 ? "ipv4" : "ipv6");
    return { prefix, list };
  });
const REFUSED_RANGES = { 4: refusedRanges(4), 6: refusedRanges(6) } as const;

/** True when the whole network net/prefix lies inside one refused range. */
function whollyRefused(net: string, prefix: number, family: 4 | 6): boolean {
  return REFUSED_RANGES[family].some((r) => r.prefix <= prefix && r.list.check(net, family === 4 ? "ipv4" : "ipv6"));
}

/**
 * HOOKWIRE_EGRESS_ALLOW's value: comma-separated networks (203.0.113.0/24, 2001:db8::/32, or one address),
 * host names (api.example.org) and "*.example.org" (any name below example.org). Undefined when empty.
 * Throws an Error naming the first bad entry (config.ts names the variable).
 */
export function parseEgressAllow(raw: string): EgressAllowList | undefined {
  if (raw.trim() === "") return undefined;
  const networks = new BlockList();
  const exceptions = new BlockList();
  let hasNetworks = false;
  let hasExceptions = false;
  const hosts = new Set<string>();
  const suffixes: string[] = [];
  for (const part of raw.split(",")) {
    const entry = part.trim().toLowerCase();
    if (entry === "") throw new Error(`"${raw}" has an empty entry; separate entries with single commas`);
    const slash = entry.indexOf("/");
    const address = slash === -1 ? entry : entry.slice(0, slash);
    const family = isIP(address);
    if (family === 4 || family === 6) {
      const width = family === 4 ? 32 : 128;
      const prefixText = slash === -1 ? String(width) : entry.slice(slash + 1);
      const prefix = Number(prefixText);
      if (!/^\d{1,3}$/.test(prefixText) || prefix > width) throw new Error(`"${entry}": the prefix length must be 0 to ${width}`);
      const hostBits = (1n << BigInt(width - prefix)) - 1n;
      if ((bitsOf(address, family) & hostBits) !== 0n) {
        throw new Error(`"${entry}" has bits set after its /${prefix} prefix; write the network's first address`);
      }
      const type = family === 4 ? "ipv4" : "ipv6";
      networks.addSubnet(address, prefix, type);
      hasNetworks = true;
      if (whollyRefused(address, prefix, family)) {
        exceptions.addSubnet(address, prefix, type);
        hasExceptions = true;
      }
      continue;
    }
    const name = entry.replace(/\.$/, "");
    const wildcard = name.startsWith("*.");
    const base = wildcard ? name.slice(2) : name;
    if (slash !== -1 || !HOST_NAME.test(base)) {
      throw new Error(
        `"${part.trim()}" is not a network (203.0.113.0/24, 2001:db8::/32), an IP address, or a host name (api.example.org, *.example.org; international names in their xn-- form)`,
      );
    }
    if (wildcard) suffixes.push(`.${base}`);
    else hosts.add(base);
  }
  return { networks, exceptions, hasNetworks, hasExceptions, hosts, suffixes };
}

/** A URL's host as compared here: lower case, no IPv6 brackets, no trailing dot. */
export function normalHost(hostname: string): string {
  return hostname.replace(/^\[|\]$/g, "").replace(/\.$/, "").toLowerCase();
}

/** True when a host name is one of the list's names, or below one of its "*." entries. */
export function hostListed(list: EgressAllowList, host: string): boolean {
  const name = normalHost(host);
  return list.hosts.has(name) || list.suffixes.some((s) => name.endsWith(s));
}

function inList(list: BlockList, address: string, family: number): boolean {
  return list.check(address, family === 4 ? "ipv4" : "ipv6");
}

/**
 * Why an IP address may not be connected to, or undefined when it may. `viaListedHost`: the address was
 * reached through a host name the allow-list names.
 */
export function addressRefusal(address: string, viaListedHost: boolean, allowPrivate: boolean, list: EgressAllowList | undefined): Refusal | undefined {
  const bare = address.replace(/%.*$/, "");
  const family = isIP(bare);
  const isPrivate = isPrivateAddress(address);
  if (!list) return isPrivate && !allowPrivate ? "private" : undefined;
  if (family === 0) return "outside";
  if (isPrivate) {
    if (inList(list.exceptions, bare, family)) return undefined;
    if (!allowPrivate) return "private";
  }
  return viaListedHost || inList(list.networks, bare, family) ? undefined : "outside";
}

/**
 * At validation, why a URL's host is refused when that can be decided without DNS, or undefined: an IP
 * literal is judged as it will be connected to; a name only when the private rule refuses it outright
 * (localhost, *.local, *.internal) or the allow-list has no networks its addresses could fall in.
 */
export function hostRefusal(hostname: string, allowPrivate: boolean, list: EgressAllowList | undefined): Refusal | undefined {
  const host = normalHost(hostname);
  if (isIP(host.replace(/%.*$/, "")) !== 0) return addressRefusal(host, false, allowPrivate, list);
  const local = host === "localhost" || host.endsWith(".localhost") || host.endsWith(".local") || host.endsWith(".internal");
  if (local && !allowPrivate && !list?.hasExceptions) return "private";
  if (list && !list.hasNetworks && !hostListed(list, host)) return "outside";
  return undefined;
}
