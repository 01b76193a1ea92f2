// The main thread's handle on the lease worker (lease-worker.ts): starts the thread,
// asks it to grant, revoke or release the lease, and passes on what it reports. What etcd
// acknowledged is read from the shared lease, never from a queued message.
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ConnectOptions } from '../core/etcd';
import { SharedLease } from './lease-state';
import type { LeaseReport, LeaseRequest, LeaseWorkerInit } from './lease-worker';

/** Beside this file in dist/, and beside the bundle in a package (scripts/package-agent.js builds both). */
export const LEASE_WORKER_FILE = join(__dirname, 'lease-worker.js');

/** An error the worker reported, with the class name etcd3 gave it (membership.ts tells lease loss by it). */
export class LeaseWorkerError extends Error {
  constructor(
    message: string,
    readonly etcdName: string,
  ) {
    super(message);
  }
}

/** A request before the keeper numbers it. */
type Unsent<T> = T extends unknown ? Omit<T, 'seq'> : never;
type Request = Unsent<LeaseRequest>;

/** Events: 'ack', 'lost' (why), 'etcd-error' (Error), 'exit' (Error: the thread died). */
export class LeaseKeeper extends EventEmitter {
  readonly shared = new SharedLease();
  private worker: Worker | undefined;
  private seq = 0;
  private readonly waiting = new Map<number, (r: LeaseReport) => void>();

  constructor(
    private readonly connect: ConnectOptions,
    private readonly fenceMs: number,
  ) {
    super();
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const init: LeaseWorkerInit = {
      connect: this.connect,
      fenceMs: this.fenceMs,
      shared: this.shared.buffer,
    };
    const worker = new Worker(LEASE_WORKER_FILE, { workerData: { leaseWorker: init } });
    // The agent's exit must not wait for it (it dies with the process anyway).
    worker.unref();
    worker.on('message', (r: LeaseReport) => {
      if ('seq' in r) {
        const done = this.waiting.get(r.seq);
        this.waiting.delete(r.seq);
        done?.(r);
      } else if (r.op === 'ack') this.emit('ack');
      else if (r.op === 'lost') this.emit('lost', r.why);
      else this.emit('etcd-error', new Error(r.message));
    });
    const died = (err: Error) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      for (const [seq, done] of this.waiting) {
        this.waiting.delete(seq);
        done({ seq, op: 'failed', message: err.message, name: 'Error' });
      }
      this.emit('exit', err);
    };
    worker.on('error', died);
    worker.on('exit', (code) => died(new Error(`the lease keepalive thread exited (code ${code})`)));
    this.worker = worker;
    return worker;
  }

  private ask(req: Request): Promise<LeaseReport> {
    const worker = this.start();
    const seq = ++this.seq;
    return new Promise((resolve) => {
      this.waiting.set(seq, resolve);
      worker.postMessage({ ...req, seq } as LeaseRequest);
    });
  }

  private static check(r: LeaseReport): void {
    if (r.op === 'failed') throw new LeaseWorkerError(r.message, r.name);
  }

  /** A new lease, kept alive from now on; `sentAt` is when the grant was sent (monotonicMs). */
  async grant(ttlSec: number): Promise<{ leaseId: string; sentAt: number }> {
    const r = await this.ask({ op: 'grant', ttlSec });
    LeaseKeeper.check(r);
    if (r.op !== 'granted') throw new Error(`lease worker: unexpected reply ${r.op}`);
    return { leaseId: r.leaseId, sentAt: r.sentAt };
  }

  async revoke(timeoutMs: number): Promise<void> {
    if (!this.worker) return;
    LeaseKeeper.check(await this.ask({ op: 'revoke', timeoutMs }));
  }

  /** Stops the keepalives; the lease lapses after its TTL. */
  async release(): Promise<void> {
    if (!this.worker) return;
    LeaseKeeper.check(await this.ask({ op: 'release' }));
  }

  /** Ends the thread (and its etcd connection). */
  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }
}
