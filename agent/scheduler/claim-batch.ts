// Claims of one moment, committed as one transaction. Every every-second job on a node
// claims its next time at the same instant (claimAheadMs before it); one transaction per
// claim made etcd's write path the bottleneck at a few hundred jobs. Claims queued in the
// same turn of the event loop are committed together: all of them or, when one of them
// conflicts, each on its own (with its else branch, so the loser learns why and the others
// still claim). A claim that takes semaphore slots goes alone: two claims in one
// transaction must not write the same key.
import type { IKeyValue } from 'etcd3';
import type { Cluster } from '../core/etcd';
import { txnOf, type TxnParts } from './claim-txn';
import { MAX_TXN_OPS, packTxns } from '../core/job/apply-plan';

export type ClaimResult = { ok: true; revision: number } | { ok: false; found: (IKeyValue | undefined)[] };

/**
 * Groups claims into transactions within etcd's limit, in order; pure. A claim marked
 * `alone`, or too large to share, is a group of its own.
 */
export function planBatches(
  claims: { compares: number; ops: number; alone: boolean }[],
  maxOps: number,
): number[][] {
  return packTxns(
    claims.map((_, i) => i),
    (i) => claims[i],
    maxOps,
  );
}

interface Queued {
  parts: TxnParts;
  alone: boolean;
  /** After a transport error the claim may have committed: find out, or throw. */
  inDoubt: (err: unknown) => Promise<ClaimResult>;
  resolve: (r: ClaimResult) => void;
  reject: (err: unknown) => void;
}

export class ClaimBatcher {
  private queue: Queued[] = [];
  private flushing = false;
  /** Transactions sent, claims committed in a shared one, shared ones that fell back. */
  readonly stats = { txns: 0, batchedClaims: 0, fallbacks: 0 };

  constructor(
    private readonly ns: Cluster['ns'],
    private readonly maxOps = MAX_TXN_OPS,
  ) {}

  commit(parts: TxnParts, opts: { alone: boolean; inDoubt: Queued['inDoubt'] }): Promise<ClaimResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ parts, ...opts, resolve, reject });
      if (!this.flushing) {
        this.flushing = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.flushing = false;
    const queued = this.queue;
    this.queue = [];
    const sizes = queued.map((q) => ({
      compares: q.parts.compares.length,
      ops: q.parts.ops.length,
      alone: q.alone,
    }));
    for (const batch of planBatches(sizes, this.maxOps)) void this.commitBatch(batch.map((i) => queued[i]));
  }

  private async commitBatch(claims: Queued[]): Promise<void> {
    if (claims.length === 1) return this.single(claims[0]);
    let res;
    try {
      this.stats.txns++;
      res = await txnOf(this.ns, {
        compares: claims.flatMap((c) => c.parts.compares),
        ops: claims.flatMap((c) => c.parts.ops),
        reads: [],
      }).commit();
    } catch (err) {
      for (const c of claims) c.inDoubt(err).then(c.resolve, c.reject);
      return;
    }
    if (res.succeeded) {
      this.stats.batchedClaims += claims.length;
      for (const c of claims) c.resolve({ ok: true, revision: Number(res.header.revision) });
      return;
    }
    this.stats.fallbacks++;
    await Promise.all(claims.map((c) => this.single(c)));
  }

  private async single(c: Queued): Promise<void> {
    try {
      this.stats.txns++;
      const res = await txnOf(this.ns, c.parts).commit();
      c.resolve(
        res.succeeded
          ? { ok: true, revision: Number(res.header.revision) }
          : { ok: false, found: res.responses.map((r) => r.response_range?.kvs[0] ?? undefined) },
      );
    } catch (err) {
      c.inDoubt(err).then(c.resolve, c.reject);
    }
  }
}
