// Calls to Hookwire over the Connect protocol, from the browser, with fetch alone.
// Unary: a JSON POST to /hookwire.v1.WebhookService/<Method>; an error answers a non-2xx status with
// {"code", "message"}. Server streams: the request and each answer are enveloped (a flags byte, a big-endian
// 32-bit length, then the JSON); the last frame has flag 0x02 and carries {"error"?, "metadata"?}.

const SERVICE = "/hookwire.v1.WebhookService/";

/**
 * What the shared views (deliveries.js, recover.js) need of the page that shows them: a unary call with the page's
 * credential (the console's key, the portal's session token), and a way to tell the user something.
 * @typedef {{ call: (method: string, req: object, signal?: AbortSignal) => Promise<any>, notify: (text: string) => void }} Api
 */
const FLAG_COMPRESSED = 0x01;
const FLAG_END_STREAM = 0x02;

/** A call's failure: a Connect code ("unauthenticated", "not_found", …, or "unavailable" for the network). */
export class RpcError extends Error {
  /** @param {string} code @param {string} message */
  constructor(code, message) {
    super(message);
    this.name = "RpcError";
    this.code = code;
  }
}

/** Connect's code for an HTTP status when the body names none (a proxy's answer, say). */
function codeOfStatus(/** @type {number} */ status) {
  return ({ 400: "invalid_argument", 401: "unauthenticated", 403: "permission_denied", 404: "unimplemented", 429: "unavailable", 502: "unavailable", 503: "unavailable", 504: "unavailable" })[status] ?? "unknown";
}

/** @param {unknown} json @param {string} fallbackCode @param {string} fallbackMessage */
function errorFrom(json, fallbackCode, fallbackMessage) {
  const e = /** @type {{code?: unknown, message?: unknown}} */ (json && typeof json === "object" ? json : {});
  return new RpcError(typeof e.code === "string" ? e.code : fallbackCode, typeof e.message === "string" ? e.message : fallbackMessage);
}

/** @param {string} key @param {string} contentType */
function headers(key, contentType) {
  return { "content-type": contentType, "connect-protocol-version": "1", authorization: `Bearer ${key}` };
}

/** fetch, with the network's failure as an RpcError. @param {string} url @param {RequestInit} init */
async function send(url, init) {
  try {
    return await fetch(url, init);
  } catch (err) {
    if (init.signal?.aborted) throw err;
    throw new RpcError("unavailable", `cannot reach the server (${err instanceof Error ? err.message : String(err)})`);
  }
}

/**
 * One unary call; answers the response message as protobuf JSON (lowerCamel names, int64 as strings, enums by name).
 * @param {string} key @param {string} method @param {object} request @param {AbortSignal} [signal]
 * @returns {Promise<any>}
 */
export async function call(key, method, request, signal) {
  const res = await send(SERVICE + method, { method: "POST", headers: headers(key, "application/json"), body: JSON.stringify(request), signal });
  const text = await res.text();
  let json;
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    json = undefined;
  }
  if (!res.ok) throw errorFrom(json, codeOfStatus(res.status), `HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ""}`);
  if (json === undefined) throw new RpcError("internal", "the server's answer is not JSON");
  return json;
}

/** @param {object} message */
export function envelope(message, flags = 0) {
  const data = new TextEncoder().encode(JSON.stringify(message));
  const out = new Uint8Array(5 + data.length);
  out[0] = flags;
  new DataView(out.buffer).setUint32(1, data.length);
  out.set(data, 5);
  return out;
}

/**
 * Splits a byte stream into Connect envelopes, however the network cut it.
 * @param {ReadableStreamDefaultReader<Uint8Array>} reader
 * @returns {AsyncGenerator<{flags: number, data: Uint8Array}>}
 */
export async function* frames(reader) {
  let buf = new Uint8Array(0);
  for (;;) {
    while (buf.length >= 5) {
      const len = new DataView(buf.buffer, buf.byteOffset, 5).getUint32(1);
      if (buf.length < 5 + len) break;
      yield { flags: /** @type {number} */ (buf[0]), data: buf.slice(5, 5 + len) };
      buf = buf.slice(5 + len);
    }
    const { done, value } = await reader.read();
    if (done) {
      if (buf.length) throw new RpcError("data_loss", "the stream ended inside a message");
      return;
    }
    const next = new Uint8Array(buf.length + value.length);
    next.set(buf);
    next.set(value, buf.length);
    buf = next;
  }
}

/**
 * A server-streaming call: onOpen once the server has answered (the stream is then established), each message
 * as it arrives; resolves when the server ends the stream, rejects with its error.
 * @param {string} key @param {string} method @param {object} request
 * @param {{signal: AbortSignal, onOpen?: () => void, onMessage: (m: any) => void}} opts
 */
export async function stream(key, method, request, { signal, onOpen, onMessage }) {
  const res = await send(SERVICE + method, { method: "POST", headers: headers(key, "application/connect+json"), body: envelope(request), signal });
  if (!res.ok || !res.body) {
    const text = await res.text().catch(() => "");
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    throw errorFrom(json, codeOfStatus(res.status), `HTTP ${res.status}`);
  }
  onOpen?.();
  const reader = res.body.getReader();
  const stop = () => void reader.cancel().catch(() => undefined);
  signal.addEventListener("abort", stop, { once: true });
  const decoder = new TextDecoder();
  try {
    for await (const { flags, data } of frames(reader)) {
      if (flags & FLAG_COMPRESSED) throw new RpcError("internal", "the server sent a compressed message, which was not asked for");
      const json = JSON.parse(decoder.decode(data));
      if (flags & FLAG_END_STREAM) {
        if (json && json.error) throw errorFrom(json.error, "unknown", "the stream ended with an error");
        return;
      }
      onMessage(json);
    }
    if (!signal.aborted) throw new RpcError("unavailable", "the stream ended without its end frame (connection lost)");
  } finally {
    signal.removeEventListener("abort", stop);
  }
}
