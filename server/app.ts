// Wires config, store and RPC handlers into a listening server.
import { connectNodeAdapter } from "@connectrpc/connect-node";
import type { ApiKey, Config } from "./config.js";
import { withSpecGrpcMessage } from "./grpc-message.js";
import { listen, type DualHandler } from "./listener.js";
import type { Logger } from "./log.js";
import { authInterceptor, errorInterceptor } from "./rpc/interceptors.js";
import { webhookService } from "./rpc/webhook-service.js";
import { WebhookService } from "../sdk/gen/hookwire/v1/webhook_service_pb.js";
import { openStore } from "./store/mongo.js";

export interface Hookwire {
  port: number;
  close(): Promise<void>;
}

export interface AppOptions {
  config: Config;
  mongodbUri: string;
  apiKeys: ApiKey[];
  log: Logger;
}

/** Room for the protobuf framing and the other fields around the largest accepted payload. */
const REQUEST_OVERHEAD_BYTES = 64 * 1024;

export async function startHookwire({ config, mongodbUri, apiKeys, log }: AppOptions): Promise<Hookwire> {
  const store = await openStore(mongodbUri, config.database, log);
  const handler = connectNodeAdapter({
    readMaxBytes: config.maxPayloadBytes + REQUEST_OVERHEAD_BYTES,
    // Order matters: errors thrown by the auth check are mapped too.
    interceptors: [errorInterceptor(log), authInterceptor(apiKeys)],
    routes(router) {
      router.service(WebhookService, webhookService({ store: store.subscriptions, allowPrivateUrls: config.allowPrivateUrls }));
    },
  });
  const listener = await listen(withSpecGrpcMessage(handler as DualHandler), config.host, config.port);
  log.info("hookwire listening", { host: config.host, port: listener.port, protocols: ["grpc", "connect", "grpc-web"] });
  return {
    port: listener.port,
    async close() {
      await listener.close(5000);
      await store.close();
    },
  };
}
