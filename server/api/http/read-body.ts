// A request body read whole for the plain unary paths, without an async iterator per call. A body that
// grows past the limit stops being read: the chunks so far and the paused request go on to Connect,
// which refuses it in the caller's protocol.
import type { NodeReq } from "./unary-call.js";

export interface ReadBody {
  chunks: Buffer[];
  /** False when reading stopped at the limit; the rest is still in the (paused) request. */
  complete: boolean;
}

export function readBody(req: NodeReq, maxBytes: number): Promise<ReadBody> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    // The listeners are one object's methods: under tsx (esbuild's keepNames) every arrow function a variable
    // holds is wrapped in a __name call that redefines its name, per call; methods keep theirs without one.
    const on = {
      data(chunk: Buffer) {
        chunks.push(chunk);
        total += chunk.length;
        if (total > maxBytes) {
          req.pause();
          on.done(false);
        }
      },
      end() {
        on.done(true);
      },
      error(err: Error) {
        req.off("data", on.data);
        req.off("end", on.end);
        req.off("close", on.close);
        reject(err);
      },
      // A stream closed before its end (the caller reset it) never says "end".
      close() {
        on.error(new Error("the request was closed before its end"));
      },
      done(complete: boolean) {
        req.off("data", on.data);
        req.off("end", on.end);
        req.off("error", on.error);
        req.off("close", on.close);
        resolve({ chunks, complete });
      },
    };
    req.on("data", on.data);
    req.once("end", on.end);
    req.once("error", on.error);
    req.once("close", on.close);
  });
}

/** The body as Connect reads it: what was read, then the rest of the request. */
export async function* bodyAfter(read: ReadBody, req: NodeReq): AsyncGenerator<Uint8Array> {
  yield* read.chunks;
  if (!read.complete) yield* req as AsyncIterable<Uint8Array>;
}

export function joined(chunks: Buffer[]): Buffer {
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}
