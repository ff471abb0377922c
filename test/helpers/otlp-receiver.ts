// A real OTLP/HTTP trace receiver on 127.0.0.1, as a collector would be: it takes POST /v1/traces in protobuf
// (decoded with protobufjs from the OpenTelemetry protos in test/otlp-proto/, not the exporter's own code) or in
// JSON, and keeps every span it got, flattened, with its resource's attributes.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import protobuf from "protobufjs";

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** "" for a root span. */
  parentSpanId: string;
  name: string;
  /** OTLP's SpanKind: 1 internal, 2 server, 3 client. */
  kind: number;
  attributes: Record<string, unknown>;
  /** OTLP's status code: 0 unset, 1 ok, 2 error. */
  status: number;
  resource: Record<string, unknown>;
  /** How the batch arrived. */
  encoding: "protobuf" | "json";
}

export interface OtlpReceiver {
  endpoint: string;
  spans(): ReceivedSpan[];
  /** Waits until the spans got so far satisfy `pred`, and answers them. */
  waitFor(pred: (spans: ReceivedSpan[]) => boolean, timeoutMs?: number): Promise<ReceivedSpan[]>;
  close(): Promise<void>;
}

const PROTOS = fileURLToPath(new URL("../otlp-proto/", import.meta.url));

async function requestType(): Promise<protobuf.Type> {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => (target.startsWith("opentelemetry/") ? PROTOS + target : target);
  await root.load("opentelemetry/proto/collector/trace/v1/trace_service.proto", { keepCase: false });
  return root.lookupType("opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest");
}

interface KeyValue {
  key: string;
  value?: { stringValue?: string; boolValue?: boolean; intValue?: number | string; doubleValue?: number };
}

function attributesOf(list: KeyValue[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of list ?? []) {
    const v = kv.value ?? {};
    out[kv.key] = v.stringValue ?? v.boolValue ?? (v.intValue !== undefined ? Number(v.intValue) : v.doubleValue);
  }
  return out;
}

interface Request {
  resourceSpans?: Array<{
    resource?: { attributes?: KeyValue[] };
    scopeSpans?: Array<{ spans?: Array<{ traceId: string; spanId: string; parentSpanId?: string; name: string; kind?: number | string; attributes?: KeyValue[]; status?: { code?: number | string } }> }>;
  }>;
}

const KINDS: Record<string, number> = { SPAN_KIND_INTERNAL: 1, SPAN_KIND_SERVER: 2, SPAN_KIND_CLIENT: 3 };
const STATUS: Record<string, number> = { STATUS_CODE_UNSET: 0, STATUS_CODE_OK: 1, STATUS_CODE_ERROR: 2 };

/** Spans of a request decoded either way: ids as lower-case hex (OTLP/JSON writes them so; protobufjs gives bytes as base64). */
function flatten(req: Request, encoding: ReceivedSpan["encoding"]): ReceivedSpan[] {
  const id = (raw: string | undefined) => (encoding === "json" ? (raw ?? "").toLowerCase() : Buffer.from(raw ?? "", "base64").toString("hex"));
  const out: ReceivedSpan[] = [];
  for (const rs of req.resourceSpans ?? []) {
    const resource = attributesOf(rs.resource?.attributes);
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        out.push({
          traceId: id(s.traceId),
          spanId: id(s.spanId),
          parentSpanId: id(s.parentSpanId),
          name: s.name,
          kind: typeof s.kind === "string" ? (KINDS[s.kind] ?? 0) : (s.kind ?? 0),
          attributes: attributesOf(s.attributes),
          status: typeof s.status?.code === "string" ? (STATUS[s.status.code] ?? 0) : (s.status?.code ?? 0),
          resource,
          encoding,
        });
      }
    }
  }
  return out;
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const type = await requestType();
  const got: ReceivedSpan[] = [];
  const waiters = new Set<() => void>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const contentType = req.headers["content-type"] ?? "";
      if (req.method !== "POST" || req.url !== "/v1/traces") {
        res.writeHead(404).end();
        return;
      }
      try {
        if (contentType.startsWith("application/x-protobuf")) {
          const decoded = type.toObject(type.decode(body), { longs: String, enums: Number, bytes: String, defaults: false }) as Request;
          got.push(...flatten(decoded, "protobuf"));
          // An empty ExportTraceServiceResponse: all accepted.
          res.writeHead(200, { "content-type": "application/x-protobuf" }).end();
        } else if (contentType.startsWith("application/json")) {
          got.push(...flatten(JSON.parse(body.toString("utf8")) as Request, "json"));
          res.writeHead(200, { "content-type": "application/json" }).end("{}");
        } else {
          res.writeHead(415).end();
          return;
        }
      } catch (err) {
        res.writeHead(400).end(String(err));
        return;
      }
      for (const w of waiters) w();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    spans: () => [...got],
    waitFor(pred, timeoutMs = 20_000) {
      return new Promise((resolveWait, reject) => {
        const check = () => {
          if (!pred(got)) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolveWait([...got]);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`OTLP receiver: condition not met in ${timeoutMs} ms; got ${got.length} spans: ${got.map((s) => s.name).join(", ")}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
