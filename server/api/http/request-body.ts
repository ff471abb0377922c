// The request body on its way into Connect. Connect-ES reports a protobuf message it cannot decode as
// INTERNAL ("parse binary: …", createBinarySerialization in @connectrpc/connect/protocol/serialization.js)
// and decodes JSON with a lenient UTF-8 decoder. Here every request message is framed and decoded once
// before Connect sees it, so undecodable input is refused as INVALID_ARGUMENT, an oversized message as
// RESOURCE_EXHAUSTED before it is read, and Connect only ever parses messages known to decode. An error
// thrown from the body reaches the caller through Connect, in the caller's protocol.
import { fromBinary, fromJsonString, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Compression } from "@connectrpc/connect/protocol";

/** How a request body is laid out, from its content type. Undefined: Connect refuses it by itself. */
export interface BodyShape {
  /** Length-prefixed messages (gRPC, gRPC-Web, Connect streaming) rather than one bare message (Connect unary). */
  enveloped: boolean;
  json: boolean;
  /** The compression the caller named for its messages, if any. */
  encoding: string | undefined;
}

const GRPC = /^application\/grpc(?:-web)?(?:\+(?:(json)(?:; ?charset=utf-?8)?|proto))?$/i;
const CONNECT_STREAM = /^application\/connect\+(?:(json)(?:; ?charset=utf-?8)?|proto)$/i;
const CONNECT_UNARY = /^application\/(?:(json)(?:; ?charset=utf-?8)?|proto)$/i;

type HeaderGetter = (name: string) => string | undefined;

export function bodyShape(method: string, header: HeaderGetter): BodyShape | undefined {
  if (method !== "POST") return undefined;
  const ct = header("content-type") ?? "";
  let m: RegExpExecArray | null;
  if ((m = GRPC.exec(ct))) return { enveloped: true, json: m[1] !== undefined, encoding: header("grpc-encoding") };
  if ((m = CONNECT_STREAM.exec(ct))) return { enveloped: true, json: m[1] !== undefined, encoding: header("connect-content-encoding") };
  if ((m = CONNECT_UNARY.exec(ct))) return { enveloped: false, json: m[1] !== undefined, encoding: header("content-encoding") };
  return undefined;
}

export interface BodyCheck {
  shape: BodyShape;
  input: DescMessage;
  readMaxBytes: number;
  compressions: readonly Compression[];
  /** The request's content-length, when it sent one. */
  contentLength: number | undefined;
}

const COMPRESSED = 0b1;
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** Connect encodes only its own errors for the caller, so the body answers with those (codes as in errors.ts). */
function invalid(field: string, message: string): ConnectError {
  return new ConnectError(`${field}: ${message}`, Code.InvalidArgument);
}

export function tooLarge(limit: number, size?: number): ConnectError {
  const of = size === undefined ? "" : ` of ${size} bytes`;
  return new ConnectError(`request: the message${of} is larger than the limit of ${limit} bytes`, Code.ResourceExhausted);
}

export async function* checkedBody(body: AsyncIterable<Uint8Array>, check: BodyCheck): AsyncGenerator<Uint8Array> {
  if (!check.shape.enveloped) {
    yield await unaryMessage(body, check);
    return;
  }
  // Reassembled whole envelopes: the last bytes of a message are handed on only once it decodes.
  let pending: Uint8Array = new Uint8Array(0);
  for await (const chunk of body) {
    pending = pending.length === 0 ? chunk : concat(pending, chunk);
    while (pending.length >= 5) {
      const view = new DataView(pending.buffer, pending.byteOffset, pending.byteLength);
      const flags = view.getUint8(0);
      const length = view.getUint32(1);
      if (length > check.readMaxBytes) throw tooLarge(check.readMaxBytes, length);
      if (pending.length < 5 + length) break;
      const envelope = pending.subarray(0, 5 + length);
      pending = pending.subarray(5 + length);
      // Other flags (end of stream, trailers) are not messages: Connect judges them.
      if ((flags & ~COMPRESSED) === 0) {
        let data = envelope.subarray(5);
        if (flags & COMPRESSED) data = await decompress(data, check);
        decode(data, check);
      }
      yield envelope;
    }
  }
  // An incomplete envelope: Connect answers it as a protocol error.
  if (pending.length > 0) yield pending;
}

async function unaryMessage(body: AsyncIterable<Uint8Array>, check: BodyCheck): Promise<Uint8Array> {
  if (check.contentLength !== undefined && check.contentLength > check.readMaxBytes) throw tooLarge(check.readMaxBytes, check.contentLength);
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += chunk.length;
    if (total > check.readMaxBytes) throw tooLarge(check.readMaxBytes);
    chunks.push(chunk);
  }
  const bytes = chunks.length === 1 ? chunks[0]! : concat(...chunks);
  decode(check.shape.encoding && check.shape.encoding !== "identity" ? await decompress(bytes, check) : bytes, check);
  return bytes;
}

async function decompress(data: Uint8Array, check: BodyCheck): Promise<Uint8Array> {
  const name = check.shape.encoding;
  if (!name || name === "identity") throw invalid("request", "the message is marked compressed but the call names no compression");
  const compression = check.compressions.find((c) => c.name === name);
  if (!compression) throw new ConnectError(`request: compression "${name}" is not supported`, Code.Unimplemented);
  try {
    return await compression.decompress(data, check.readMaxBytes);
  } catch (err) {
    if (err instanceof ConnectError && err.code === Code.ResourceExhausted) throw tooLarge(check.readMaxBytes);
    throw invalid("request", `the message cannot be decompressed with ${name}`);
  }
}

/** A request message decoded as Connect reads it (unknown JSON fields ignored), but refusing invalid UTF-8; throws protobuf-es's errors. */
export function parseRequestMessage<Desc extends DescMessage>(input: Desc, data: Uint8Array, json: boolean): MessageShape<Desc> {
  return json ? fromJsonString(input, strictUtf8.decode(data), { ignoreUnknownFields: true }) : fromBinary(input, data);
}

function decode(data: Uint8Array, check: BodyCheck): void {
  try {
    parseRequestMessage(check.input, data, check.shape.json);
  } catch (err) {
    throw decodeError(err, check.shape.json);
  }
}

/** protobuf-es's reason, named by the field it is about when it says which (JSON), else by "request". */
function decodeError(err: unknown, json: boolean): ConnectError {
  const message = err instanceof Error ? err.message : String(err);
  // TextDecoder's words for invalid UTF-8, in a string field (binary) or anywhere in the text (JSON).
  if (err instanceof TypeError && /encoded data was not valid/i.test(message)) {
    return invalid("request", json ? "the JSON is not valid UTF-8" : "a string field holds invalid UTF-8");
  }
  if (!json) return invalid("request", `not a valid protobuf message: ${message}`);
  const field = /^cannot decode field [\w.]*?\.(\w+) from JSON: (.*)$/s.exec(message);
  if (field) return invalid(snakeCase(field[1]!), field[2]!);
  return invalid("request", `not a valid JSON message: ${message.replace(/^cannot decode [\w. ]+ from JSON: /, "")}`);
}

const snakeCase = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
