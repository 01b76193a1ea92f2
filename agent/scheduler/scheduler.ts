// The node's scheduler: for every job assigned to this node (and this epoch), it
// claims each scheduled time in etcd and only then lets the process run.
//
// The claim is one transaction per time T (claim-txn.ts spells it): if the job is still
// assigned to us, our lease and the job's incarnation hold, nobody moved the cursor and
// runs/<job>/T does not exist, then cursor := T, run := running, active/<me>/<run> := in
// flight. The outcome is a second write. Two writes per launch, whatever the cluster size.
// A claim is made a little before T, the process is spawned blocked on a pipe,
// and released at T: the expensive part happens before the second starts.
//
// This file is the effects: timers, mirrors, etcd round trips, processes. What to do is
// decided by pure functions beside it: due.ts (which times), overlap.ts (a time due while
// a run is in flight), claim-conflict.ts (why a claim failed), outcome.ts (the record of a
// run's end, and a failed outcome write), rules.ts (release, single copy, pruning).
import { EventEmitter } from 'node:events';
import type { IOperation, ITxnResponse as TxnResponse } from 'etcd3';
import type { Cluster } from '../core/etcd';
import { keys, formatRunId, parseRunId, type RunRef } from '../core/keys';
import { skippedRunRecord } from '../core/skipped-run';
import type { PrefixMirror } from '../core/mirror';
import {
  decode,
  decodeOr,
  encode,
  type Assignment,
  type Cursor,
  type RunCause,
  type RunRecord,
  type TriggerRecord,
  type DepRecord,
  type AlertRecord,
} from '../core/records';
import type { JobSpec } from '../core/job/spec';
import { jobTimeoutMs, loopDelayMs } from '../core/job/spec';
import { misfireOf, overlapOf, retryDelayMs, semaphoresOf } from '../core/job/policies';
import { conditionMet } from '../core/job/deps';
import { compileSchedule, type Schedule } from '../core/job/schedule';
import { prepareRun, type PreparedRun, type RunOutcome } from '../runner/exec';
import { OutputBatcher } from '../runner/output';
import { runLogPath } from '../runner/logfiles';
import type { Membership } from '../node/membership';
import { planDue } from './due';
import { LogLeases } from './ship';
import { completeRun, skippedRun, type RaiseContext } from '../alert/raise';
import type { AlertingView } from '../alert/config-view';
import { ReleaseClock } from './release-clock';
import type { Admission } from './admission';
import type { StoredJob } from '../core/signing';
import { EtcdWrites, outageNote, type WriteOutage } from '../node/etcd-writes';
import { isolationFor } from '../runner/isolation';
import { claimAheadFor, runIsolationFields } from './isolation-hooks';
import { planOverlap } from './overlap';
import { claimConflict } from './claim-conflict';
import { claimParts, outcomeTxn, skippedTriggerTxn, triggerClaimTxn, type Claimant } from './claim-txn';
import { ClaimBatcher, type ClaimResult } from './claim-batch';
import { outcomeConflict, recordedOutcome } from './outcome';
import { isSingleCopy, pickSlots, prunable, releaseRefusal } from './rules';

export interface SchedulerOptions {
  dataDir: string;
  /** Claim this long before a scheduled time, so the launch itself costs only a pipe write. */
  claimAheadMs: number;
  /** An overdue time later than this is recorded as skipped instead of launched late. */
  lateLimitMs: number;
  killGraceMs: number;
  /** Output shipped into etcd per run; the rest stays in the node's log file. */
  shipCapBytes: number;
  logFileCapBytes: number;
  tailBytes: number;
  /** Runs kept per job in etcd, and for how long. */
  keepRuns: number;
  keepRunsMs: number;
  logKeepSec: number;
  /** Output kept in etcd by the whole cluster (each node keeps to its share); see ship.ts. */
  outputBudgetBytes: number;
}

/**
 * How long after a time a standby waits for the owner's claim (claimed claimAheadMs before
 * the time) before claiming it itself: failover within about a second.
 */
export const STANDBY_GRACE_MS = 300;

export const DEFAULT_SCHEDULER_OPTIONS: Omit<SchedulerOptions, 'dataDir'> = {
  claimAheadMs: 400,
  lateLimitMs: 60_000,
  killGraceMs: 5_000,
  shipCapBytes: 1 << 20,
  logFileCapBytes: 64 << 20,
  tailBytes: 4096,
  keepRuns: 200,
  keepRunsMs: 14 * 86_400_000,
  logKeepSec: 3600,
  // etcd's default quota is 2 GiB; history and defragmentation need room beside the output.
  outputBudgetBytes: 256 << 20,
};

export interface SchedulerMirrors {
  jobs: PrefixMirror;
  assignments: PrefixMirror;
  triggers: PrefixMirror;
  semaphores: PrefixMirror;
  completions: PrefixMirror;
  /** Live nodes: this node's share of the output budget is the budget over their number. */
  nodes?: PrefixMirror;
}

interface CursorState {
  t: number;
  n: number;
  consumed?: Record<string, string>;
  /** Mod revision of cursors/<job>; 0 when the key does not exist. */
  modRev: number;
}

interface OwnedJob {
  name: string;
  /**
   * This node stands by for the job (standby.ts): it claims only a time the owner left
   * unclaimed STANDBY_GRACE_MS after it was due. `owner` is the node it stands by for.
   */
  standby?: { owner: string };
  spec: JobSpec;
  specRev: number;
  /** Create revision of jobs/<name>: this incarnation of the job (a re-created job has another). */
  createRev: number;
  schedule: Schedule | undefined;
  assignRev: number;
  cursor: CursorState | undefined;
  timer: NodeJS.Timeout | undefined;
  pumping: boolean;
  again: boolean;
  inFlight: Map<string, InFlight>;
  lastEndedAt: number;
  outcomesSincePrune: number;
  failures: number;
  /** A firing waits for the run in flight to end (overlap: queue). */
  queued: boolean;
  /** A catch-up launch waits for the run in flight to end. */
  resumeOnEnd: boolean;
  /** The semaphore whose slots were all taken at the last claim, if any. */
  waitingFor: string | undefined;
  /** A claim whose commit we could not confirm; settled before the next claim. */
  inDoubt: { run: RunRecord; launchAt: number } | undefined;
}

interface InFlight {
  run: RunRecord;
  claimRev: number;
  proc: PreparedRun;
  /** The job it belongs to, even after the job left this node. */
  job: OwnedJob;
  single: boolean;
  /** Why a claimed run was not released at its time. */
  notReleased?: string;
  /** The revision of the claim that created its semaphore slots. */
  slotRev: number;
}

type Log = (msg: string) => void;

/**
 * Events: 'launched' (run: RunRecord, delayMs: number) when a run is released;
 * 'outcome' (run: RunRecord) when its outcome is recorded; 'skipped' (job, count) when
 * scheduled times are recorded as not launched. For metrics and tests.
 */
export class Scheduler extends EventEmitter {
  private owned = new Map<string, OwnedJob>();
  private claimingTriggers = new Set<string>();
  private triggerTimers = new Map<string, NodeJS.Timeout>();
  private stopped = false;
  /** Shutting down: no new claims, while the leader still moves our jobs. */
  private closing = false;
  private logLeases: LogLeases;
  private releases: ReleaseClock;
  /** Every run this node still has to finish or record. */
  private pending = new Set<Promise<void>>();
  /** Every run in flight on this node, whether or not its job is still ours. */
  private flights = new Map<string, InFlight>();
  /** Whether etcd takes our writes: for /healthz, metrics, alerts and skip reasons. */
  readonly writes = new EtcdWrites();
  /** Claims of the same moment share a transaction. */
  readonly claims: ClaimBatcher;
  readonly stats = { claims: 0, launches: 0, skippedRanges: 0, claimConflicts: 0, etcdErrors: 0 };

  /** Output not shipped into etcd because of the output budget, and buckets evicted for it. */
  get outputBudget(): { droppedBytes: number; evictedBuckets: number } {
    return { droppedBytes: this.logLeases.droppedBytes, evictedBuckets: this.logLeases.evictedBuckets };
  }

  constructor(
    private readonly cluster: Cluster,
    private readonly membership: Membership,
    private readonly mirrors: SchedulerMirrors,
    private readonly opts: SchedulerOptions,
    private readonly log: Log,
    private readonly alerting: AlertingView,
    /** Why claims are held for now (e.g. this node's clock is off), or undefined. */
    private readonly hold: () => string | undefined = () => undefined,
    /** Signatures and node policy: a refused spec is not scheduled (admission.ts records why). */
    private readonly admission?: Admission,
  ) {
    super();
    this.logLeases = new LogLeases(
      cluster,
      opts.logKeepSec,
      () => opts.outputBudgetBytes / Math.max(1, mirrors.nodes?.entries.size ?? 1),
    );
    this.releases = new ReleaseClock(opts.dataDir, log);
    this.claims = new ClaimBatcher(cluster.ns);
    const refresh = () => this.refresh();
    mirrors.jobs.on('change', refresh);
    mirrors.assignments.on('change', refresh);
    mirrors.triggers.on('change', () => this.claimTriggers());
    mirrors.completions.on('change', (changed: string[] | null) => {
      // A parent completed a run: its children on this node may be released. Every complete
      // run writes its completion key, so only the children of the jobs that changed are woken
      // (all of them after a re-list).
      const parents = changed && new Set(changed.map(keys.completionJob));
      for (const job of this.owned.values())
        if (job.spec.after?.some((d) => !parents || parents.has(d.job))) this.pump(job);
    });
    mirrors.semaphores.on('change', () => {
      // A slot may have freed: jobs and runs waiting for one try again.
      for (const job of this.owned.values()) if (job.waitingFor) this.pump(job);
      this.claimTriggers();
    });
    membership.on('lost', () => this.onLeaseLost());
    // Suspension comes early enough (membership's fence) that a grace still ends before
    // etcd could expire our lease and hand the job to another node.
    membership.on('suspended', (graceMs?: number) =>
      this.stopSingleCopy('this node cannot confirm its lease', graceMs),
    );
    membership.on('resumed', () => {
      for (const job of this.owned.values()) this.pump(job);
      this.claimTriggers();
    });
  }

  start(): void {
    this.refresh();
    this.claimTriggers();
  }

  /**
   * A graceful shutdown begins: no new claims from now on (the next owner claims what is
   * due), and single-copy runs stop now, so the leader can hand their jobs on.
   */
  beginShutdown(): void {
    this.closing = true;
    this.stopSingleCopy('the agent is shutting down');
  }

  /** Stops claiming. Runs in flight go on; `drain()` waits for them. */
  stop(): void {
    this.stopped = true;
    for (const t of this.triggerTimers.values()) clearTimeout(t);
    for (const job of this.owned.values()) clearTimeout(job.timer);
  }

  async drain(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.pending.size && Date.now() < deadline) {
      await Promise.race([Promise.all(this.pending), new Promise((r) => setTimeout(r, 200))]);
    }
    if (this.pending.size) {
      for (const f of this.flights.values()) f.proc.stop('the agent is shutting down');
      await Promise.race([
        Promise.all(this.pending),
        new Promise((r) => setTimeout(r, this.opts.killGraceMs + 2000)),
      ]);
    }
  }

  ownedJobs(): string[] {
    return [...this.owned.values()].filter((j) => !j.standby).map((j) => j.name);
  }

  runningCount(): number {
    return this.flights.size;
  }

  /**
   * Stops every single-copy run (loops, semaphore holders) on this node: before a graceful
   * shutdown hands the jobs back, and whenever our lease may be gone. `graceMs` bounds
   * SIGTERM → SIGKILL, so they are dead before etcd could expire our lease.
   */
  stopSingleCopy(reason: string, graceMs?: number): void {
    for (const f of this.flights.values()) if (f.single) f.proc.stop(reason, graceMs);
  }

  // ---- ownership -------------------------------------------------------------

  private refresh(): void {
    if (this.stopped) return;
    const mine = new Map<string, { rev: number; standby?: { owner: string } }>();
    const me = this.membership;
    for (const e of this.mirrors.assignments.entries.values()) {
      const a = decodeOr<Assignment>('assignment', e.key, e.value, (err) => this.log(err.message));
      if (a && a.node === me.id && a.epoch === me.epoch) {
        mine.set(keys.assignmentJob(e.key), { rev: e.modRevision });
      } else if (a?.standby && a.standby.node === me.id && a.standby.epoch === me.epoch) {
        mine.set(keys.assignmentJob(e.key), { rev: e.modRevision, standby: { owner: a.node } });
      }
    }
    for (const [name, job] of this.owned) {
      const specEntry = this.mirrors.jobs.entries.get(keys.job(name));
      const why = !specEntry
        ? 'the job was deleted'
        : specEntry.createRevision !== job.createRev
          ? 'the job was deleted and created again'
          : !mine.has(name)
            ? job.standby
              ? 'this node no longer stands by for the job'
              : 'the job is no longer assigned to this node'
            : undefined;
      if (why) this.leave(job, why);
    }
    for (const [name, { rev, standby }] of mine) {
      const specEntry = this.mirrors.jobs.entries.get(keys.job(name));
      if (!specEntry) continue;
      let job = this.owned.get(name);
      if (job && job.assignRev === rev && job.specRev === specEntry.modRevision) continue;
      const spec = decodeOr<JobSpec>('job', specEntry.key, specEntry.value, (err) => this.log(err.message));
      if (!spec) continue;
      if (this.admission?.refuses(spec as StoredJob, specEntry.modRevision, !standby)) {
        // Runs in flight (claimed under an earlier revision) finish; nothing new is claimed.
        if (job) clearTimeout(job.timer);
        this.owned.delete(name);
        continue;
      }
      let schedule: Schedule | undefined;
      try {
        schedule = spec.kind === 'loop' ? undefined : compileSchedule(spec);
      } catch (err) {
        this.log(`job ${name}: ${(err as Error).message}; not scheduling it until the spec is fixed`);
      }
      if (!job) {
        job = {
          name,
          ...(standby ? { standby } : {}),
          spec,
          specRev: specEntry.modRevision,
          createRev: specEntry.createRevision,
          schedule,
          assignRev: rev,
          cursor: undefined,
          timer: undefined,
          pumping: false,
          again: false,
          inFlight: new Map(),
          lastEndedAt: 0,
          outcomesSincePrune: 0,
          failures: 0,
          inDoubt: undefined,
          queued: false,
          resumeOnEnd: false,
          waitingFor: undefined,
        };
        this.owned.set(name, job);
        this.log(
          standby
            ? `standing by for job ${name} (owner ${standby.owner})`
            : `job ${name} assigned to this node`,
        );
      } else {
        if (!job.standby !== !standby)
          this.log(
            standby
              ? `job ${name}: moved; this node now stands by for it`
              : `job ${name} assigned to this node`,
          );
        job.standby = standby;
        job.spec = spec;
        job.specRev = specEntry.modRevision;
        job.schedule = schedule;
        job.assignRev = rev;
        job.cursor = undefined; // an apply may have moved it
      }
      this.pump(job);
    }
    this.claimTriggers();
  }

  /**
   * A job leaves this node (moved, deleted, re-created, lease lost): no new claims, runs
   * claimed ahead are not released (see launch), and its single-copy runs stop at once:
   * the job may start on another node as soon as their outcomes are written.
   */
  private leave(job: OwnedJob, why: string): void {
    this.log(`job ${job.name}: ${why}; no longer launching it here`);
    clearTimeout(job.timer);
    if (this.owned.get(job.name) === job) this.owned.delete(job.name);
    for (const f of job.inFlight.values()) if (f.single) f.proc.stop(why);
  }

  private onLeaseLost(): void {
    // Our jobs may already belong to another node. Single-copy runs are stopped so
    // that two copies of a long-running task never run; one-shot runs finish.
    for (const job of [...this.owned.values()]) this.leave(job, 'this node lost its lease');
    this.stopSingleCopy('this node lost its lease');
  }

  // ---- the per-job loop --------------------------------------------------------

  private pump(job: OwnedJob, delayMs = 0): void {
    clearTimeout(job.timer);
    if (this.stopped) return;
    job.timer = setTimeout(() => void this.step(job), Math.max(0, delayMs));
  }

  private async step(job: OwnedJob): Promise<void> {
    if (this.stopped || this.owned.get(job.name) !== job) return;
    if (job.pumping) {
      job.again = true;
      return;
    }
    job.pumping = true;
    try {
      const wait = await this.advance(job);
      job.failures = 0;
      if (wait !== undefined) this.pump(job, wait);
    } catch (err) {
      job.failures++;
      this.stats.etcdErrors++;
      this.writes.failed(err);
      job.cursor = undefined;
      const backoff = Math.min(200 * 2 ** Math.min(job.failures, 5), 5000);
      this.log(`job ${job.name}: ${(err as Error).message}; retrying in ${backoff} ms`);
      this.pump(job, backoff);
    } finally {
      job.pumping = false;
      if (job.again) {
        job.again = false;
        this.pump(job);
      }
    }
  }

  /** One step for a job; returns ms until the next step, or undefined to wait for an event. */
  private async advance(job: OwnedJob): Promise<number | undefined> {
    if (job.spec.paused || this.closing) return undefined;
    if (!this.membership.isLive() || this.hold()) return 500;
    if (!job.cursor) job.cursor = await this.readCursor(job.name);
    if (job.inDoubt) await this.settleInDoubt(job);
    const now = Date.now();
    if (job.standby) {
      if (job.spec.kind === 'loop' || job.spec.after?.length || !job.schedule) return undefined;
      return this.advanceStandby(job, now);
    }
    if (job.spec.kind === 'loop') return this.advanceLoop(job, now);
    if (job.spec.after?.length) return this.advanceDependent(job, now);
    if (!job.schedule) return undefined;
    return this.advanceScheduled(job, now);
  }

  /**
   * A standby looks at a time only once it is STANDBY_GRACE_MS past due, as if its clock
   * were that much behind, and claims it only if the cursor in etcd shows the owner has
   * not: the cursor's compare-and-set decides who launches.
   * The owner's runs in flight: one of the time the cursor stands at is most likely the
   * run the owner claimed just before it died (claimed ahead, its entry lingers until the
   * leader settles it), and does not hold the standby back. One of an earlier time has
   * outlived a later claim, so it is really running: the standby waits, and an overlap
   * policy is kept. (A cut-off owner's run of the cursor's own time may still be running
   * when the standby starts the next: overlap policies hold per node across a failover;
   * only single-copy runs, which never have a standby, hold everywhere.)
   */
  private async advanceStandby(job: OwnedJob, now: number): Promise<number | undefined> {
    const seen = now - STANDBY_GRACE_MS;
    const step = planDue(job.schedule!, job.cursor!.t, seen, {
      ...this.opts,
      claimAheadMs: 0,
      misfire: misfireOf(job.spec),
    });
    if (step.kind === 'done') return undefined;
    if (step.kind === 'wait') return step.until - seen;
    const fresh = await this.readCursor(job.name);
    if (fresh.modRev !== job.cursor!.modRev) {
      job.cursor = fresh; // the owner claimed (or skipped) it: look at the next time
      return 0;
    }
    const owner = job.standby!.owner;
    const ownerRuns = await this.cluster.ns
      .getAll()
      .prefix(keys.activeRun(owner, `${job.name}.`))
      .keys();
    const running = ownerRuns.some((key) => {
      const ref = parseRunId(keys.activeParse(key)?.runId ?? '');
      return ref?.job === job.name && ref.scheduledAt < fresh.t;
    });
    if (running && overlapOf(job.spec) !== 'allow') return 500;
    return this.advanceScheduled(job, seen, {
      decorate: (run) => {
        run.reason = `claimed by ${run.node}, standing by for ${owner}: the owner had not claimed it ${STANDBY_GRACE_MS} ms after its time`;
      },
    });
  }

  private async advanceScheduled(
    job: OwnedJob,
    now: number,
    standby?: { decorate: (run: RunRecord) => void },
  ): Promise<number | undefined> {
    const step = planDue(job.schedule!, job.cursor!.t, now, {
      ...this.opts,
      claimAheadMs: standby ? 0 : claimAheadFor(job.spec, this.opts.claimAheadMs),
      misfire: misfireOf(job.spec),
      queued: job.queued,
    });
    if (step.kind === 'done') return undefined;
    if (step.kind === 'wait') return step.until - now;
    const skips = step.skip ? [step.skip] : [];
    let launch = step.launch;
    const busy = [...job.inFlight.values()];
    const overlap = planOverlap({
      launch,
      cursor: step.cursor,
      now,
      busy: busy.map((f) => f.run.id),
      overlap: overlapOf(job.spec),
      catchUpAll: misfireOf(job.spec).policy === 'all',
      lateLimitMs: this.opts.lateLimitMs,
      nextRunId: launch === undefined ? '' : formatRunId({ job: job.name, scheduledAt: launch, attempt: 1 }),
    });
    switch (overlap.kind) {
      case 'go':
        break;
      case 'wait':
        return overlap.ms;
      case 'resume-on-end':
        job.resumeOnEnd = true;
        return undefined;
      case 'queue':
        job.queued = true;
        return undefined; // the run's end pumps this job again
      case 'skip':
        skips.push(overlap.skip);
        launch = undefined;
        break;
      case 'replace':
        for (const f of busy) f.proc.stop(overlap.reason);
        break;
    }
    const { ns } = this.cluster;
    const ops: IOperation[] = skips
      .map((s) => {
        const { ref, record: rec } = skippedRunRecord(
          {
            job: job.name,
            node: this.membership.id,
            epoch: this.membership.epoch,
            first: s.first,
            last: s.last,
            count: s.count,
            reason:
              (s.count === 1
                ? `not launched: ${s.reason}`
                : `${s.count ?? 'more than 10000'} times from ${iso(s.first)} to ${iso(s.last)} not launched: ${s.reason}`) +
              withOutages(this.writes.during(s.first, s.last)),
          },
          now,
        );
        return [
          ns.put(keys.run(ref)).value(encode(rec)),
          ...this.alertOps(skippedRun(rec, this.raiseContext(job), now)),
        ];
      })
      .flat();
    const cursor: Cursor = { t: step.cursor };
    const result = await this.claim(job, cursor, ops, launch, 'schedule', { decorate: standby?.decorate });
    if (result === 'busy') {
      // A semaphore is full: wait for a slot to free (the semaphore mirror pumps us),
      // and for times that wait past the misfire threshold, the misfire rules apply.
      return undefined;
    }
    if (result === 'conflict') return 50; // re-read and try again, without spinning
    job.queued = false;
    for (const s of skips) {
      this.emit('skipped', job.name, s.count ?? 1);
      this.stats.skippedRanges++;
      this.log(`job ${job.name}: ${s.count ?? 'many'} time(s) recorded as skipped: ${s.reason}`);
    }
    return 0;
  }

  private async advanceLoop(job: OwnedJob, now: number): Promise<number | undefined> {
    const cursor = job.cursor!;
    const times = job.spec.times ?? 0;
    if (times > 0 && cursor.n >= times) return undefined;
    if (job.inFlight.size > 0) return undefined; // the run's end pumps again
    // A copy of an earlier incarnation (deleted and re-created) may still be stopping.
    if (this.singleCopyInFlight(job.name)) return undefined;
    const at = Math.max(now, job.lastEndedAt ? job.lastEndedAt + loopDelayMs(job.spec) : now, cursor.t + 1);
    if (at > now) return at - now;
    const result = await this.claim(job, { t: at, n: cursor.n + 1 }, [], at, 'loop');
    return result === 'conflict' ? 50 : undefined;
  }

  /**
   * A job with `after` runs once each time every parent has completed a newer run
   * that meets its condition. The claim compares the parents' completion keys and our
   * cursor (which records the parent runs already used), so each set of parent
   * runs releases exactly one run, whichever node claims it.
   */
  private async advanceDependent(job: OwnedJob, now: number): Promise<number | undefined> {
    const cur = job.cursor!;
    const consumed = cur.consumed ?? {};
    const releases: { parent: string; run: string; status: string; modRev: number; condition: string }[] = [];
    for (const d of job.spec.after ?? []) {
      const e = this.mirrors.completions.entries.get(keys.completion(d.job));
      if (!e) return undefined;
      const rec = decodeOr<DepRecord>('dep', e.key, e.value, (err) => this.log(err.message));
      if (!rec || rec.run === consumed[d.job] || !conditionMet(d.condition, rec.status)) return undefined;
      releases.push({
        parent: d.job,
        run: rec.run,
        status: rec.status,
        modRev: e.modRevision,
        condition: d.condition,
      });
    }
    let at = Math.max(now, cur.t + 1);
    if (at % 1000 === 0) at += 1; // whole seconds belong to schedules
    const next: Cursor = {
      t: at,
      consumed: { ...consumed, ...Object.fromEntries(releases.map((r) => [r.parent, r.run])) },
    };
    const result = await this.claim(job, next, [], at, 'dependency', {
      compares: releases.map((r) => [keys.completion(r.parent), r.modRev]),
      decorate: (run) => {
        run.releasedBy = releases.map((r) => r.run);
        run.reason = `released by ${releases.map((r) => `${r.run} (${r.status}, condition ${r.condition})`).join(' and ')}`;
      },
    });
    return result === 'conflict' ? 50 : undefined;
  }

  private singleCopyInFlight(job: string): boolean {
    for (const f of this.flights.values()) if (f.single && f.run.job === job) return true;
    return false;
  }

  private async readCursor(job: string): Promise<CursorState> {
    const res = await this.cluster.ns.get(keys.cursor(job)).exec();
    return this.cursorFrom(job, res.kvs[0]);
  }

  private cursorFrom(
    job: string,
    kv: { value: Buffer; mod_revision: string | number } | undefined,
  ): CursorState {
    if (!kv) return { t: Date.now(), n: 0, modRev: 0 };
    const c = decodeOr<Cursor>('cursor', keys.cursor(job), kv.value, (err) => this.log(err.message));
    // A corrupt cursor restarts from now; the claim compares its revision, so this is still safe.
    return { t: c?.t ?? Date.now(), n: c?.n ?? 0, consumed: c?.consumed, modRev: Number(kv.mod_revision) };
  }

  // ---- claims ------------------------------------------------------------------

  private async claim(
    job: OwnedJob,
    next: Cursor,
    extraOps: IOperation[],
    launchAt: number | undefined,
    cause: RunCause,
    extra: { compares?: [string, number][]; decorate?: (run: RunRecord) => void } = {},
  ): Promise<'claimed' | 'conflict' | 'busy'> {
    const me = this.membership;
    const cur = job.cursor!;
    const slots = launchAt === undefined ? [] : this.freeSlots(job);
    if (!slots) return 'busy';
    let run: RunRecord | undefined;
    if (launchAt !== undefined) {
      run = this.newRun(job, { job: job.name, scheduledAt: launchAt, attempt: 1 }, cause);
      if (slots.length) run.holds = slots;
      extra.decorate?.(run);
      job.inDoubt = { run, launchAt };
    }
    const parts = claimParts(this.cluster.ns, this.claimant(), {
      job: job.name,
      assignRev: job.assignRev,
      createRev: job.createRev,
      cursorRev: cur.modRev,
      next,
      run: run && { record: run, single: isSingleCopy(job.spec, run) },
      extraOps,
      compares: extra.compares ?? [],
    });
    const res = await this.claims.commit(parts, {
      alone: slots.length > 0,
      inDoubt: (err) => this.readBack(run, err),
    });
    if (res.ok) this.writes.ok();
    job.inDoubt = undefined;
    if (!res.ok) {
      this.stats.claimConflicts++;
      const [cursorKv, assignKv, nodeKv, runKv] = res.found;
      const conflict = claimConflict(
        {
          nodeCreate: nodeKv && Number(nodeKv.create_revision),
          assignMod: assignKv && Number(assignKv.mod_revision),
          cursorMod: cursorKv && Number(cursorKv.mod_revision),
          run: !!runKv,
          jobCreate: this.mirrors.jobs.entries.get(keys.job(job.name))?.createRevision,
        },
        {
          epoch: me.epoch,
          assignRev: job.assignRev,
          cursorRev: cur.modRev,
          jobCreate: job.createRev,
          launching: !!run,
        },
      );
      switch (conflict) {
        case 'lease-gone': // membership will tell everyone
        case 'slot-taken':
          job.cursor = undefined;
          break;
        case 'unassigned':
        case 'recreated': // the mirror's change leaves the job
          job.cursor = undefined;
          this.refresh();
          break;
        case 'cursor-moved':
          job.cursor = this.cursorFrom(job.name, cursorKv);
          break;
        case 'run-exists':
          this.log(`run ${run!.id} already exists; not launching that time again`);
          job.cursor = { ...cur, t: next.t, n: next.n ?? cur.n };
          break;
      }
      return 'conflict';
    }
    job.cursor = {
      t: next.t,
      n: next.n ?? cur.n,
      consumed: next.consumed ?? cur.consumed,
      modRev: res.revision,
    };
    this.stats.claims++;
    if (run) this.launch(job, run, res.revision, launchAt!);
    return 'claimed';
  }

  private claimant(): Claimant {
    const me = this.membership;
    return { id: me.id, epoch: me.epoch, leaseId: me.leaseId };
  }

  private raiseContext(job: OwnedJob): RaiseContext {
    return { config: this.alerting.current, jobAlerts: job.spec.alerts };
  }

  private alertOps(alerts: AlertRecord[]): IOperation[] {
    return alerts.map((a) => this.cluster.ns.put(keys.alert(a.id)).value(encode(a)));
  }

  /** The job's latest completion as this node last saw it (the streak and last success carry on from it). */
  private lastCompletion(job: string): DepRecord | undefined {
    const e = this.mirrors.completions.entries.get(keys.completion(job));
    return e && decodeOr<DepRecord>('dep', e.key, e.value, (err) => this.log(err.message));
  }

  /**
   * One free slot of each semaphore the job needs (concurrency, mutex, resources),
   * as seen in our mirror; the claim checks each is still free. null if one is full.
   */
  private freeSlots(job: OwnedJob): string[] | null {
    const pick = pickSlots(semaphoresOf(job.spec), (key) => this.mirrors.semaphores.entries.has(key));
    job.waitingFor = pick.full;
    return pick.slots ?? null;
  }

  /** After an unconfirmed claim: launch it if it did commit, so no claimed time stays unrun. */
  private async settleInDoubt(job: OwnedJob): Promise<void> {
    const { run, launchAt } = job.inDoubt!;
    const kv = (await this.cluster.ns.get(keys.run(run)).exec()).kvs[0];
    job.inDoubt = undefined;
    const rec = kv && decodeOr<RunRecord>('run', keys.run(run), kv.value, () => undefined);
    if (
      rec &&
      rec.node === run.node &&
      rec.epoch === run.epoch &&
      rec.claimedAt === run.claimedAt &&
      rec.status === 'running'
    ) {
      this.log(`claim of ${run.id} had committed after all; launching it now`);
      this.launch(job, rec, Number(kv.mod_revision), launchAt);
    }
  }

  private newRun(job: OwnedJob, ref: RunRef, cause: RunCause): RunRecord {
    return {
      ...(job.spec.uid ? { uid: job.spec.uid } : {}),
      id: formatRunId(ref),
      job: ref.job,
      node: this.membership.id,
      epoch: this.membership.epoch,
      attempt: ref.attempt,
      cause,
      scheduledAt: ref.scheduledAt,
      claimedAt: Date.now(),
      status: 'running',
      ...runIsolationFields(this.owned.get(ref.job)?.spec, formatRunId(ref)),
    };
  }

  /**
   * Commits a claim. A transport error leaves it in doubt (the client may have
   * delivered it): read the run key back and look for our own claim in it.
   */
  private async commitOrReadBack(
    txn: { commit(): Promise<TxnResponse> },
    run: RunRecord | undefined,
  ): Promise<ClaimResult> {
    try {
      const res = await txn.commit();
      if (res.succeeded) return { ok: true, revision: Number(res.header.revision) };
      return { ok: false, found: res.responses.map((r) => r.response_range?.kvs[0] ?? undefined) };
    } catch (err) {
      return this.readBack(run, err);
    }
  }

  /** After a transport error: our claim committed if the run key holds our own record. */
  private async readBack(run: RunRecord | undefined, err: unknown): Promise<ClaimResult> {
    if (!run) throw err;
    const back = await this.cluster.ns.get(keys.run(run)).exec();
    const kv = back.kvs[0];
    if (kv) {
      const mine = decodeOr<RunRecord>('run', keys.run(run), kv.value, () => undefined);
      if (mine && mine.node === run.node && mine.epoch === run.epoch && mine.claimedAt === run.claimedAt) {
        this.log(`claim of ${run.id} reported "${(err as Error).message}" but had committed; launching`);
        return { ok: true, revision: Number(kv.mod_revision) };
      }
    }
    throw err;
  }

  /** Runs asked for by hand (`job run`) or by the leader's at-least-once re-run. */
  private claimTriggers(): void {
    if (this.stopped || this.closing || !this.membership.isLive() || this.hold()) return;
    for (const e of this.mirrors.triggers.entries.values()) {
      const ref = keys.triggerRef(e.key);
      if (!ref || this.claimingTriggers.has(e.key)) continue;
      const job = this.owned.get(ref.job);
      if (!job || job.standby) continue; // manual runs and retries are the owner's
      const trig = decodeOr<TriggerRecord>('trigger', e.key, e.value, () => undefined);
      const wait = (trig?.notBefore ?? 0) - Date.now();
      if (wait > 0) {
        // A retry waiting for its backoff: look again when it is due.
        if (!this.triggerTimers.has(e.key)) {
          this.triggerTimers.set(
            e.key,
            setTimeout(() => {
              this.triggerTimers.delete(e.key);
              this.claimTriggers();
            }, wait),
          );
        }
        continue;
      }
      this.claimingTriggers.add(e.key);
      void this.claimTrigger(job, ref, e.key, e.value)
        .catch((err) => this.log(`trigger ${e.key}: ${(err as Error).message}`))
        .finally(() => this.claimingTriggers.delete(e.key));
    }
  }

  private async claimTrigger(job: OwnedJob, ref: RunRef, key: string, value: Buffer): Promise<void> {
    const { ns } = this.cluster;
    const trig = decodeOr<TriggerRecord>('trigger', key, value, (err) => this.log(err.message));
    const run = this.newRun(job, ref, ref.attempt > 1 ? 'retry' : 'manual');
    if (trig) run.reason = trig.reason;
    if (job.spec.kind === 'loop' && this.singleCopyInFlight(job.name)) {
      // A loop runs as one copy: a manual run asked for while it runs is recorded, not started.
      run.status = 'skipped';
      run.reason = `not started: a copy of the loop ${job.name} is running, and a loop never runs as two copies`;
      await skippedTriggerTxn(ns, this.claimant(), key, ref, run).commit();
      return;
    }
    const slots = this.freeSlots(job);
    if (!slots) return; // claimed when a slot frees (the semaphore mirror calls claimTriggers)
    if (slots.length) run.holds = slots;
    // A loop's manual run is one of its iterations: it advances the loop's cursor in the same
    // claim, so it and the loop's own next iteration cannot both start (one copy, always).
    let loopCursor: { rev: number; next: Cursor } | undefined;
    if (job.spec.kind === 'loop') {
      const cur = (job.cursor ??= await this.readCursor(job.name));
      loopCursor = { rev: cur.modRev, next: { t: Math.max(Date.now(), cur.t + 1), n: cur.n + 1 } };
    }
    const txn = triggerClaimTxn(ns, this.claimant(), {
      job: job.name,
      assignRev: job.assignRev,
      createRev: job.createRev,
      trigger: key,
      run,
      single: isSingleCopy(job.spec, run),
      loopCursor,
    });
    const res = await this.commitOrReadBack(txn, run);
    if (!res.ok) {
      // The run exists already (a retry of an old trigger): drop the trigger so it cannot fire again.
      const exists = await ns.get(keys.run(ref)).exists();
      if (exists) await ns.delete().key(key).exec();
      else if (loopCursor) {
        job.cursor = undefined; // the loop moved on meanwhile: look again shortly
        setTimeout(() => this.claimTriggers(), 100).unref();
      }
      return;
    }
    if (loopCursor) job.cursor = { t: loopCursor.next.t, n: loopCursor.next.n ?? 0, modRev: res.revision };
    this.stats.claims++;
    this.launch(job, run, res.revision, Date.now());
  }

  // ---- launch and outcome ------------------------------------------------------

  private launch(job: OwnedJob, run: RunRecord, claimRev: number, releaseAt: number): void {
    const spec = job.spec;
    const batcher = new OutputBatcher({
      flushMs: 200,
      maxBatchBytes: 16 << 10,
      capBytes: this.opts.shipCapBytes,
      send: async (data, seq) => void (await this.logLeases.put(run.id, seq, data)),
      onError: () => this.stats.etcdErrors++,
    });
    const env = {
      ...spec.env,
      PEPPERCORN_JOB: run.job,
      PEPPERCORN_RUN_ID: run.id,
      PEPPERCORN_NODE: run.node,
      PEPPERCORN_SCHEDULED_AT: iso(run.scheduledAt),
      PEPPERCORN_ATTEMPT: String(run.attempt),
    };
    const proc = prepareRun({
      runId: run.id,
      command: spec.command,
      env,
      isolation: isolationFor(spec, { runId: run.id, env }),
      // A container job's user and workdir are the container's (see runner/container.ts).
      workdir: spec.image ? undefined : spec.workdir,
      user: spec.image ? undefined : spec.user,
      timeoutMs: jobTimeoutMs(spec),
      killGraceMs: this.opts.killGraceMs,
      logFile: runLogPath(this.opts.dataDir, run.job, run.id),
      logFileCapBytes: this.opts.logFileCapBytes,
      onOutput: (chunk) => batcher.push(chunk),
      tailBytes: this.opts.tailBytes,
      startLine: this.releases.line(releaseAt),
      singleCopy: isSingleCopy(spec, run),
    });
    const flight: InFlight = { run, claimRev, slotRev: claimRev, proc, job, single: isSingleCopy(spec, run) };
    job.inFlight.set(run.id, flight);
    this.flights.set(run.id, flight);
    const release = () => {
      // The claim is in etcd, but it must still stand: if our lease lapsed, the job left
      // this node, was deleted or re-created, or paused since, launching now could run next
      // to the new owner or launch a time that is no longer ours. Record why instead.
      const why = releaseRefusal({
        held: this.hold(),
        live: this.membership.isLive(),
        stillOwned: this.owned.get(run.job) === job,
        paused: job.spec.paused && run.cause !== 'manual' && run.cause !== 'retry',
      });
      if (why) {
        flight.notReleased = why;
        proc.cancel();
        return;
      }
      proc.release();
      this.stats.launches++;
      this.emit('launched', run, Date.now() - run.scheduledAt);
    };
    this.releases.at(releaseAt, release);
    const done = proc.done
      .then(async (outcome) => {
        await batcher.close().catch(() => undefined);
        job.inFlight.delete(run.id);
        this.flights.delete(run.id);
        job.lastEndedAt = Date.now();
        if (job.spec.kind === 'loop' || job.queued || job.resumeOnEnd) {
          job.resumeOnEnd = false;
          this.pump(job);
        }
        // A job re-created under the same name waits for this incarnation's single copy.
        const current = this.owned.get(run.job);
        if (current && current !== job && flight.single) this.pump(current);
        await this.recordOutcome(job, flight, outcome);
      })
      .catch((err) => this.log(`run ${run.id}: ${(err as Error).message}`));
    this.pending.add(done);
    void done.finally(() => this.pending.delete(done));
  }

  private async recordOutcome(job: OwnedJob, flight: InFlight, outcome: RunOutcome): Promise<void> {
    const { run, retry } = recordedOutcome(flight.run, outcome, {
      notReleased: flight.notReleased,
      retries: job.spec.retries?.count ?? 0,
      retryDelayMs: (attempt) => retryDelayMs(job.spec, attempt),
      now: Date.now(),
    });
    const { ns } = this.cluster;
    const retryOp = retry && ns.put(keys.trigger(retry.ref)).value(encode(retry.trigger));
    // A complete run (a failed attempt that will be retried is not) updates the job's
    // completion key, which releases the jobs that run after it, and raises its alerts:
    // all in the same write as the outcome.
    // Computed at each attempt: the completion carries on from the latest one we know.
    const doneOps = (): IOperation[] => {
      if (run.status === 'skipped') return this.alertOps(skippedRun(run, this.raiseContext(job), Date.now()));
      if (retryOp) return [retryOp];
      const done = completeRun(run, this.lastCompletion(run.job), this.raiseContext(job), Date.now());
      return [ns.put(keys.completion(run.job)).value(encode(done.completion)), ...this.alertOps(done.alerts)];
    };
    // Retry for a long while: etcd may be restarting; the outcome is the operator's only record.
    let ours = run.holds ?? [];
    for (let attempt = 0; attempt < 120; attempt++) {
      try {
        const res = await outcomeTxn(ns, {
          run,
          claimRev: flight.claimRev,
          slots: ours,
          slotRev: flight.slotRev,
          extraOps: doneOps(),
        }).commit();
        if (!res.succeeded) {
          const [runKv, ...slotKvs] = res.responses.map((r) => r.response_range?.kvs[0]);
          let found: RunRecord | undefined;
          try {
            found = runKv && decode<RunRecord>('run', keys.run(run), runKv.value);
          } catch {
            found = undefined;
          }
          const next = outcomeConflict({
            ours,
            slotCreates: slotKvs.map((kv) => Number(kv?.create_revision ?? 0)),
            slotRev: flight.slotRev,
            found: found && { run: found, modRev: Number(runKv!.mod_revision) },
          });
          if (next.kind === 'fewer-slots') ours = next.ours;
          else if (next.kind === 'release-only') {
            await this.releaseHolds(flight);
            return;
          } else {
            run.reason = next.reason;
            flight.claimRev = next.claimRev;
          }
          continue;
        }
        this.writes.ok();
        this.maybePrune(job);
        this.emit('outcome', run);
        return;
      } catch (err) {
        this.writes.failed(err);
        if (attempt === 0)
          this.log(`recording the outcome of ${run.id} failed (${(err as Error).message}); retrying`);
        await new Promise((r) => setTimeout(r, Math.min(500 * (attempt + 1), 5000)));
      }
    }
    this.log(`gave up recording the outcome of ${run.id}; the leader will mark it lost`);
  }

  /**
   * Releases a run's in-flight entry and semaphore slots without touching its record. A slot
   * is deleted only if it is still the one this claim created (etcd may have expired our
   * lease and given it to another run).
   */
  private async releaseHolds(flight: InFlight): Promise<void> {
    const { ns } = this.cluster;
    const { run } = flight;
    await ns.delete().key(keys.activeRun(run.node, run.id)).exec();
    for (const slot of run.holds ?? [])
      await ns.if(slot, 'Create', '==', flight.slotRev).then(ns.delete().key(slot)).commit();
  }

  /** Keeps a job's run history bounded by count and age; amortised over outcomes. */
  private maybePrune(job: OwnedJob): void {
    if (++job.outcomesSincePrune < Math.max(1, Math.floor(this.opts.keepRuns / 10))) return;
    job.outcomesSincePrune = 0;
    void (async () => {
      const { ns } = this.cluster;
      const prefix = keys.jobRuns(job.name);
      const newest = await ns
        .getAll()
        .prefix(prefix)
        .sort('Key', 'Descend')
        .limit(this.opts.keepRuns + 1)
        .keys();
      let end = keys.runsFrom(job.name, Date.now() - this.opts.keepRunsMs);
      if (newest.length > this.opts.keepRuns) {
        const byCount = newest[this.opts.keepRuns] + '\0';
        if (byCount > end) end = byCount;
      }
      // Never a record that is still running or in doubt: its outcome write needs it, and
      // it is what an operator reads about a run in flight.
      const old = await ns.getAll().inRange({ start: prefix, end }).strings();
      const doomed = Object.entries(old)
        .filter(([key, value]) => prunable(decodeOr<RunRecord>('run', key, value, () => undefined)))
        .map(([key]) => key);
      for (let i = 0; i < doomed.length; i += 50)
        await Promise.all(doomed.slice(i, i + 50).map((k) => ns.delete().key(k).exec()));
    })().catch((err) => this.log(`pruning runs of ${job.name}: ${(err as Error).message}`));
  }
}

function withOutages(outages: WriteOutage[]): string {
  return outages.length ? `; ${outageNote(outages)}` : '';
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
