// A delivery as the FerretDB layout stores it, apart from the collections' code so that the packing of
// batches (packed.ts) and the message documents (messages.ts) can name it without importing deliveries.ts.
import type { Delivery } from "../../ports.js";

/** A delivery as stored: with the fields that let a process hold its row and others take it over. */
export interface DeliveryDoc extends Delivery {
  /** Process that holds the delivery until leaseUntil; an expired lease lets any process take it. */
  leaseOwner: string;
  leaseUntil: Date;
  /** Set by a claim, to read back what the claim won. */
  claimToken?: string;
}

export const UNLEASED = new Date(0);
