// grpc.health.v1.Health: SERVING only while MongoDB answers, so probes take a server without its store out of rotation.
import type { ServiceImpl } from "@connectrpc/connect";
import { Code, ConnectError } from "@connectrpc/connect";
import { Health, HealthCheckResponse_ServingStatus as Status } from "../gen/grpc/health/v1/health_pb.js";

const CACHE_MS = 1000;
const WATCH_EVERY_MS = 2000;

export function healthService(ping: () => Promise<boolean>, services: string[], signalStop: AbortSignal): ServiceImpl<typeof Health> {
  let last: { at: number; ok: Promise<boolean> } | undefined;
  // One ping a second at most, however many probes ask.
  const storeOk = () => {
    if (!last || Date.now() - last.at > CACHE_MS) last = { at: Date.now(), ok: ping() };
    return last.ok;
  };
  const known = new Set(["", ...services]);
  const status = async (service: string) => (!known.has(service) ? Status.SERVICE_UNKNOWN : (await storeOk()) ? Status.SERVING : Status.NOT_SERVING);
  return {
    async check(req) {
      if (!known.has(req.service)) throw new ConnectError(`service "${req.service}" is not served here`, Code.NotFound);
      return { status: await status(req.service) };
    },
    // Ends (OK) when the caller leaves, the server stops, or the front door ends the stream's lifetime
    // (api/http/public-streams.ts): all of them abort the signal, so the wait between looks follows it.
    async *watch(req, ctx) {
      const signal = AbortSignal.any([ctx.signal, signalStop]);
      let previous: Status | undefined;
      while (!signal.aborted) {
        const now = await status(req.service);
        if (signal.aborted) return;
        if (now !== previous) yield { status: now };
        previous = now;
        await sleep(WATCH_EVERY_MS, signal);
      }
    },
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
