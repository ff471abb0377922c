// The MongoDB driver's write to a connection its server has closed (server/store/common/closed-socket-writes.ts):
// the driver's own Connection on a real loopback socket whose peer ended it. Unpatched, the write waits for a
// 'drain' that never comes; patched, it fails at once as a network error the driver retries.
import { createRequire } from "node:module";
import { createServer, connect, Socket, type Server } from "node:net";
import { once } from "node:events";
import { afterEach, expect, it } from "vitest";
import { MongoNetworkError } from "mongodb";
import { failWritesToClosedSockets } from "../../server/store/common/closed-socket-writes.js";
import { sleep } from "../helpers/wait.js";

interface DriverConnection {
  writeCommand(command: unknown, options: unknown): Promise<void>;
  closed: boolean;
}
type ConnectionClass = new (socket: Socket, options: Record<string, unknown>) => DriverConnection;
const { Connection } = createRequire(import.meta.url)("mongodb/lib/cmap/connection.js") as { Connection: ConnectionClass };

const open: Array<Server | Socket> = [];
afterEach(() => {
  for (const s of open.splice(0)) {
    if (s instanceof Socket) s.destroy();
    else s.close();
  }
});

/** A connection of the driver's over loopback, and the server's end of it. */
async function connection(): Promise<{ conn: DriverConnection; client: Socket; peer: Socket }> {
  const server = createServer();
  open.push(server);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  const accepted = once(server, "connection") as Promise<[Socket]>;
  const client = connect(port, "127.0.0.1");
  open.push(client);
  await once(client, "connect");
  const [peer] = await accepted;
  open.push(peer);
  const conn = new Connection(client, { id: 1, generation: 0, hostAddress: { toString: () => `127.0.0.1:${port}` } });
  return { conn, client, peer };
}

/** A command as the driver's writeCommand takes it: anything that serialises to bytes. */
const command = { toBin: async () => [Buffer.from([1, 2, 3, 4])] };

/**
 * The write's outcome, or "pending" when it has not settled within a generous half second: a sleep as the yardstick,
 * since the defect looked for is a write that never settles, which no event tells.
 */
function settled(p: Promise<void>): Promise<unknown> {
  return Promise.race([p.then(() => "written", (e: unknown) => e), sleep(500).then(() => "pending")]);
}

it("a write to a connection whose server ended it fails as a MongoNetworkError instead of never settling", async () => {
  failWritesToClosedSockets();
  const { conn, client, peer } = await connection();
  peer.end(); // the server goes away: the client reads its end, and Node destroys the socket
  await once(client, "close");
  const outcome = await settled(conn.writeCommand(command, { agreedCompressor: "none" }));
  expect(outcome).toBeInstanceOf(MongoNetworkError);
  expect((outcome as Error).message).toMatch(/^connection 1 to 127\.0\.0\.1:\d+ closed$/);
  expect(conn.closed).toBe(true); // cleaned up, so the pool drops it
});

it("a write to a live connection still goes through, and installing twice wraps once", async () => {
  failWritesToClosedSockets();
  failWritesToClosedSockets();
  const { conn, peer } = await connection();
  const received = once(peer, "data") as Promise<[Buffer]>;
  expect(await settled(conn.writeCommand(command, { agreedCompressor: "none" }))).toBe("written");
  expect([...(await received)[0]]).toEqual([1, 2, 3, 4]);
  expect(conn.closed).toBe(false);
});
