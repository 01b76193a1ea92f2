// The leader: one per cluster, elected through the `leader` key bound to the
// node's own lease (short TTL; etcd3's Election would default to 60 s). Every
// leader write is a transaction that compares the leader key's create revision,
// so a deposed leader's writes fail. Its duties:
// - assign jobs to live nodes, and move a dead node's jobs (only once its key is gone);
// - settle runs left in flight by dead nodes: `lost`, or re-run once (at-least-once);
// - keep etcd's history compacted;
// - alerts: judge the conditions that need a single judge, and deliver (agent/alert/).
// A new leader needs nothing but etcd's state.
import { requiredLabels } from '../core/job/isolation';
import type { IOperation } from 'etcd3';
import type { Cluster } from '../core/etcd';
import { keys, parseRunId } from '../core/keys';
import type { PrefixMirror } from '../core/mirror';
import {
  decodeOr,
  encode,
  type ActiveEntry,
  type Assignment,
  type NodeRecord,
  type RunRecord,
  type LeaderRecord,
  type CordonRecord,
  type DepRecord,
  ASSIGNMENT_HISTORY,
  decode,
} from '../core/records';
import type { JobSpec } from '../core/job/spec';
import type { Membership } from '../node/membership';
import {
  matchesSelector,
  planAssignments,
  refusalOf,
  type JobPlacement,
  type LiveNode,
  type Owner,
  type Pin,
} from './assign';
import type { AlertingView } from '../alert/config-view';
import { AlertWriter, type LeaderFence } from '../alert/writer';
import { AlertSender } from '../alert/sender';
import { AlertWatch } from '../alert/watch';
import { LeaderBeats } from './beat';
import { settleLost } from './lost-run';
import { planStandbys } from './standby';
import { misfireOf, overlapOf, semaphoresOf } from '../core/job/policies';
import { parseDuration } from '../core/job/duration';
import { permissionMessage } from '../core/roles';

const MAX_TXN_OPS = 100; // etcd allows 128 per transaction
/** etcd history kept for watchers that fall behind; older revisions are compacted. */
export const DEFAULT_HISTORY_WINDOW_MS = 5 * 60_000;

export interface LeaderMirrors {
  jobs: PrefixMirror;
  nodes: PrefixMirror;
  assignments: PrefixMirror;
  leader: PrefixMirror;
  active: PrefixMirror;
  cordons: PrefixMirror;
  /** The clock judge's findings (clocks.ts). */
  skews: PrefixMirror;
  completions: PrefixMirror;
  /** Leader-only mirrors, started when elected. */
  alerts: PrefixMirror;
  members: PrefixMirror;
}

export class Leader implements LeaderFence {
  /** Create revision of our leader key while we lead; 0 otherwise. */
  leaderRev = 0;
  private reconcileTimer: NodeJS.Timeout | undefined;
  private compactTimer: NodeJS.Timeout | undefined;
  private reconciling = false;
  private again = false;
  private history: { at: number; rev: number }[] = [];
  private campaigning = false;
  private stopped = false;
  /** When this node saw the leader key go (undefined while there is one, or if it never saw one). */
  private leaderlessSince: number | undefined;
  private sawLeader = false;
  private readonly beats: LeaderBeats;
  readonly alertSender: AlertSender;
  private readonly alertWatch: AlertWatch;

  constructor(
    private readonly cluster: Cluster,
    private readonly membership: Membership,
    private readonly mirrors: LeaderMirrors,
    private readonly alerting: AlertingView,
    private readonly log: (msg: string) => void,
    private readonly historyWindowMs = DEFAULT_HISTORY_WINDOW_MS,
  ) {
    const writer = new AlertWriter(cluster, this, log);
    this.alertSender = new AlertSender(writer, mirrors.alerts, alerting, cluster.prefix, log);
    this.alertWatch = new AlertWatch(writer, mirrors, alerting, log);
    // A beat at least three times per no-leader threshold (and every 5 s at most).
    this.beats = new LeaderBeats(
      cluster,
      this,
      () => {
        const t = alerting.current.cluster.noLeader;
        return Math.max(500, Math.min(5000, t === undefined ? 5000 : parseDuration(t) / 3));
      },
      log,
    );
    const kick = () => this.kick();
    mirrors.leader.on('change', () => this.onLeaderChange());
    for (const m of [
      mirrors.jobs,
      mirrors.nodes,
      mirrors.assignments,
      mirrors.active,
      mirrors.cordons,
      mirrors.skews,
    ])
      m.on('change', kick);
    membership.on('lost', () => this.depose('our lease was lost'));
  }

  get isLeader(): boolean {
    return this.leaderRev > 0;
  }

  get nodeId(): string {
    return this.membership.id;
  }

  /** One transaction fenced by our leader key (and mod revisions); false if it did not apply. */
  async txn(ops: IOperation[], compares: [string, number][]): Promise<boolean> {
    if (!this.isLeader) return false;
    const { ns } = this.cluster;
    let txn = ns.if(keys.leader, 'Create', '==', this.leaderRev);
    for (const [k, rev] of compares) txn = txn.and(k, 'Mod', '==', rev);
    return (await txn.then(...ops).commit()).succeeded;
  }

  start(): void {
    this.onLeaderChange();
  }

  stop(): void {
    this.stopped = true;
    this.depose('shutting down');
  }

  /** Steps down by deleting our leader key, so a successor need not wait for our lease. */
  async resign(): Promise<void> {
    const rev = this.leaderRev;
    if (rev) await this.beats.stepDown();
    this.stop();
    if (!rev) return;
    const { ns } = this.cluster;
    await ns
      .if(keys.leader, 'Create', '==', rev)
      .then(ns.delete().key(keys.leader))
      .commit()
      .catch(() => undefined);
  }

  private onLeaderChange(): void {
    if (this.stopped) return;
    const mirror = this.mirrors.leader;
    const entry = mirror.entries.get(keys.leader);
    if (entry) this.leaderlessSince = undefined;
    else if (this.sawLeader) this.leaderlessSince ??= Date.now();
    this.sawLeader = !!entry;
    // The mirror may not have caught up with our own campaign yet: only a view at
    // or past our leader key's revision can tell that the key is gone.
    if (
      this.leaderRev &&
      mirror.revision >= this.leaderRev &&
      (!entry || entry.createRevision !== this.leaderRev)
    ) {
      this.depose('the leader key changed');
    }
    if (!entry && !this.leaderRev) void this.campaign();
  }

  private async campaign(): Promise<void> {
    if (this.campaigning || this.isLeader || !this.membership.isLive()) return;
    this.campaigning = true;
    try {
      const { ns } = this.cluster;
      const value: LeaderRecord = {
        node: this.membership.id,
        epoch: this.membership.epoch,
        since: Date.now(),
      };
      const res = await ns
        .if(keys.leader, 'Create', '==', 0)
        .and(keys.node(this.membership.id), 'Create', '==', this.membership.epoch)
        .then(ns.put(keys.leader).value(encode(value)).lease(this.membership.leaseId))
        .else(ns.get(keys.leader))
        .commit();
      let rev = res.succeeded ? Number(res.header.revision) : 0;
      if (!res.succeeded) {
        // A key of our own (this epoch) is ours to lead with: a retried or raced campaign.
        const kv = res.responses[0]?.response_range?.kvs[0];
        const held = kv && decodeOr<LeaderRecord>('leader', keys.leader, kv.value, () => undefined);
        if (held && held.node === this.membership.id && held.epoch === this.membership.epoch)
          rev = Number(kv.create_revision);
      }
      if (rev && !this.stopped) {
        this.leaderRev = rev;
        this.log(`elected leader (revision ${this.leaderRev})`);
        this.history = [];
        // The gap began when we saw the old leader go, or else (we were not there: a
        // whole-cluster outage) at its last beat; a leader that stepped down on purpose left none.
        const prev = await this.beats.last().catch(() => undefined);
        const gapSince = this.leaderlessSince ?? (prev && !prev.stopped ? prev.at : undefined);
        this.beats.start();
        await Promise.all([
          this.mirrors.active.start(),
          this.mirrors.alerts.start(),
          this.mirrors.members.start(),
        ]);
        const every = Math.max(500, Math.min(60_000, this.historyWindowMs / 2));
        this.compactTimer = setInterval(() => void this.compact(), every);
        this.kick();
        this.alertSender.start();
        this.alertWatch.start();
        if (gapSince !== undefined)
          void this.alertWatch
            .leaderGap(gapSince, Date.now())
            .catch((err) => this.log(`no-leader alert: ${(err as Error).message}`));
      }
    } catch (err) {
      this.log(`campaign failed: ${(err as Error).message}; will retry`);
      setTimeout(() => this.onLeaderChange(), 1000).unref();
    } finally {
      this.campaigning = false;
    }
  }

  private depose(why: string): void {
    if (!this.leaderRev) return;
    this.log(`no longer leader: ${why}`);
    this.leaderRev = 0;
    this.beats.stop();
    this.alertSender.stop();
    this.alertWatch.stop();
    clearInterval(this.compactTimer);
    clearTimeout(this.reconcileTimer);
  }

  private kick(): void {
    if (!this.isLeader) return;
    clearTimeout(this.reconcileTimer);
    // Coalesce bursts of watch events (a node dying deletes many keys at once).
    this.reconcileTimer = setTimeout(() => void this.reconcile(), 20);
  }

  private async reconcile(): Promise<void> {
    if (this.reconciling) {
      this.again = true;
      return;
    }
    this.reconciling = true;
    try {
      do {
        this.again = false;
        if (!this.isLeader) return;
        await this.assign();
        await this.settleOrphans();
      } while (this.again && this.isLeader);
    } catch (err) {
      this.log(`reconcile failed: ${(err as Error).message}; retrying`);
      clearTimeout(this.reconcileTimer);
      this.reconcileTimer = setTimeout(() => void this.reconcile(), 1000);
    } finally {
      this.reconciling = false;
    }
  }

  private liveNodes(): Map<string, LiveNode> {
    const cordons = new Map<string, CordonRecord['mode']>();
    for (const e of this.mirrors.cordons.entries.values()) {
      const c = decodeOr<CordonRecord>('cordon', e.key, e.value, (err) => this.log(err.message));
      if (c) cordons.set(keys.cordonNode(e.key), c.mode);
    }
    const nodes = new Map<string, LiveNode>();
    for (const e of this.mirrors.nodes.entries.values()) {
      const rec = decodeOr<NodeRecord>('node', e.key, e.value, (err) => this.log(err.message));
      if (!rec) continue;
      nodes.set(rec.id, {
        id: rec.id,
        epoch: e.createRevision,
        labels: rec.labels,
        capacity: rec.capacity,
        draining: rec.draining,
        cordon: cordons.get(rec.id),
        policy: rec.policy,
        clockOff: this.mirrors.skews.entries.has(keys.skew(rec.id)),
      });
    }
    return nodes;
  }

  private async assign(): Promise<void> {
    const jobs: JobSpec[] = [];
    for (const e of this.mirrors.jobs.entries.values()) {
      const job = decodeOr<JobSpec>('job', e.key, e.value, (err) => this.log(err.message));
      if (job) jobs.push(job);
    }
    const current = new Map<string, Owner>();
    const records = new Map<string, Assignment>();
    for (const e of this.mirrors.assignments.entries.values()) {
      const a = decodeOr<Assignment>('assignment', e.key, e.value, (err) => this.log(err.message));
      // A corrupt assignment is treated as none, so it gets rewritten.
      if (a) {
        current.set(keys.assignmentJob(e.key), { node: a.node, epoch: a.epoch });
        records.set(keys.assignmentJob(e.key), a);
      }
    }
    const nodes = this.liveNodes();
    const specs = new Map(jobs.map((j) => [j.name, j]));
    // Jobs with a run in flight on their owner: not moved by a drain or a rebalance.
    const busy = new Set<string>();
    const pinned = new Map<string, Pin>();
    for (const e of this.mirrors.active.entries.values()) {
      const ref = keys.activeParse(e.key);
      const entry = decodeOr<ActiveEntry>('active', e.key, e.value, () => undefined);
      if (!ref || !entry) continue;
      const owner = current.get(entry.job);
      if (owner && owner.node === ref.node && owner.epoch === entry.epoch) busy.add(entry.job);
      const node = nodes.get(ref.node);
      if (entry.single && node && node.epoch === entry.epoch)
        pinned.set(entry.job, {
          node: ref.node,
          epoch: entry.epoch,
          run: ref.runId,
          loop: specs.get(entry.job)?.kind === 'loop',
        });
    }
    const placements = jobs.map((j) => ({
      name: j.name,
      selector: j.selector ?? {},
      needs: requiredLabels(j),
      user: j.user,
      command: j.command,
    }));
    const plan = planAssignments(placements, [...nodes.values()], current, busy, pinned);
    const owners = new Map([...current].filter(([job]) => !plan.unplaced.has(job)));
    for (const [job, owner] of plan.moves) owners.set(job, owner);
    const standbys = planStandbys(
      placements.map((p, i) => ({ ...p, standby: standbyEligible(jobs[i]) })),
      [...nodes.values()],
      owners,
      new Map([...records].flatMap(([job, a]) => (a.standby ? [[job, a.standby] as const] : []))),
    );
    const { ns } = this.cluster;
    const ops: IOperation[] = [];
    for (const [job, owner] of plan.moves) {
      const prev = records.get(job);
      const spec = specs.get(job);
      const reason = moveReason(prev, nodes, { ...spec, name: job, selector: spec?.selector ?? {} });
      this.log(`assign ${job} → ${owner.node}: ${reason}`);
      const history = prev
        ? [
            ...(prev.history ?? []),
            { node: prev.node, epoch: prev.epoch, at: prev.since, reason: prev.reason ?? '' },
          ].slice(-ASSIGNMENT_HISTORY)
        : undefined;
      const standby = standbys.get(job);
      const a: Assignment = {
        node: owner.node,
        epoch: owner.epoch,
        since: Date.now(),
        by: this.membership.id,
        reason,
        ...(history ? { history } : {}),
        ...(standby ? { standby } : {}),
      };
      ops.push(ns.put(keys.assignment(job)).value(encode(a)));
    }
    // A job that stays where it is gets a new standby when its standby left or none was set.
    for (const [job, standby] of standbys) {
      const prev = records.get(job);
      if (plan.moves.has(job) || !prev || !owners.has(job)) continue;
      if (prev.standby?.node === standby?.node && prev.standby?.epoch === standby?.epoch) continue;
      const next: Assignment = { ...prev, standby };
      if (!standby) delete next.standby;
      ops.push(ns.put(keys.assignment(job)).value(encode(next)));
    }
    for (const [job, why] of plan.unplaced) {
      if (current.has(job) || this.mirrors.assignments.entries.has(keys.assignment(job))) {
        this.log(`unassign ${job}: ${why}`);
        ops.push(ns.delete().key(keys.assignment(job)));
      }
    }
    // Assignments of deleted jobs.
    for (const e of this.mirrors.assignments.entries.values()) {
      if (!specs.has(keys.assignmentJob(e.key))) ops.push(ns.delete().key(e.key));
    }
    await this.fencedWrite(ops);
  }

  /** Runs in flight on nodes that are gone: settle each one exactly once. */
  private async settleOrphans(): Promise<void> {
    const nodes = this.liveNodes();
    const { ns } = this.cluster;
    for (const e of [...this.mirrors.active.entries.values()]) {
      const ref = keys.activeParse(e.key);
      const entry = decodeOr<ActiveEntry>('active', e.key, e.value, (err) => this.log(err.message));
      if (!ref) continue;
      const node = nodes.get(ref.node);
      if (entry && node && node.epoch === entry.epoch) continue; // still in flight on a live node
      const runRef = parseRunId(ref.runId);
      if (!runRef || !entry) {
        await this.fencedWrite([ns.delete().key(e.key)]);
        continue;
      }
      const runKey = keys.run(runRef);
      const got = await ns.get(runKey).exec();
      const kv = got.kvs[0];
      const ops: IOperation[] = [ns.delete().key(e.key)];
      const compares: [string, number][] = [[e.key, e.modRevision]];
      if (kv) {
        let run: RunRecord | undefined;
        try {
          run = decode<RunRecord>('run', runKey, kv.value);
        } catch (err) {
          this.log((err as Error).message);
        }
        if (run && run.status === 'running') {
          const prev = this.mirrors.completions.entries.get(keys.completion(run.job));
          const job = this.jobSpec(run.job);
          const lost = settleLost(run, {
            node: ref.node,
            job,
            prev: prev && decodeOr<DepRecord>('dep', prev.key, prev.value, () => undefined),
            raise: { config: this.alerting.current, jobAlerts: job?.alerts },
            leader: this.membership.id,
            now: Date.now(),
          });
          ops.push(ns.put(runKey).value(encode(lost.run)));
          compares.push([runKey, Number(kv.mod_revision)]);
          if (lost.completion) ops.push(ns.put(keys.completion(run.job)).value(encode(lost.completion)));
          for (const a of lost.alerts) ops.push(ns.put(keys.alert(a.id)).value(encode(a)));
          if (lost.rerun) ops.push(ns.put(keys.trigger(lost.rerun.ref)).value(encode(lost.rerun.trigger)));
          this.log(`run ${run.id} lost with node ${ref.node}${lost.rerun ? '; re-running once' : ''}`);
        }
      }
      await this.fencedWrite(ops, compares);
    }
  }

  private jobSpec(name: string): JobSpec | undefined {
    const e = this.mirrors.jobs.entries.get(keys.job(name));
    return e ? decodeOr<JobSpec>('job', e.key, e.value, () => undefined) : undefined;
  }

  /** Writes in batches, each fenced by our leader key (and optional mod-revision checks). */
  private async fencedWrite(ops: IOperation[], compares: [string, number][] = []): Promise<void> {
    for (let i = 0; i < ops.length; i += MAX_TXN_OPS - compares.length) {
      if (!this.isLeader) return;
      if (!(await this.txn(ops.slice(i, i + MAX_TXN_OPS - compares.length), compares))) {
        const leader = this.mirrors.leader.entries.get(keys.leader);
        if (!leader || leader.createRevision !== this.leaderRev)
          this.depose('a fenced write found another leader');
        this.again = true;
        return;
      }
    }
  }

  /** Compacts etcd history older than a few minutes: months of runs must not fill etcd's quota. */
  private async compact(): Promise<void> {
    if (!this.isLeader) return;
    try {
      const res = await this.cluster.ns.get(keys.leader).exec();
      const rev = Number(res.header.revision);
      const now = Date.now();
      this.history.push({ at: now, rev });
      let target = 0;
      while (this.history.length && now - this.history[0].at >= this.historyWindowMs)
        target = this.history.shift()!.rev;
      if (target > 0) {
        await this.cluster.client.kv.compact({ revision: String(target), physical: false });
        this.log(`compacted etcd history up to revision ${target}`);
      }
    } catch (err) {
      if (permissionMessage(err, this.cluster.user, 'compact')) {
        // Compaction is cluster-wide: an etcd may refuse it to a scoped user (README: least privilege).
        clearInterval(this.compactTimer);
        this.log(
          `compaction skipped: etcd refused it to etcd user ${this.cluster.user}; ` +
            'let etcd compact itself: --auto-compaction-retention=5m',
        );
      } else if (!/required revision has been compacted/.test(String(err)))
        this.log(`compaction failed: ${(err as Error).message}`);
    }
  }
}

/** Why a job moves (or first lands), in words, for the assignment history. */
function moveReason(prev: Assignment | undefined, nodes: Map<string, LiveNode>, job: JobPlacement): string {
  if (!prev) return 'new job (or its assignment was missing)';
  const node = nodes.get(prev.node);
  if (!node) return `node ${prev.node} is gone`;
  if (node.epoch !== prev.epoch) return `node ${prev.node} restarted (new epoch)`;
  if (node.draining) return `node ${prev.node} is shutting down`;
  if (node.cordon === 'drain') return `node ${prev.node} is drained`;
  if (node.clockOff) return `node ${prev.node}'s clock is off: it claims nothing until it agrees again`;
  if (!matchesSelector(node.labels, job.selector)) return `the job's selector no longer matches ${prev.node}`;
  const refusal = refusalOf(node, job);
  if (refusal) return `the policy of ${prev.node} refuses it: ${refusal}`;
  return `rebalanced away from ${prev.node}`;
}

/**
 * A job a standby may claim for (standby.ts): clock-scheduled, nothing to hold or wait for,
 * and an owner that never leaves a due time unclaimed on purpose — with `overlap: queue` or
 * `misfire: all` it waits for its run in flight, and a standby would take that for death.
 */
function standbyEligible(job: JobSpec): boolean {
  return (
    job.kind !== 'loop' &&
    !job.after?.length &&
    semaphoresOf(job).length === 0 &&
    overlapOf(job) !== 'queue' &&
    misfireOf(job).policy !== 'all'
  );
}
