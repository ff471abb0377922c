// What Linux's /proc tells about a process: whether it still runs, its environment, its listening TCP sockets.
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { waitFor, WaitTimeoutError } from "./wait.js";

/** The embedded FerretDB's pid, from the pid file the server keeps in the data folder. */
export function ferretdbPid(dataDir: string): number {
  return Number(readFileSync(join(dataDir, "ferretdb", "ferretdb.pid"), "utf8").split("\n")[0]);
}

/** Gone, or exited and only waiting to be reaped (a zombie holds no files or sockets). */
export function isGone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return true;
  }
}

/** Whether the process is gone within ms. */
export function waitGone(pid: number, ms: number): Promise<boolean> {
  return waitFor(() => isGone(pid), { timeoutMs: ms, what: `process ${pid} gone` }).then(
    () => true,
    (err: unknown) => {
      if (err instanceof WaitTimeoutError) return false;
      throw err;
    },
  );
}

export function environment(pid: number): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of readFileSync(`/proc/${pid}/environ`, "utf8").split("\0")) {
    const eq = entry.indexOf("=");
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return env;
}

export function commandLine(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
}

/** Local addresses of the TCP sockets in LISTEN state that the process holds open. */
export function tcpListeners(pid: number): string[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // closed meanwhile
    }
  }
  const listening: string[] = [];
  for (const table of ["tcp", "tcp6"]) {
    let text = "";
    try {
      text = readFileSync(`/proc/${pid}/net/${table}`, "utf8");
    } catch {
      continue;
    }
    for (const line of text.trim().split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[3] === "0A" && inodes.has(f[9]!)) listening.push(f[1]!);
    }
  }
  return listening;
}
