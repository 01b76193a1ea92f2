// The node's lease as its keepalive worker last saw it, in memory shared by the worker and
// the main thread. Shared memory, not messages: a main thread that was busy (a burst of
// launches, a long GC) must read the deadline etcd acknowledged while it was busy before
// its fence watchdog judges it, and a message queued behind that watchdog's timer would
// come too late. Both threads read one monotonic clock (process.hrtime: CLOCK_MONOTONIC,
// the same in every thread; performance.now() has a different origin in each thread).

/** Milliseconds on the monotonic clock both threads share. */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export enum LeaseState {
  None = 0,
  Live = 1,
  /** etcd said the lease is gone (expired or revoked). */
  Lost = 2,
}

const DEADLINE = 0;
const LAST_ACK = 1;
const STATE = 2;
const SLOTS = 3;

/** Written by the worker alone; read by both. Times in ns of monotonicMs's clock. */
export class SharedLease {
  private readonly slots: BigInt64Array;

  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(SLOTS * 8)) {
    this.slots = new BigInt64Array(buffer);
  }

  /** When etcd may expire the lease: the send time of the last acknowledged keepalive (or grant) + its TTL. */
  get deadlineMs(): number {
    return Number(Atomics.load(this.slots, DEADLINE)) / 1e6;
  }

  /** When the last keepalive acknowledgement (or the grant) arrived; 0 before any. */
  get lastAckMs(): number {
    return Number(Atomics.load(this.slots, LAST_ACK)) / 1e6;
  }

  get state(): LeaseState {
    return Number(Atomics.load(this.slots, STATE)) as LeaseState;
  }

  /** An acknowledgement: the deadline only moves forward (a late answer to an old keepalive cannot shorten it). */
  acknowledged(deadlineMs: number, at: number): void {
    const ns = BigInt(Math.floor(deadlineMs * 1e6));
    if (ns > Atomics.load(this.slots, DEADLINE)) Atomics.store(this.slots, DEADLINE, ns);
    Atomics.store(this.slots, LAST_ACK, BigInt(Math.floor(at * 1e6)));
  }

  /** A new lease: its own deadline, whatever the previous lease's was. */
  granted(deadlineMs: number, at: number): void {
    Atomics.store(this.slots, DEADLINE, BigInt(Math.floor(deadlineMs * 1e6)));
    Atomics.store(this.slots, LAST_ACK, BigInt(Math.floor(at * 1e6)));
    Atomics.store(this.slots, STATE, BigInt(LeaseState.Live));
  }

  /** etcd said the lease is gone. */
  lost(): void {
    Atomics.store(this.slots, STATE, BigInt(LeaseState.Lost));
  }
}
