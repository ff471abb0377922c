// Waiting in tests: for something to happen, by looking until it has (waitFor), and, only where the passing
// time is itself what a test checks, for time to pass (sleep).

export interface WaitOptions {
  /** Give up after this long (default 10 s). */
  timeoutMs?: number;
  /** Time between looks (default 50 ms). */
  intervalMs?: number;
  /** What is waited for, said in the error at the deadline; a function is called then, so it can tell the last state it saw. */
  what?: string | (() => string);
}

type Ready<T> = Exclude<T, undefined | null | false>;

/** What waitFor throws when its deadline passes (an error thrown by the check itself is thrown as it is). */
export class WaitTimeoutError extends Error {
  override name = "WaitTimeoutError";
}

/**
 * Looks at `check` until it answers something other than undefined, null or false, and answers that. At the
 * deadline it throws, saying what it waited for. An error thrown by `check` ends the wait at once.
 */
export async function waitFor<T>(check: () => T | Promise<T>, opts: WaitOptions = {}): Promise<Ready<T>> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const intervalMs = opts.intervalMs ?? 50;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== null && value !== false) return value as Ready<T>;
    if (Date.now() >= deadline) {
      const what = typeof opts.what === "function" ? opts.what() : (opts.what ?? "the condition");
      throw new WaitTimeoutError(`waitFor: ${what}: not so within ${timeoutMs} ms`);
    }
    await new Promise((r) => setTimeout(r, Math.min(intervalMs, Math.max(0, deadline - Date.now()))));
  }
}

/**
 * Lets `ms` pass. Only for waits whose length is the point: nothing may happen within it (a negative check), a
 * hold, cache or rate window must run out, a slow party is simulated. Never to wait for something to happen:
 * that is waitFor, or the event itself. Each call says why it sleeps.
 */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
