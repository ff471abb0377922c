// Message bodies for attempts about to start: those of messages with a delivery held (the engine drops
// the rest), the most recently used up to a byte budget, the others read again by id when needed. Waiting deliveries hold only their message id, so memory stays
// bounded whatever the backlog and payload sizes.
export class BodyCache {
  /** In use order, oldest first. */
  private readonly bodies = new Map<string, string>();
  private readonly loading = new Map<string, Promise<string | undefined>>();
  private bytes = 0;

  constructor(
    /** Reads a message's body; undefined when the message does not exist. */
    private readonly load: (messageId: string) => Promise<string | undefined>,
    private readonly maxBytes: number,
  ) {}

  /** A body just stored (a Trigger's), so its first attempts need not read it back. */
  put(messageId: string, body: string): void {
    const old = this.bodies.get(messageId);
    if (old !== undefined) this.bytes -= size(old);
    this.bodies.delete(messageId);
    if (size(body) > this.maxBytes) return;
    this.bodies.set(messageId, body);
    this.bytes += size(body);
    for (const [id, b] of this.bodies) {
      if (this.bytes <= this.maxBytes) break;
      this.bodies.delete(id);
      this.bytes -= size(b);
    }
  }

  /** A body no held delivery needs any more. */
  drop(messageId: string): void {
    const body = this.bodies.get(messageId);
    if (body === undefined) return;
    this.bodies.delete(messageId);
    this.bytes -= size(body);
  }

  /** The body, from memory or read once however many callers ask at the same time. */
  async get(messageId: string): Promise<string | undefined> {
    const cached = this.bodies.get(messageId);
    if (cached !== undefined) {
      this.bodies.delete(messageId);
      this.bodies.set(messageId, cached);
      return cached;
    }
    let pending = this.loading.get(messageId);
    if (!pending) {
      pending = this.load(messageId).finally(() => this.loading.delete(messageId));
      this.loading.set(messageId, pending);
    }
    const body = await pending;
    if (body !== undefined) this.put(messageId, body);
    return body;
  }

  get size(): { entries: number; bytes: number } {
    return { entries: this.bodies.size, bytes: this.bytes };
  }
}

/** V8 keeps a string in one or two bytes a character; two is the bound. */
function size(body: string): number {
  return body.length * 2;
}
