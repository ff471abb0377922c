// Tells who waits about delivery states once they are stored: WatchDeliveries streams see every
// state, Send callers their delivery's final one.
import type { Delivery } from "../ports.js";

export type Listener = (doc: Delivery) => void;

export class Notifier {
  private readonly listeners = new Set<Listener>();
  private readonly finishWaiters = new Map<string, Array<(doc: Delivery) => void>>();

  watch(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
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
    for (const l of this.listeners) l(doc);
    if (doc.status === "pending") return;
    const waiters = this.finishWaiters.get(doc._id);
    if (!waiters) return;
    this.finishWaiters.delete(doc._id);
    for (const w of waiters) w(doc);
  }
}
