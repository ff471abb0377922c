// Who holds work in the store, and which holders are provably dead processes of this host, whose holds a
// starting process releases at once (store/common/holds.ts: the one place that judges it).
import { spawn } from "node:child_process";
import { hostname } from "node:os";
import { describe, expect, it } from "vitest";
import { deadLocalHolder, newHolder, parseHolder, pidAlive, type HostView } from "../../server/store/common/holds.js";

const host = (alive: number[] = []): HostView => ({ hostname: "web-1", pid: 4242, alive: (pid) => alive.includes(pid) });
const OWN = "web-1:4242:00c0ffee";

describe("parseHolder", () => {
  it("splits newHolder's form, the hostname being whatever precedes pid and random part", () => {
    expect(parseHolder("web-1:77:deadbeef")).toEqual({ hostname: "web-1", pid: 77, random: "deadbeef" });
    expect(parseHolder("ip-10-0-0-7.eu-west-1.compute.internal:1:0a")).toEqual({ hostname: "ip-10-0-0-7.eu-west-1.compute.internal", pid: 1, random: "0a" });
    expect(parseHolder("odd:host:9:ab")).toEqual({ hostname: "odd:host", pid: 9, random: "ab" });
    expect(parseHolder(newHolder())).toMatchObject({ hostname: hostname(), pid: process.pid });
  });

  it("refuses what newHolder never writes", () => {
    for (const bad of [
      "",
      "memory:ab12cd34", // the memory store's holders
      "web-1:77", // no random part
      ":77:ab", // empty hostname
      "web-1::ab",
      "web-1:0:ab", // pid 0 (and below) names process groups to kill()
      "web-1:-5:ab",
      "web-1:077:ab",
      "web-1:7.5:ab",
      "web-1:99999999999:ab",
      "web-1:77:",
      "web-1:77:XYZ",
      "web-1:77:ab ",
      " web-1:77:ab\n",
    ]) {
      expect(parseHolder(bad), bad).toBeUndefined();
    }
  });
});

describe("deadLocalHolder", () => {
  it("a holder of this host whose pid no process has is dead", () => {
    expect(deadLocalHolder("web-1:77:deadbeef", OWN, host())).toBe(true);
  });

  it("a holder of this host with a live pid is not", () => {
    expect(deadLocalHolder("web-1:77:deadbeef", OWN, host([77]))).toBe(false);
  });

  it("a holder with this process's pid that is not this process's own is dead (a restarted container got the pid again)", () => {
    expect(deadLocalHolder("web-1:4242:deadbeef", OWN, host([4242]))).toBe(true);
  });

  it("this process's own holder never is", () => {
    expect(deadLocalHolder(OWN, OWN, host())).toBe(false);
  });

  it("another host's holder never is, whatever its pid, hostnames compared whole", () => {
    expect(deadLocalHolder("web-2:77:deadbeef", OWN, host())).toBe(false);
    expect(deadLocalHolder("web-10:77:deadbeef", OWN, host())).toBe(false);
    expect(deadLocalHolder("WEB-1:77:deadbeef", OWN, host())).toBe(false);
    expect(deadLocalHolder("web-2:4242:deadbeef", OWN, host())).toBe(false);
  });

  it("a malformed holder never is", () => {
    for (const bad of ["", "web-1", "web-1:77", "web-1:0:ab", "web-1:-1:ab", "web-1:abc:ab", "memory:ab12cd34", "web-1:77:ab:"]) {
      expect(deadLocalHolder(bad, OWN, host()), bad).toBe(false);
    }
  });

  it("on the real host: this process is alive, a child that exited is dead, another's holder here is judged by its pid", async () => {
    expect(pidAlive(process.pid)).toBe(true);
    const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
    const pid = child.pid!;
    await new Promise((r) => child.once("exit", r)); // reaped by node once exit is told
    expect(pidAlive(pid)).toBe(false);
    const own = newHolder();
    expect(deadLocalHolder(`${hostname()}:${pid}:ab`, own)).toBe(true);
    expect(deadLocalHolder(`${hostname()}:${process.ppid}:ab`, own)).toBe(false);
    expect(deadLocalHolder(`${hostname()}:${process.pid}:ab`, own)).toBe(true);
    expect(deadLocalHolder(own, own)).toBe(false);
    expect(deadLocalHolder(`not-${hostname()}:${pid}:ab`, own)).toBe(false);
  });

  it("a pid another user's process has (EPERM) counts as alive", () => {
    // pid 1 exists always; whether we may signal it depends on who we are: alive either way.
    expect(pidAlive(1)).toBe(true);
  });
});
