// Connect-ES percent-encodes every reserved character of grpc-message (encodeURIComponent), while the gRPC
// spec encodes only bytes outside 0x20-0x7E and '%'. Clients that decode with decodeURI (grpc-js among them)
// then show "url%3A …" instead of "url: …". This re-encodes the header the way the spec writes it.
import type { DualHandler } from "./listener.js";

type Headers = Record<string, string | string[] | number | undefined>;

export function encodeGrpcMessage(message: string): string {
  let out = "";
  for (const b of Buffer.from(message, "utf8")) {
    out += b >= 0x20 && b <= 0x7e && b !== 0x25 ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

function respecify(headers: unknown): void {
  if (!headers || typeof headers !== "object") return;
  const h = headers as Headers;
  const v = h["grpc-message"];
  if (typeof v !== "string") return;
  try {
    h["grpc-message"] = encodeGrpcMessage(decodeURIComponent(v));
  } catch {
    // not percent-encoded by Connect after all: leave it as it is
  }
}

export function withSpecGrpcMessage(handler: DualHandler): DualHandler {
  return (req, res) => {
    const ct = req.headers["content-type"];
    if (typeof ct === "string" && ct.startsWith("application/grpc") && !ct.startsWith("application/grpc-web")) {
      const r = res as unknown as {
        writeHead: (status: number, headers?: unknown) => unknown;
        addTrailers: (headers: unknown) => unknown;
      };
      const writeHead = r.writeHead.bind(r);
      const addTrailers = r.addTrailers.bind(r);
      r.writeHead = (status, headers) => (respecify(headers), writeHead(status, headers));
      r.addTrailers = (headers) => (respecify(headers), addTrailers(headers));
    }
    handler(req, res);
  };
}
