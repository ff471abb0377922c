// A workaround for the MongoDB Node driver (7.9.x): an operation whose command is written to a connection the
// database has just closed never settles. When the server goes away (the embedded FerretDB killed and restarted,
// a MongoDB node stepping down), a pooled socket reads its end, and Node destroys it before the 'close' event
// that tells the driver. A command checked out onto that connection in between is written to a destroyed socket:
// Node answers `false` with no 'error' event, and the driver's `writeCommand` waits for a 'drain' that never
// comes (neither socketTimeoutMS nor the connection's later cleanup ends that wait). The caller's RPC hung for
// good: seen as the first call after a kill of FerretDB never answering, about one time in four.
//
// Here such a write fails at once as a MongoNetworkError, which the driver retries (retryable reads and writes)
// on a fresh connection, and which the API otherwise answers UNAVAILABLE (store-errors.ts). Installed by the
// store's opener before it connects; test/unit/closed-socket-writes.test.ts pins the driver's shape and the fix.
import { createRequire } from "node:module";
import type { Socket } from "node:net";
import { MongoNetworkError } from "mongodb";

/** The part of the driver's internal Connection class this relies on (mongodb/lib/cmap/connection.js). */
interface DriverConnection {
  id: number | "<monitor>";
  address: string;
  socket: Socket;
  onError(err: Error): void;
  writeCommand(command: unknown, options: unknown): Promise<void>;
}

const INSTALLED = Symbol.for("hookwire.closedSocketWrites");

export function failWritesToClosedSockets(): void {
  const require = createRequire(import.meta.url);
  const { Connection } = require("mongodb/lib/cmap/connection.js") as { Connection?: { prototype: DriverConnection & { [INSTALLED]?: true } } };
  const proto = Connection?.prototype;
  if (!proto || typeof proto.writeCommand !== "function") {
    throw new Error("the MongoDB driver's Connection.writeCommand is gone: review server/store/common/closed-socket-writes.ts for this driver version");
  }
  if (proto[INSTALLED]) return;
  const write = proto.writeCommand;
  proto.writeCommand = function (this: DriverConnection, command: unknown, options: unknown): Promise<void> {
    const socket = this.socket;
    const closed = () => new MongoNetworkError(`connection ${this.id} to ${this.address} closed`);
    if (socket.destroyed) {
      const err = closed();
      this.onError(err);
      return Promise.reject(err);
    }
    // Destroyed from here on, the socket still emits 'close' (Node emits it after destroying).
    let onClose = (): void => undefined;
    const whenClosed = new Promise<never>((_, reject) => (onClose = () => reject(closed())));
    socket.once("close", onClose);
    return Promise.race([write.call(this, command, options), whenClosed]).finally(() => socket.off("close", onClose));
  };
  proto[INSTALLED] = true;
}
