// A node's membership: one lease, the `nodes/<id>` key bound to it, and our own
// liveness deadline. The etcd3 client reports a lease lost only after 2×TTL,
// while etcd expires it after 1×TTL; so we renew by hand and keep the deadline
// ourselves: `sentAt + TTL` of the last acknowledged keepalive. Past it, etcd may
// already have given our jobs away. We stop earlier, at the fence (`fenceMs` before
// the deadline): claims stop and single-copy runs get a stop grace that ends before
// etcd could expire the lease, so a job never runs here and on its next owner at once.
// A watchdog timer, not the next keepalive's answer, notices the fence: a black-holed
// keepalive must not delay it.
// The keepalives themselves run on a thread of their own (lease-worker.ts) so that this
// thread's load cannot starve them; the deadline is what etcd acknowledged there, read
// from shared memory (lease-state.ts), so a partitioned node still stops in time.
import { EventEmitter } from 'node:events';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from './data-dir';
import { join } from 'node:path';
import type { Cluster } from '../core/etcd';
import { withTimeout } from '../core/etcd';
import { keys } from '../core/keys';
import { encode, type NodeRecord } from '../core/records';
import { LeaseKeeper } from './lease-keeper';
import { LeaseState, monotonicMs } from './lease-state';

/** A monotonic clock, the lease thread's too: a wall-clock jump must not stretch or shrink a lease. */
const now = monotonicMs;

export class DuplicateNodeError extends Error {}

/** Room for signal delivery and scheduling between a run's SIGKILL and the lease deadline. */
const FENCE_MARGIN_MS = 500;

/**
 * How long before the lease deadline a node stops acting on its lease: half the TTL,
 * at least 1 s. At the default 5 s TTL: claims stop 2.5 s after the last acknowledged
 * keepalive, and single-copy runs get 2 s from SIGTERM to SIGKILL.
 */
export function fenceFor(ttlMs: number): number {
  return Math.max(1000, Math.floor(ttlMs / 2));
}

interface SavedLease {
  leaseId: string;
  pid: number;
}

export class Membership extends EventEmitter {
  /** Create revision of our node key: distinguishes this life of the node from earlier ones. */
  epoch = 0;
  leaseId = '';
  /** The keepalive thread; it holds the lease while `hasLease`. */
  private readonly keeper: LeaseKeeper;
  private hasLease = false;
  private fenceTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private live = false;

  constructor(
    private readonly cluster: Cluster,
    readonly record: NodeRecord,
    readonly ttlSec: number,
    private readonly dataDir: string,
    private readonly log: (msg: string) => void,
    /** How long before the lease deadline we stop acting on it (see the header). */
    readonly fenceMs = fenceFor(ttlSec * 1000),
  ) {
    super();
    this.keeper = new LeaseKeeper(cluster.options, fenceMs);
    this.keeper.on('ack', () => this.acknowledged());
    this.keeper.on('lost', (why: string) => this.expire(why));
    this.keeper.on('etcd-error', (err: Error) => this.emit('etcd-error', err));
    this.keeper.on('exit', (err: Error) => {
      if (!this.stopped) this.expire(`the keepalive thread stopped (${err.message})`);
    });
  }

  /** When etcd may expire our lease: the send time of the last acknowledged keepalive + TTL. */
  private get deadline(): number {
    return this.keeper.shared.deadlineMs;
  }

  /** When the keepalive thread last heard etcd acknowledge our lease (monotonic ms; 0 before). */
  get lastAckAt(): number {
    return this.keeper.shared.lastAckMs;
  }

  /** The stop grace single-copy runs get at the fence: they are dead before the deadline. */
  get fenceGraceMs(): number {
    return Math.max(100, this.fenceMs - FENCE_MARGIN_MS);
  }

  get id(): string {
    return this.record.id;
  }

  /** True while etcd certainly still holds our lease, with `marginMs` to spare. */
  isLive(marginMs = 0): boolean {
    return (
      this.live &&
      this.keeper.shared.state === LeaseState.Live &&
      now() + marginMs < this.deadline - this.fenceMs
    );
  }

  /** How long until etcd may expire our lease (0 without one). */
  ttlLeftMs(): number {
    return this.hasLease ? Math.max(0, this.deadline - now()) : 0;
  }

  /** How long we may still act on our lease. */
  remainingMs(): number {
    return this.deadline - this.fenceMs - now();
  }

  /** Registers the node. Fails loudly when another live agent has this id. */
  async join(): Promise<void> {
    // Granted by the keepalive thread, which renews it from now on.
    const { leaseId } = await this.keeper.grant(this.ttlSec);
    try {
      await this.register(leaseId);
    } catch (err) {
      // Not ours after all (a duplicate, etcd gone): no keepalives for a lease nobody uses.
      await this.keeper.release().catch(() => undefined);
      throw err;
    }
    // Lost while we registered: say so now, the keepalive thread's report came too early.
    if (this.keeper.shared.state === LeaseState.Lost) this.expire('etcd says our lease is gone');
  }

  private async register(leaseId: string): Promise<void> {
    const { ns } = this.cluster;
    const nodeKey = keys.node(this.id);
    const value = encode(this.record);
    let res = await ns
      .if(nodeKey, 'Create', '==', 0)
      .then(ns.put(nodeKey).value(value).lease(leaseId), ns.put(keys.member(this.id)).value(value))
      .else(ns.get(nodeKey))
      .commit();
    if (!res.succeeded) {
      const existing = res.responses[0]?.response_range?.kvs[0];
      if (existing && (await this.isOurStaleLease(String(existing.lease)))) {
        // Our own previous life on this data dir (killed without revoking): take over.
        this.log(`revoking the lease of this node's previous agent process (lease ${existing.lease})`);
        await ns.leaseClient.leaseRevoke({ ID: String(existing.lease) }).catch(() => undefined);
        res = await ns
          .if(nodeKey, 'Create', '==', 0)
          .then(ns.put(nodeKey).value(value).lease(leaseId), ns.put(keys.member(this.id)).value(value))
          .commit();
      }
      if (!res.succeeded) {
        await this.keeper.revoke(3000).catch(() => undefined);
        let holder = '';
        try {
          const other = JSON.parse(existing?.value.toString() ?? '{}') as Partial<NodeRecord>;
          holder = ` (held by pid ${other.pid} on ${other.hostname}, started ${new Date(other.startedAt ?? 0).toISOString()})`;
        } catch {
          /* the holder's record is unreadable; the id is still taken */
        }
        throw new DuplicateNodeError(
          `node id "${this.id}" is already registered by a live agent${holder}; give this agent another --node-id, or stop the other one`,
        );
      }
    }
    this.hasLease = true;
    this.leaseId = String(leaseId);
    this.epoch = Number(res.header.revision);
    this.live = true;
    this.armFence();
    await this.saveLease();
  }

  /** Suspends at the fence unless an acknowledgement moves the deadline first. */
  private armFence(): void {
    clearTimeout(this.fenceTimer);
    if (this.stopped || !this.live) return;
    this.fenceTimer = setTimeout(() => this.checkFence(), Math.max(0, this.deadline - this.fenceMs - now()));
  }

  private checkFence(): void {
    if (this.stopped || !this.live) return;
    if (now() < this.deadline - this.fenceMs) return this.armFence();
    // Etcd may soon expire the lease and move our jobs: stop acting until etcd tells us either way.
    this.live = false;
    this.log(
      `no keepalive acknowledged for ${Math.round(this.ttlSec * 1000 - this.fenceMs)} ms; claims suspended, single-copy runs stopped`,
    );
    this.emit('suspended', this.fenceGraceMs);
  }

  private async isOurStaleLease(leaseId: string): Promise<boolean> {
    try {
      const saved = JSON.parse(await readFile(this.leaseFile(), 'utf8')) as SavedLease;
      if (saved.leaseId !== leaseId || saved.pid === process.pid) return false;
      try {
        process.kill(saved.pid, 0);
        return false; // that process still runs: a real duplicate
      } catch {
        return true;
      }
    } catch {
      return false;
    }
  }

  private leaseFile(): string {
    return join(this.dataDir, 'lease.json');
  }

  private async saveLease(): Promise<void> {
    await mkdir(this.dataDir, { recursive: true, mode: PRIVATE_DIR_MODE });
    const saved: SavedLease = { leaseId: this.leaseId, pid: process.pid };
    await writeFile(this.leaseFile(), JSON.stringify(saved), { mode: PRIVATE_FILE_MODE });
  }

  /** A keepalive acknowledged (the deadline is already in shared memory): resume if we had stopped. */
  private acknowledged(): void {
    if (this.stopped || !this.hasLease) return;
    if (!this.live && now() < this.deadline - this.fenceMs) {
      // etcd kept our lease (an etcd restart or a short partition): the node
      // key and its epoch are intact, so nobody was given our jobs.
      this.live = true;
      this.log('lease confirmed alive again; resuming claims');
      this.emit('resumed');
    }
    this.armFence();
  }

  private expire(why: string): void {
    if (!this.hasLease) return;
    this.hasLease = false;
    this.live = false;
    clearTimeout(this.fenceTimer);
    this.log(`lease lost: ${why}; stopping all claims`);
    void this.keeper.release().catch(() => undefined);
    this.emit('lost', why);
  }

  /** Leaves the cluster: our keys vanish at once and the leader moves our jobs. */
  async leave(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.fenceTimer);
    this.live = false;
    // Leaving on purpose is not a node going down: the leader raises no alert for it.
    const member = encode({ ...this.record, leftAt: Date.now() } satisfies NodeRecord);
    await withTimeout(
      this.cluster.ns.put(keys.member(this.id)).value(member).exec(),
      3000,
      'member update',
    ).catch(() => undefined);
    if (this.hasLease) await this.keeper.revoke(3000).catch(() => undefined);
    this.hasLease = false;
    await this.keeper.close();
  }
}
