// A TCP proxy in front of one etcd member, for one agent: cutting it black-holes
// that agent's traffic (bytes are swallowed, connections stay open, nothing is
// refused), which is what a network partition looks like to the agent: calls hang
// until their deadlines, keepalives go unanswered. Healing closes the connections
// that lived through the cut (a real partition ends them by timeout) so the client
// reconnects on clean streams.
import { createServer, connect, type Server, type Socket } from 'node:net';

export class TcpProxy {
  private server: Server | undefined;
  private pairs = new Set<{ client: Socket; upstream: Socket; cut: boolean }>();
  private cutNow = false;
  private trigger: { markers: Buffer[]; holdMs: number; seen: () => void } | undefined;
  private holdUntil = 0;
  private held = new Map<Socket, Buffer[]>();
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get isCut(): boolean {
    return this.cutNow;
  }

  async start(): Promise<void> {
    this.server = createServer((client) => this.accept(client));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as { port: number }).port;
  }

  private accept(client: Socket): void {
    const upstream = connect(this.targetPort, this.targetHost);
    const pair = { client, upstream, cut: this.cutNow };
    this.pairs.add(pair);
    const forward = (from: Socket, to: Socket) =>
      from.on('data', (chunk) => {
        if (this.cutNow || pair.cut) return;
        if (from === client && this.trigger?.markers.every((m) => chunk.includes(m))) {
          this.holdUntil = Date.now() + this.trigger.holdMs;
          this.trigger.seen();
          this.trigger = undefined;
        }
        if (from === upstream && (Date.now() < this.holdUntil || this.held.has(to))) {
          // A slow reply: etcd has the request (and may have applied it), its answer waits.
          const held = this.held.get(to) ?? [];
          if (!held.length)
            setTimeout(
              () => {
                this.held.delete(to);
                for (const c of held) if (!to.destroyed) to.write(c);
              },
              Math.max(0, this.holdUntil - Date.now()),
            );
          held.push(chunk);
          this.held.set(to, held);
          return;
        }
        to.write(chunk);
      });
    forward(client, upstream);
    forward(upstream, client);
    const close = () => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    for (const s of [client, upstream]) {
      s.on('error', close);
      s.on('close', close);
    }
  }

  /**
   * The first request whose bytes contain every marker goes through, and then every reply
   * is held for `holdMs` (a reply slower than the caller's deadline: the caller sees an
   * error for a request etcd applied). Resolves when that request has been seen.
   */
  holdRepliesAfter(markers: string[], holdMs: number): Promise<void> {
    return new Promise((seen) => {
      this.trigger = { markers: markers.map((m) => Buffer.from(m)), holdMs, seen };
    });
  }

  /** Black-holes the traffic, both ways, until heal(). */
  cut(): void {
    this.cutNow = true;
    for (const p of this.pairs) p.cut = true;
  }

  heal(): void {
    this.cutNow = false;
    for (const p of [...this.pairs]) {
      if (!p.cut) continue;
      this.pairs.delete(p);
      p.client.destroy();
      p.upstream.destroy();
    }
  }

  async stop(): Promise<void> {
    for (const p of this.pairs) {
      p.client.destroy();
      p.upstream.destroy();
    }
    this.pairs.clear();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
