// Tells who waits about delivery states once they are stored: WatchDeliveries streams see every
// state, Send callers their delivery's final one.
import type { Delivery } from "../ports.js";

export type Listener = (doc: Delivery) => void;

/**
 * Other processes' watchers (server/cluster/): told whether this process has watchers at all, and, while some
 * other process has, given this process's announcements to pass on.
 */
export interface NotifierRelay {
  watching(any: boolean): void;
  /** Set while another process watches: each announcement made here (not one relayed here) goes to it too. */
  forward?: ((doc: Delivery) => void) | undefined;
}

export class Notifier {
  private readonly listeners = new Set<Listener>();
  private readonly finishWaiters = new Map<string, Array<(doc: Delivery) => void>>();
  private relay: NotifierRelay | undefined;

  watch(listener: Listener): () => void {
    this.listeners.add(listener);
    if (this.listeners.size === 1) this.relay?.watching(true);
    return () => {
      if (this.listeners.delete(listener) && this.listeners.size === 0) this.relay?.watching(false);
    };
  }

  /** Connects the relay; it hears at once whether anyone watches here. */
  relayTo(relay: NotifierRelay): void {
    this.relay = relay;
    relay.watching(this.listeners.size > 0);
  }

  /** A state another process announced: for the watchers here (and a Send waiting here), not passed on again. */
  relayed(doc: Delivery): void {
    this.tell(doc);
  }

  /** Resolves with the delivery once a final state of it is announced (or rejects when the signal aborts). */
  finished(id: string, signal?: AbortSignal): Promise<Delivery> {
    return new Promise((resolveDone, reject) => {
      const list = this.finishWaiters.get(id) ?? [];
      const done = (doc: Delivery) => {
        signal?.removeEventListener("abort", onAbort);
        resolveDone(doc);
      };
      const onAbort = () => {
        const l = this.finishWaiters.get(id);
        if (l) l.splice(l.indexOf(done), 1);
        reject(signal?.reason ?? new Error("aborted"));
      };
      list.push(done);
      this.finishWaiters.set(id, list);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  announce(doc: Delivery): void {
    this.relay?.forward?.(doc);
    this.tell(doc);
  }

  private tell(doc: Delivery): void {
    for (const l of this.listeners) l(doc);
    if (doc.status === "pending") return;
    const waiters = this.finishWaiters.get(doc._id);
    if (!waiters) return;
    this.finishWaiters.delete(doc._id);
    for (const w of waiters) w(doc);
  }
}
