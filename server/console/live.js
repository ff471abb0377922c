// One WatchDeliveries stream for the whole console, opened at sign-in: the tail shows it, and the message and
// subscription pages refresh when an outcome of theirs arrives. A dropped stream is opened again with a
// growing pause; outcomes made while it was down are in the log (ListDeliveries), not replayed here. (The portal
// holds one too, for its session's owner.)
import { RpcError, stream } from "./rpc.js";

const KEEP = 200;
const MAX_PAUSE_MS = 30_000;

/** @typedef {"connecting" | "live" | "reconnecting" | "stopped"} LiveState */

export class LiveDeliveries {
  /** @param {(err: RpcError) => void} onRefused called when the key is refused (the console signs out) */
  constructor(onRefused) {
    this.onRefused = onRefused;
    /** @type {any[]} newest first */
    this.recent = [];
    /** @type {LiveState} */
    this.state = "stopped";
    this.detail = "";
    /** @type {Set<(d: any) => void>} */
    this.listeners = new Set();
    /** @type {Set<() => void>} */
    this.stateListeners = new Set();
    /** @type {AbortController | undefined} */
    this.abort = undefined;
    /** The key the stream runs with, while it runs. */
    this.key = "";
    // A page the browser keeps in its back/forward cache keeps its open fetches too: the stream would hold one of
    // the few connections a browser opens to one host (6 over HTTP/1.1) for as long as the page is kept, and a
    // few such pages leave the next page waiting. So the stream ends when the page is hidden that way, and opens
    // again if the page is shown again.
    let resume = "";
    addEventListener("pagehide", (e) => {
      if (!e.persisted || !this.abort) return;
      resume = this.key;
      this.stop();
    });
    addEventListener("pageshow", (e) => {
      if (!e.persisted || !resume) return;
      this.start(resume);
      resume = "";
    });
  }

  /** @param {string} key */
  start(key) {
    this.stop();
    this.key = key;
    const abort = (this.abort = new AbortController());
    void this.run(key, abort.signal);
  }

  stop() {
    this.abort?.abort();
    this.abort = undefined;
    this.key = "";
    this.recent = [];
    this.setState("stopped", "");
  }

  /** @param {(d: any) => void} fn @returns {() => void} */
  onDelivery(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** @param {() => void} fn @returns {() => void} */
  onState(fn) {
    this.stateListeners.add(fn);
    return () => this.stateListeners.delete(fn);
  }

  /** @param {LiveState} state @param {string} detail */
  setState(state, detail) {
    this.state = state;
    this.detail = detail;
    for (const fn of this.stateListeners) fn();
  }

  /** @param {string} key @param {AbortSignal} signal */
  async run(key, signal) {
    let pause = 1000;
    while (!signal.aborted) {
      this.setState(this.state === "reconnecting" ? "reconnecting" : "connecting", this.detail);
      try {
        await stream(key, "WatchDeliveries", {}, {
          signal,
          // The server sends its headers once the watch is registered: from here no outcome is missed.
          onOpen: () => {
            pause = 1000;
            this.setState("live", "");
          },
          onMessage: (m) => {
            if (!m.delivery) return;
            this.recent.unshift(m.delivery);
            this.recent.length = Math.min(this.recent.length, KEEP);
            for (const fn of this.listeners) fn(m.delivery);
          },
        });
        if (signal.aborted) return;
        this.setState("reconnecting", "the server ended the stream");
      } catch (err) {
        if (signal.aborted) return;
        if (err instanceof RpcError && err.code === "unauthenticated") {
          this.setState("stopped", err.message);
          this.onRefused(err);
          return;
        }
        this.setState("reconnecting", err instanceof Error ? err.message : String(err));
      }
      await new Promise((r) => setTimeout(r, pause));
      pause = Math.min(pause * 2, MAX_PAUSE_MS);
    }
  }
}
