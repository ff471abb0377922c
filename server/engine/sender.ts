// The engine's one way out to subscribers: a port, so that the worker and the engine see what an attempt
// needs, not how it is sent (http-sender.ts is the one implementation: undici, the address rules).

/** What one attempt got back. */
export interface AttemptResult {
  at: Date;
  durationMs: number;
  /** 0 when no response arrived. */
  statusCode: number;
  excerpt: string;
  error: string;
  retryAfter: string | undefined;
  /** Cut off by the caller's signal (shutdown), not by the receiver or the timeout. */
  interrupted: boolean;
}

export interface Sender {
  /** POSTs the body with the headers; settles by `timeoutMs` at the latest, or when `signal` aborts (interrupted). */
  send(url: string, headers: Record<string, string>, body: string, timeoutMs: number, signal?: AbortSignal): Promise<AttemptResult>;
  /** Closes every connection at once, requests in flight included. */
  destroy(): Promise<void>;
}
