// The node's lease keepalives, on a thread of their own (node:worker_threads) with their
// own etcd connection: a main thread busy launching hundreds of runs, or blocked outright,
// must not starve them, or the node loses its lease because of its own load, rejoins and
// skips what it owned. This thread grants the lease, renews it by hand (see
// membership.ts for why not etcd3's own keepalive), revokes it when asked, and writes what
// etcd acknowledged into the shared lease (lease-state.ts). The main thread keeps every
// decision: its fence watchdog reads the deadline from that memory.
//
// The thread dies with the process: kill -9 of the agent, or SIGSTOP, takes it along, and
// the lease then lapses as it always did. Loaded by lease-keeper.ts as a file of its own.
import { parentPort, workerData } from 'node:worker_threads';
import type { Lease } from 'etcd3';
import { connect, withTimeout, type ConnectOptions } from '../core/etcd';
import { monotonicMs, SharedLease } from './lease-state';

export interface LeaseWorkerInit {
  connect: ConnectOptions;
  /** The main thread's fence: a keepalive unanswered for half of it is given up and sent again. */
  fenceMs: number;
  shared: SharedArrayBuffer;
}

/** Main thread → worker. Each request gets exactly one reply with the same `seq`. */
export type LeaseRequest =
  | { seq: number; op: 'grant'; ttlSec: number }
  | { seq: number; op: 'revoke'; timeoutMs: number }
  | { seq: number; op: 'release' };

/** Worker → main thread: replies (with `seq`) and reports. */
export type LeaseReport =
  | { seq: number; op: 'granted'; leaseId: string; sentAt: number }
  | { seq: number; op: 'done' }
  | { seq: number; op: 'failed'; message: string; name: string }
  | { op: 'ack' }
  | { op: 'lost'; why: string }
  | { op: 'etcd-error'; message: string };

/** How often a keepalive is sent: often, since the deadline gates claims and a late ack costs launches. */
export function keepaliveEvery(ttlSec: number): number {
  return Math.max(200, Math.min(1000, (ttlSec * 1000) / 5));
}

/** Whether a keepalive's error means etcd no longer has the lease (not: etcd is unreachable). */
export function leaseGone(err: unknown): boolean {
  return (
    String((err as Error)?.name).includes('LeaseInvalid') ||
    (err as Error)?.constructor?.name === 'EtcdLeaseInvalidError' ||
    /lease.*(not found|expired)|requested lease not found/i.test(String(err))
  );
}

class LeaseKeepalives {
  private readonly shared: SharedLease;
  private readonly cluster;
  private lease: Lease | undefined;
  private ttlSec = 0;
  private timer: NodeJS.Timeout | undefined;
  private inFlight = false;

  constructor(
    private readonly init: LeaseWorkerInit,
    private readonly report: (r: LeaseReport) => void,
  ) {
    this.shared = new SharedLease(init.shared);
    this.cluster = connect(init.connect);
  }

  async handle(req: LeaseRequest): Promise<LeaseReport> {
    try {
      switch (req.op) {
        case 'grant':
          return { seq: req.seq, op: 'granted', ...(await this.grant(req.ttlSec)) };
        case 'revoke':
          await this.revoke(req.timeoutMs);
          return { seq: req.seq, op: 'done' };
        case 'release':
          this.release();
          return { seq: req.seq, op: 'done' };
      }
    } catch (err) {
      return {
        seq: req.seq,
        op: 'failed',
        message: (err as Error)?.message ?? String(err),
        name: (err as Error)?.constructor?.name ?? 'Error',
      };
    }
  }

  private async grant(ttlSec: number): Promise<{ leaseId: string; sentAt: number }> {
    this.release();
    const lease = this.cluster.ns.lease(ttlSec, { autoKeepAlive: false });
    lease.on('lost', () => undefined); // reported through keepalive results; an unheard 'lost' must not crash
    const sentAt = monotonicMs();
    const id = await lease.grant();
    this.lease = lease;
    this.ttlSec = ttlSec;
    this.shared.granted(sentAt + ttlSec * 1000, monotonicMs());
    this.schedule();
    return { leaseId: String(id), sentAt };
  }

  private async revoke(timeoutMs: number): Promise<void> {
    const lease = this.lease;
    this.release();
    if (lease) await withTimeout(lease.revoke(), timeoutMs, 'lease revoke');
  }

  /** Stops renewing without revoking: the lease lapses after its TTL. */
  private release(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.lease?.release();
    this.lease = undefined;
  }

  private schedule(): void {
    this.timer = setTimeout(() => void this.keepalive(), keepaliveEvery(this.ttlSec));
  }

  private async keepalive(): Promise<void> {
    const lease = this.lease;
    if (!lease) return;
    if (this.inFlight) {
      // The previous keepalive is still unanswered (a partition): the main thread's fence decides.
      this.schedule();
      return;
    }
    this.inFlight = true;
    const sentAt = monotonicMs();
    try {
      const res = await withTimeout(
        lease.keepaliveOnce(),
        Math.max(500, this.init.fenceMs / 2),
        'lease keepalive',
      );
      const ttl = Number(res.TTL);
      if (ttl > 0 && this.lease === lease) {
        this.shared.acknowledged(sentAt + ttl * 1000, monotonicMs());
        this.report({ op: 'ack' });
      }
    } catch (err) {
      if (this.lease === lease && leaseGone(err)) {
        this.shared.lost();
        this.release();
        this.report({ op: 'lost', why: 'etcd says our lease is gone' });
        return;
      }
      if (this.lease === lease)
        this.report({ op: 'etcd-error', message: (err as Error)?.message ?? String(err) });
    } finally {
      this.inFlight = false;
    }
    if (this.lease === lease) this.schedule();
  }
}

if (parentPort && (workerData as { leaseWorker?: LeaseWorkerInit } | undefined)?.leaseWorker) {
  const port = parentPort;
  const keepalives = new LeaseKeepalives((workerData as { leaseWorker: LeaseWorkerInit }).leaseWorker, (r) =>
    port.postMessage(r),
  );
  port.on('message', (req: LeaseRequest) => void keepalives.handle(req).then((r) => port.postMessage(r)));
}
