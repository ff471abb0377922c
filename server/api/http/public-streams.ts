// Streams anyone may open without a key (grpc.health.v1.Health/Watch, server reflection) are bounded here, in
// number and in lifetime. Without a bound, watchers alone filled HOOKWIRE_MAX_CONNECTIONS (over HTTP/1.1 each
// holds a connection) and every caller was refused while they stayed open; an authenticated stream is its
// tenant's business (and quota), a public one is anyone's.
//
// At the end of its lifetime a stream's signal is aborted: the health watch then ends with OK, which the health
// protocol tells clients to answer by watching again (health.proto: "If the call terminates with any other status
// (including OK), clients should retry the call"); OK rather than UNAVAILABLE because nothing failed, and a
// scheduled end should not show as errors in the RPC metrics. A stream whose handler does not follow its signal
// (reflection, driven by the caller's messages) is closed by the front door shortly after.
import { Code, ConnectError } from "@connectrpc/connect";
import { StreamLifetimeOver } from "../context.js";

/** Streams that need no key: how many at once, and for how long each (HOOKWIRE_MAX_PUBLIC_STREAMS, HOOKWIRE_PUBLIC_STREAM_MAX_MS). */
export interface PublicStreamLimits {
  max: number;
  maxMs: number;
}

/** How long a public stream's handler has to end by itself once its lifetime is over, before it is closed. */
export const PUBLIC_STREAM_GRACE_MS = 1000;

/** A public stream let in: its lifetime's signal, and `release` for when it has ended (idempotent). */
export interface PublicStreamPass {
  signal: AbortSignal;
  release(): void;
}

export class PublicStreams {
  private open = 0;

  constructor(private readonly limits: PublicStreamLimits) {}

  get count(): number {
    return this.open;
  }

  /**
   * Lets one more public stream in, or throws RESOURCE_EXHAUSTED naming the setting. `onOverdue` runs when the
   * stream is still open PUBLIC_STREAM_GRACE_MS after its lifetime: the caller closes it then.
   */
  admit(onOverdue: () => void): PublicStreamPass {
    if (this.open >= this.limits.max) {
      throw new ConnectError(
        `HOOKWIRE_MAX_PUBLIC_STREAMS: ${this.limits.max} streams without a key (health Watch, reflection) are open; try again later`,
        Code.ResourceExhausted,
      );
    }
    this.open++;
    const lifetime = new AbortController();
    let overdue: NodeJS.Timeout | undefined;
    const expiry = setTimeout(() => {
      lifetime.abort(new StreamLifetimeOver(`the stream reached its lifetime of ${this.limits.maxMs} ms (HOOKWIRE_PUBLIC_STREAM_MAX_MS)`));
      overdue = setTimeout(onOverdue, PUBLIC_STREAM_GRACE_MS).unref();
    }, this.limits.maxMs).unref();
    let released = false;
    return {
      signal: lifetime.signal,
      release: () => {
        if (released) return;
        released = true;
        this.open--;
        clearTimeout(expiry);
        clearTimeout(overdue);
      },
    };
  }
}
