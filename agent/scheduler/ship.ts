// Output shipping into etcd for live tails. Chunks are bound to a lease shared by
// every run in the same time bucket (one lease per 10 minutes, not one per key),
// so etcd drops old output by itself and the agent renews nothing.
import type { Cluster } from '../core/etcd';
import { keys } from '../core/keys';

const BUCKET_MS = 10 * 60_000;

export class LogLeases {
  private buckets = new Map<number, Promise<string>>();

  constructor(
    private readonly cluster: Cluster,
    /** How long shipped output stays readable in etcd. */
    private readonly keepSec: number,
  ) {}

  lease(now = Date.now()): Promise<string> {
    const bucket = Math.floor(now / BUCKET_MS);
    let p = this.buckets.get(bucket);
    if (!p) {
      const lease = this.cluster.ns.lease(this.keepSec + BUCKET_MS / 1000, { autoKeepAlive: false });
      lease.on('lost', () => undefined);
      p = lease.grant().then(String);
      p.catch(() => this.buckets.delete(bucket));
      this.buckets.set(bucket, p);
      for (const b of this.buckets.keys()) if (b < bucket - 1) this.buckets.delete(b);
    }
    return p;
  }

  async put(runId: string, seq: number, data: Buffer): Promise<void> {
    const lease = await this.lease();
    await this.cluster.ns.put(keys.logChunk(runId, seq)).value(data).lease(lease).exec();
  }
}
