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
    const done = (complete: boolean) => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      req.off("close", onClose);
      resolve({ chunks, complete });
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      total += chunk.length;
      if (total > maxBytes) {
        req.pause();
        done(false);
      }
    };
    const onEnd = () => done(true);
    const onError = (err: Error) => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("close", onClose);
      reject(err);
    };
    // A stream closed before its end (the caller reset it) never says "end".
    const onClose = () => onError(new Error("the request was closed before its end"));
    req.on("data", onData);
    req.once("end", onEnd);
    req.once("error", onError);
    req.once("close", onClose);
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
