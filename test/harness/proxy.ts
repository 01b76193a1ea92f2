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
        if (!this.cutNow && !pair.cut) to.write(chunk);
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
