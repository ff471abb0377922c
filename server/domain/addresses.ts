// Which IP addresses a subscriber URL may not reach: loopback, private, link-local, metadata, reserved,
// and IPv6 addresses that carry such an IPv4 address inside them (transition mechanisms).
import { BlockList, isIP } from "node:net";

/** The refused IPv4 networks, [network, prefix]; egress.ts lets an allow-list name a network inside one of them. */
export const REFUSED_V4: readonly (readonly [string, number])[] = [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
];

/** The refused IPv6 networks; those that embed an IPv4 address are judged by embeddedIPv4 instead. */
export const REFUSED_V6: readonly (readonly [string, number])[] = [
  ["::", 128],
  ["::1", 128],
  // NAT64 local-use (RFC 8215): not globally reachable, and its operators choose where the IPv4 sits.
  ["64:ff9b:1::", 48],
  ["100::", 64],
  ["2001:db8::", 32],
  ["fc00::", 7],
  ["fe80::", 10],
  ["fec0::", 10],
  ["ff00::", 8],
];

const blockedV4 = new BlockList();
for (const [net, prefix] of REFUSED_V4) blockedV4.addSubnet(net, prefix, "ipv4");
const blockedV6 = new BlockList();
for (const [net, prefix] of REFUSED_V6) blockedV6.addSubnet(net, prefix, "ipv6");

/**
 * The eight 16-bit groups of an IPv6 address in any text form ("::" compression, a trailing dotted
 * quad, a zone), or undefined when it is not one.
 */
export function parseIPv6(text: string): number[] | undefined {
  const address = text.replace(/%.*$/, "");
  const halves = address.split("::");
  if (halves.length > 2) return undefined;
  const parse = (part: string, last: boolean): number[] | undefined => {
    if (part === "") return [];
    const out: number[] = [];
    const pieces = part.split(":");
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i]!;
      if (last && i === pieces.length - 1 && piece.includes(".")) {
        const quad = piece.split(".");
        if (quad.length !== 4 || !quad.every((o) => /^\d{1,3}$/.test(o) && Number(o) <= 255)) return undefined;
        const [a, b, c, d] = quad.map(Number) as [number, number, number, number];
        out.push((a << 8) | b, (c << 8) | d);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(piece)) {
        out.push(parseInt(piece, 16));
      } else {
        return undefined;
      }
    }
    return out;
  };
  const head = parse(halves[0]!, halves.length === 1);
  const tail = halves.length === 2 ? parse(halves[1]!, true) : [];
  if (!head || !tail) return undefined;
  if (halves.length === 1) return head.length === 8 ? head : undefined;
  const missing = 8 - head.length - tail.length;
  return missing >= 1 ? [...head, ...new Array<number>(missing).fill(0), ...tail] : undefined;
}

const ipv4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
const zero = (groups: number[], from: number, to: number) => groups.slice(from, to).every((g) => g === 0);

/** The IPv4 addresses an IPv6 address reaches through a transition mechanism, if it is one. */
export function embeddedIPv4(g: number[]): string[] {
  // IPv4-compatible ::a.b.c.d (deprecated, but stacks still route it) and IPv4-mapped ::ffff:a.b.c.d.
  if (zero(g, 0, 5) && (g[5] === 0 || g[5] === 0xffff)) return [ipv4(g[6]!, g[7]!)];
  // SIIT IPv4-translated ::ffff:0:a.b.c.d (RFC 2765).
  if (zero(g, 0, 4) && g[4] === 0xffff && g[5] === 0) return [ipv4(g[6]!, g[7]!)];
  // NAT64 well-known prefix 64:ff9b::/96 (RFC 6052).
  if (g[0] === 0x64 && g[1] === 0xff9b && zero(g, 2, 6)) return [ipv4(g[6]!, g[7]!)];
  // 6to4 2002:AABB:CCDD::/48 (RFC 3056).
  if (g[0] === 0x2002) return [ipv4(g[1]!, g[2]!)];
  // Teredo 2001:0:server:flags:port:client, the client's address and port stored inverted (RFC 4380).
  if (g[0] === 0x2001 && g[1] === 0) return [ipv4(g[2]!, g[3]!), ipv4(g[6]! ^ 0xffff, g[7]! ^ 0xffff)];
  return [];
}

/** True when the IP address is loopback, private, link-local or otherwise not a public destination. */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address.replace(/%.*$/, ""));
  if (family === 4) return blockedV4.check(address, "ipv4");
  if (family !== 6) return true;
  const groups = parseIPv6(address);
  if (!groups) return true;
  const canonical = groups.map((g) => g.toString(16)).join(":");
  if (blockedV6.check(canonical, "ipv6")) return true;
  return embeddedIPv4(groups).some((v4) => blockedV4.check(v4, "ipv4"));
}
