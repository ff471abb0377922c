import { Code, ConnectError } from "@connectrpc/connect";
import type { Delivery, DeliveryAttempt } from "./gen/hookwire/v1/delivery_pb.js";

export { Code };

/** Every failure the SDK reports: a gRPC status code and Hookwire's message (which names the field for bad input). */
export class HookwireError extends Error {
  override name = "HookwireError";
  constructor(
    readonly code: Code,
    message: string,
    /** For a failed send: the delivery with every attempt. */
    readonly delivery?: Delivery,
  ) {
    super(message);
  }

  /** The gRPC name of the code, e.g. "INVALID_ARGUMENT". */
  get codeName(): string {
    return Code[this.code]!.replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase();
  }

  get attempts(): DeliveryAttempt[] {
    return this.delivery?.attempts ?? [];
  }

  static from(err: unknown): HookwireError {
    if (err instanceof HookwireError) return err;
    const ce = ConnectError.from(err);
    return new HookwireError(ce.code, ce.rawMessage);
  }
}
