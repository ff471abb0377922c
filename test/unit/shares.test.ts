// The hold shares on their own (pure): who fits, whom a full tenant parks to make room, what takes skip.
import { expect, it } from "vitest";
import { Shares, type Shared } from "../../server/engine/shares.js";

const item = (tenant: string, sub: string, running = false): Shared => ({ tenant, endpoint: `${tenant}\n${sub}`, subscriptionId: sub, running });

function fill(shares: Shares<Shared>, tenant: string, sub: string, n: number): Shared[] {
  const items: Shared[] = [];
  for (let i = 0; i < n; i++) {
    const a = shares.admit(tenant, `${tenant}\n${sub}`);
    if (!a.fits) break;
    const it = item(tenant, sub);
    shares.add(it);
    items.push(it);
  }
  return items;
}

it("an endpoint holds at most its limit; other endpoints and tenants keep theirs", () => {
  const shares = new Shares<Shared>({ maxHeldPerEndpoint: 10, maxHeldPerTenant: 100 }, 1000);
  expect(fill(shares, "b", "dead", 50)).toHaveLength(10);
  expect(shares.admit("b", "b\nlive")).toEqual({ fits: true, evict: undefined });
  expect(shares.admit("a", "a\nlive")).toEqual({ fits: true, evict: undefined });
});

it("a full tenant makes room for an endpoint under its equal part by parking one not started of its largest endpoint", () => {
  const shares = new Shares<Shared>({ maxHeldPerEndpoint: 100, maxHeldPerTenant: 100 }, 1000);
  const dead = fill(shares, "b", "dead", 100);
  expect(dead).toHaveLength(100);
  for (const d of dead.slice(0, 32)) d.running = true; // in flight: cannot be parked
  const a = shares.admit("b", "b\nlive");
  expect(a.fits && a.evict).toBe(dead[32]);
  // Two endpoints: the equal part is 50. The live one gets room until both hold 50.
  shares.remove(dead[32]!);
  shares.add(item("b", "live"));
  let live = 1;
  for (;;) {
    const next = shares.admit("b", "b\nlive");
    if (!next.fits) break;
    shares.remove(next.evict!);
    shares.add(item("b", "live"));
    live++;
  }
  expect(live).toBe(50);
  // Another tenant is untouched by b's being full.
  expect(shares.admit("a", "a\nx")).toEqual({ fits: true, evict: undefined });
});

it("a full tenant whose endpoints are all in flight parks the newcomer instead", () => {
  const shares = new Shares<Shared>({ maxHeldPerEndpoint: 100, maxHeldPerTenant: 4 }, 1000);
  for (const d of fill(shares, "b", "dead", 4)) d.running = true;
  expect(shares.admit("b", "b\nlive")).toEqual({ fits: false });
});

it("takes skip the subscriptions near their endpoint's limit, and in a full tenant those at their equal part", () => {
  const shares = new Shares<Shared>({ maxHeldPerEndpoint: 40, maxHeldPerTenant: 60 }, 1000);
  fill(shares, "a", "near", 35); // past 40 - 40/4
  fill(shares, "a", "small", 5);
  expect(shares.skip()).toEqual(["near"]);
  fill(shares, "b", "x", 30);
  fill(shares, "b", "y", 25); // b holds 55 of 60: full within its margin, equal part 30
  expect(shares.skip().sort()).toEqual(["near", "x"]);
  // A Send's endpoint (no subscription) is never named: the store cannot tell its origin.
  const send = new Shares<Shared>({ maxHeldPerEndpoint: 1, maxHeldPerTenant: 10 }, 1000);
  send.add(item("a", ""));
  expect(send.skip()).toEqual([]);
});

it("a take's picker wants no more of an endpoint than its room, counting what the take already picked", () => {
  const shares = new Shares<Shared>({ maxHeldPerEndpoint: 10, maxHeldPerTenant: 100 }, 1000);
  fill(shares, "a", "busy", 7);
  const wants = shares.picker();
  const picks = (tenant: string, sub: string, n: number) => Array.from({ length: n }, () => wants(tenant, `${tenant}\n${sub}`)).filter(Boolean).length;
  expect(picks("a", "busy", 20)).toBe(3); // 7 held + 3 picked = its limit
  expect(picks("a", "idle", 20)).toBe(10);
  expect(picks("b", "other", 20)).toBe(10); // another tenant's endpoint: its own room
  // A new take starts its count afresh from what is held.
  expect(shares.picker()("a", "a\nbusy")).toBe(true);
});

it("a take's picker stops at a full tenant's share, except for an endpoint under its equal part", () => {
  const shares = new Shares<Shared>({ maxHeldPerEndpoint: 100, maxHeldPerTenant: 60 }, 1000);
  fill(shares, "b", "dead", 50);
  const wants = shares.picker();
  let live = 0;
  while (live < 100 && wants("b", "b\nlive")) live++;
  // 10 fill the tenant's share; beyond it, up to an equal part of 60 among two endpoints (30), made room for by parking.
  expect(live).toBe(30);
  expect(wants("b", "b\ndead")).toBe(false); // the full tenant's largest endpoint gets nothing more
});
