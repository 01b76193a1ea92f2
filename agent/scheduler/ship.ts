// Output shipping into etcd for live tails. Chunks are bound to a lease shared by
// every run in the same time bucket (one lease per minute, not one per key), so etcd
// drops old output by itself and the agent renews nothing.
//
// Output kept in etcd has a cluster-wide budget (well under etcd's quota: a chatty job
// must never fill etcd and stop every claim). Each node keeps within its share of it
// (the budget over the live nodes): past it, the oldest bucket's lease is revoked, so
// the oldest output goes first (it stays in the node's own file); when the current
// bucket alone is over, chunks are not shipped until the next bucket.
import type { Cluster } from '../core/etcd';
import { keys } from '../core/keys';

const BUCKET_MS = 60_000;

interface Bucket {
  lease: Promise<string>;
  bytes: number;
}

/** Which buckets to evict (oldest first) so that the rest fit in `share`; pure. */
export function planEviction(buckets: [number, number][], current: number, share: number): number[] {
  let total = buckets.reduce((n, [, bytes]) => n + bytes, 0);
  const evict: number[] = [];
  for (const [b, bytes] of [...buckets].sort((x, y) => x[0] - y[0])) {
    if (total <= share || b === current) break;
    evict.push(b);
    total -= bytes;
  }
  return evict;
}

export class LogLeases {
  private buckets = new Map<number, Bucket>();
  /** Bytes not shipped because the budget was reached (they are in the node's file). */
  droppedBytes = 0;
  evictedBuckets = 0;

  constructor(
    private readonly cluster: Cluster,
    /** How long shipped output stays readable in etcd. */
    private readonly keepSec: number,
    /** This node's share of the cluster's output budget, in bytes. */
    private readonly shareBytes: () => number,
  ) {}

  private bucket(now: number): Bucket {
    const id = Math.floor(now / BUCKET_MS);
    let b = this.buckets.get(id);
    if (!b) {
      const lease = this.cluster.ns.lease(this.keepSec + BUCKET_MS / 1000, { autoKeepAlive: false });
      lease.on('lost', () => undefined);
      const p = lease.grant().then(String);
      p.catch(() => this.buckets.delete(id));
      b = { lease: p, bytes: 0 };
      this.buckets.set(id, b);
      const expired = id - Math.ceil((this.keepSec * 1000) / BUCKET_MS) - 1;
      for (const old of this.buckets.keys()) if (old < expired) this.buckets.delete(old);
    }
    return b;
  }

  /** Ships one chunk; false when the budget left no room (the chunk stays in the file only). */
  async put(runId: string, seq: number, data: Buffer, now = Date.now()): Promise<boolean> {
    const current = Math.floor(now / BUCKET_MS);
    const bucket = this.bucket(now);
    const share = this.shareBytes();
    const sizes = [...this.buckets].map(
      ([id, b]) => [id, b.bytes + (id === current ? data.length : 0)] as [number, number],
    );
    for (const id of planEviction(sizes, current, share)) await this.evict(id);
    if (bucket.bytes + data.length > share) {
      this.droppedBytes += data.length;
      return false;
    }
    bucket.bytes += data.length;
    const lease = await bucket.lease;
    await this.cluster.ns.put(keys.logChunk(runId, seq)).value(data).lease(lease).exec();
    return true;
  }

  private async evict(id: number): Promise<void> {
    const b = this.buckets.get(id);
    if (!b) return;
    this.buckets.delete(id);
    this.evictedBuckets++;
    const lease = await b.lease.catch(() => undefined);
    if (lease) await this.cluster.ns.leaseClient.leaseRevoke({ ID: lease }).catch(() => undefined);
  }
}
