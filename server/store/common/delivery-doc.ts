// A delivery as both layouts store it: the port's Delivery with the fields that say who holds it. Apart
// from the layouts' code so that the FerretDB layout's packing (ferret/packed.ts) and the message
// documents (messages.ts) can name it without importing a layout's collections.
import type { Delivery } from "../../ports.js";

/** Who holds a stored delivery (or a FerretDB lot) and until when; a hold run out lets any process take it. */
export interface HoldFields {
  /** The process holding it until holdUntil; "" when none renews it. */
  holder: string;
  holdUntil: Date;
  /** Set by the take that won it, to read back what that take won (take-by-token.ts). */
  takeToken?: string;
}

/** A delivery as stored: with the fields that let a process hold it and others take it over. */
export interface DeliveryDoc extends Delivery, HoldFields {}

/** The hold of work nobody holds: any process may take it once it is due. */
export const NO_HOLD = new Date(0);

/** Work handed back: nobody holds it, and any process may take it once it is due (at once, if it is). */
export const UNHELD: Readonly<Pick<HoldFields, "holder" | "holdUntil">> = Object.freeze({ holder: "", holdUntil: NO_HOLD });
