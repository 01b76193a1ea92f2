// A live, shared picture of one cluster for the desktop console, bounded whatever the
// history: one PrefixMirror per small key family (nodes, jobs, assignments, cursors,
// runs in flight), however many views watch, and a RunDigest for the run history that
// keeps only what the overview shows. Full history is read on demand (Store.listRuns).
// Changes are coalesced and published as deltas ('delta': what changed since the last
// one); snapshot() is the state as of the last delta, so a new reader takes a snapshot
// and then applies the deltas that follow.
// The console's server only: agents never hold this picture.
import { EventEmitter } from 'node:events';
import type { Namespace } from 'etcd3';
import type { Cluster } from '../../core/etcd';
import { keys, formatRunId } from '../../core/keys';
import { PrefixMirror, type Entry, type MirrorFold } from '../../core/mirror';
import {
  decodeOr,
  FINAL_STATUSES,
  type ActiveEntry,
  type Assignment,
  type CorruptValueError,
  type Cursor,
  type NodeRecord,
  type RecordKind,
  type RunRecord,
  type RunStatus,
} from '../../core/records';
import type { JobSpec } from '../../core/job/spec';
import { compileSchedule } from '../../core/job/schedule';
import { nodeViews, type NodeView, type RunInFlight } from '../../api/node-views';

export interface LastOutcome {
  status: RunStatus;
  at: number;
  runId: string;
}

export interface LiveJob {
  spec: JobSpec;
  owner: string | null;
  /** Next firing time after max(now, cursor), null if none or the schedule does not compile. */
  next: number | null;
  last: LastOutcome | null;
}

/** A run record without its output tail: what the overview keeps of a failure. */
export type RunSummary = Omit<RunRecord, 'tail'>;

export interface LiveSnapshot {
  revision: number;
  nodes: NodeView[];
  jobs: LiveJob[];
  running: RunInFlight[];
  recentFailures: RunSummary[];
  /** Runs that ended within OUTCOME_WINDOW_MS, by outcome. */
  outcomes: Partial<Record<RunStatus, number>>;
  warnings: string[];
}

/** Changed and removed items by id; the small parts (outcomes, failures, warnings) whole. */
export interface LiveDelta {
  revision: number;
  nodes?: { changed: NodeView[]; removed: string[] };
  jobs?: { changed: LiveJob[]; removed: string[] };
  running?: { changed: RunInFlight[]; removed: string[] };
  recentFailures?: RunSummary[];
  outcomes?: Partial<Record<RunStatus, number>>;
  warnings?: string[];
}

/** How many structures the picture holds: what the scale test counts. */
export interface LiveFootprint {
  /** Entries held by the mirrors (nodes, jobs, assignments, cursors, runs in flight...). */
  mirrored: number;
  /** Jobs with a last outcome: at most one per job. */
  lastOutcomes: number;
  failures: number;
  outcomeBuckets: number;
  published: number;
}

export const OUTCOME_WINDOW_MS = 24 * 3600_000;
const BUCKET_MS = 10 * 60_000;
export const FAILURES_KEPT = 20;
const WARNINGS_KEPT = 50;
/** Run records per read while scanning the history: well under the client's 4 MiB reply cap. */
const SCAN_PAGE = 500;

const FAILED: readonly RunStatus[] = ['failed', 'timeout', 'lost'];
const isFinal = (s: RunStatus | undefined) => !!s && FINAL_STATUSES.includes(s);
const isFailed = (s: RunStatus | undefined) => !!s && FAILED.includes(s);
const endOf = (r: RunRecord) => r.endedAt ?? r.startedAt ?? r.scheduledAt;

function summary(r: RunRecord): RunSummary {
  const s: RunSummary & { tail?: string } = { ...r };
  delete s.tail;
  return s;
}

/** What is folded from run records: nothing per run, so memory follows jobs, not runs. */
class RunFolds {
  last = new Map<string, LastOutcome>();
  failures: RunSummary[] = [];
  buckets = new Map<number, Partial<Record<RunStatus, number>>>();
  /** Jobs whose last outcome changed since takeChanges(); null: all of them (a re-list). */
  changedJobs: Set<string> | null = new Set();
  countsChanged = false;

  constructor(private readonly warn: (key: string, err: CorruptValueError | null) => void) {}

  fold(key: string, value: Buffer, prevValue: Buffer | undefined, now: number): void {
    const r = decodeOr<RunRecord>('run', key, value, (e) => this.warn(key, e));
    if (!r) return;
    this.warn(key, null);
    let prev: RunStatus | undefined;
    if (prevValue) {
      try {
        prev = (JSON.parse(prevValue.toString()) as { status?: RunStatus }).status;
      } catch {
        prev = undefined;
      }
    }
    const at = endOf(r);
    const l = this.last.get(r.job);
    if (!l || l.runId === r.id || l.at <= at) {
      this.last.set(r.job, { status: r.status, at, runId: r.id });
      this.changedJobs?.add(r.job);
    }
    // Counted once: when the run reaches an outcome, not again when its record is rewritten.
    if (isFinal(r.status) && !isFinal(prev) && at > now - OUTCOME_WINDOW_MS) {
      const start = at - (at % BUCKET_MS);
      const b = this.buckets.get(start) ?? {};
      b[r.status] = (b[r.status] ?? 0) + 1;
      this.buckets.set(start, b);
      this.countsChanged = true;
    }
    if (isFailed(r.status)) this.keepFailure(summary(r));
  }

  private keepFailure(r: RunSummary): void {
    const t = (x: RunSummary) => x.endedAt ?? x.scheduledAt;
    const list = this.failures.filter((f) => f.id !== r.id);
    if (list.length >= FAILURES_KEPT && t(r) <= t(list[list.length - 1])) return;
    let i = list.findIndex((f) => t(f) < t(r));
    if (i < 0) i = list.length;
    list.splice(i, 0, r);
    this.failures = list.slice(0, FAILURES_KEPT);
    this.countsChanged = true;
  }

  /** A run record deleted (pruned, or its job removed). */
  forget(key: string): void {
    this.warn(key, null);
    const ref = keys.runRef(key);
    if (!ref) return;
    const id = formatRunId(ref);
    if (this.last.get(ref.job)?.runId === id) {
      // Pruning takes the oldest runs, so this is the job going away; its next run sets it again.
      this.last.delete(ref.job);
      this.changedJobs?.add(ref.job);
    }
    if (this.failures.some((f) => f.id === id)) {
      this.failures = this.failures.filter((f) => f.id !== id);
      this.countsChanged = true;
    }
  }
}

/**
 * What the overview needs of the run history, folded from a PrefixMirror of the runs (listed
 * page by page, then watched with previous values, so an outcome is counted once, when a run
 * reaches it): each job's last outcome, outcome counts in time buckets over a window, and the
 * latest failures.
 */
export class RunDigest implements MirrorFold {
  private folds: RunFolds;
  private readonly mirror: PrefixMirror;
  private started = false;

  constructor(
    ns: Namespace,
    onChange: () => void,
    private readonly warn: (key: string, err: CorruptValueError | null) => void,
    onError: (err: Error) => void = () => undefined,
  ) {
    this.folds = new RunFolds(warn);
    // No periodic re-list: the history is large, and a re-list reads all of it.
    this.mirror = new PrefixMirror(ns, keys.runs, { fold: this, pageSize: SCAN_PAGE, resyncMs: 0, onError });
    this.mirror.on('change', (changed: string[] | null) => {
      if (changed === null || changed.length > 0) onChange();
    });
  }

  get last(): Map<string, LastOutcome> {
    return this.folds.last;
  }

  get failures(): RunSummary[] {
    return this.folds.failures;
  }

  get revision(): number {
    return this.mirror.revision;
  }

  /** Resolves after the first complete scan; retries until then. */
  start(): Promise<void> {
    this.started = true;
    return this.mirror.start();
  }

  /** Scan again now (etcd came back, or a watch failed). */
  resync(): Promise<void> {
    return this.started ? this.mirror.sync() : Promise.resolve();
  }

  close(): void {
    this.mirror.close();
  }

  outcomes(now: number): Partial<Record<RunStatus, number>> {
    const out: Partial<Record<RunStatus, number>> = {};
    for (const [start, counts] of this.folds.buckets) {
      if (start + BUCKET_MS <= now - OUTCOME_WINDOW_MS) {
        this.folds.buckets.delete(start);
        continue;
      }
      for (const [s, n] of Object.entries(counts) as [RunStatus, number][]) out[s] = (out[s] ?? 0) + n;
    }
    return out;
  }

  /** What changed since the last call: jobs whose last outcome moved (null: all), counts or failures. */
  takeChanges(): { jobs: Set<string> | null; counts: boolean } {
    const out = { jobs: this.folds.changedJobs, counts: this.folds.countsChanged };
    this.folds.changedJobs = new Set();
    this.folds.countsChanged = false;
    return out;
  }

  get bucketCount(): number {
    return this.folds.buckets.size;
  }

  // ---- MirrorFold: the mirror hands every listed and watched record here ----

  list(): { add(entry: Entry): void; done(): void } {
    const fresh = new RunFolds(this.warn);
    const now = Date.now();
    return {
      add: (e) => fresh.fold(e.key, e.value, undefined, now),
      done: () => {
        fresh.changedJobs = null;
        fresh.countsChanged = true;
        this.folds = fresh;
      },
    };
  }

  put(entry: Entry, prev: Buffer | undefined): void {
    this.folds.fold(entry.key, entry.value, prev, Date.now());
  }

  delete(key: string): void {
    this.folds.forget(key);
  }
}

type MirrorName = 'nodes' | 'members' | 'leader' | 'cordons' | 'jobs' | 'assign' | 'active' | 'cursors';
const NODE_MIRRORS: readonly MirrorName[] = ['nodes', 'members', 'leader', 'cordons', 'assign', 'active'];

interface PublishedJob {
  job: LiveJob;
  rev: number;
}

export class ClusterLive extends EventEmitter {
  private readonly mirrors: Record<MirrorName, PrefixMirror>;
  private readonly digest: RunDigest;
  private readonly nextCache = new Map<string, { rev: number; cursor: number; next: number | null }>();
  /** Decoded values by mirror entry: an entry object is replaced whenever its key changes. */
  private readonly decoded = new WeakMap<Entry, unknown>();
  /** Corrupt values met, by key, until the key is fixed or deleted. */
  private readonly keyWarnings = new Map<string, string>();
  private nodeWarnings: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  // What is pending for the next delta.
  private dirtyNodes = true;
  /** Job names; null: all of them (a re-list). */
  private dirtyJobs: Set<string> | null = null;
  /** Active keys; null: all of them (a re-list). */
  private dirtyRunning: Set<string> | null = null;

  // What the last delta published: snapshot() reads only these.
  private pubNodes = new Map<string, { view: NodeView; json: string }>();
  private pubJobs = new Map<string, PublishedJob>();
  /** By active key (a run id moves to another key if it is re-run elsewhere). */
  private pubRunning = new Map<string, RunInFlight>();
  private pubOutcomes: Partial<Record<RunStatus, number>> = {};
  private pubFailures: RunSummary[] = [];
  private pubWarnings: string[] = [];
  private pubRevision = 0;

  constructor(
    readonly cluster: Cluster,
    private readonly opts: { coalesceMs?: number; onError?: (err: Error) => void } = {},
  ) {
    super();
    const m = (prefix: string) =>
      new PrefixMirror(cluster.ns, prefix, { resyncMs: 30_000, onError: (e) => opts.onError?.(e) });
    this.mirrors = {
      nodes: m(keys.nodes),
      members: m(keys.members),
      leader: m(keys.leader),
      cordons: m(keys.cordons),
      jobs: m(keys.jobs),
      assign: m(keys.assignments),
      active: m(keys.active),
      cursors: m(keys.cursors),
    };
    for (const [name, mirror] of Object.entries(this.mirrors) as [MirrorName, PrefixMirror][])
      mirror.on('change', (changed: string[] | null) => this.mirrorChanged(name, changed));
    this.digest = new RunDigest(
      cluster.ns,
      () => this.changed(),
      (key, err) => this.noteWarning(key, err),
      (e) => opts.onError?.(e),
    );
  }

  /** Starts every mirror and the digest; resolves when all listed once (never rejects: they retry). */
  async start(): Promise<void> {
    await Promise.all([...Object.values(this.mirrors).map((m) => m.start()), this.digest.start()]);
    if (!this.closed) this.flush();
  }

  /** Re-list everything now (after our own write, or when etcd came back). */
  resync(): Promise<void> {
    return Promise.all([...Object.values(this.mirrors).map((m) => m.sync()), this.digest.resync()]).then(
      () => undefined,
    );
  }

  /** A cheap read that fails when etcd is unreachable. */
  async ping(): Promise<number> {
    const res = await this.cluster.ns.get(keys.leader).exec();
    return Number(res.header.revision);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    for (const mirror of Object.values(this.mirrors)) mirror.close();
    this.digest.close();
    this.removeAllListeners();
  }

  /** The clock moved: next-run times that passed, and outcomes leaving the window. */
  tick(now = Date.now()): void {
    if (this.closed) return;
    for (const [name, c] of this.nextCache) {
      // (null already means every job.)
      if (c.next !== null && c.next <= now) this.dirtyJobs?.add(name);
    }
    this.flush(now);
  }

  /** A node's record (pid, version...) and the lease its key is bound to. */
  nodeRecord(id: string): { record: NodeRecord; lease: string | null } | null {
    const live = this.mirrors.nodes.entries.get(keys.node(id));
    const e = live ?? this.mirrors.members.entries.get(keys.member(id));
    const record = e && this.dec<NodeRecord>('node', e);
    if (!record) return null;
    return { record, lease: live && live.lease !== '0' ? live.lease : null };
  }

  /** Seconds left on a lease and its granted TTL, as etcd tells; null when it has expired. */
  async leaseTtl(lease: string): Promise<{ ttl: number; granted: number } | null> {
    const res = await this.cluster.ns.leaseClient.leaseTimeToLive({ ID: lease });
    const ttl = Number(res.TTL);
    return ttl < 0 ? null : { ttl, granted: Number(res.grantedTTL) };
  }

  /** A node as last published. */
  node(id: string): NodeView | null {
    return this.pubNodes.get(id)?.view ?? null;
  }

  /** The nodes as last published, without building the whole snapshot. */
  nodes(): NodeView[] {
    return [...this.pubNodes.values()].map((n) => n.view);
  }

  /** The jobs a node owns, the most recently run first. */
  jobsOwnedBy(node: string): string[] {
    const owned: LiveJob[] = [];
    for (const { job } of this.pubJobs.values()) if (job.owner === node) owned.push(job);
    return owned.sort((a, b) => (b.last?.at ?? 0) - (a.last?.at ?? 0)).map((j) => j.spec.name);
  }

  footprint(): LiveFootprint {
    let mirrored = 0;
    for (const m of Object.values(this.mirrors)) mirrored += m.entries.size;
    return {
      mirrored,
      lastOutcomes: this.digest.last.size,
      failures: this.digest.failures.length,
      outcomeBuckets: this.digest.bucketCount,
      published: this.pubNodes.size + this.pubJobs.size + this.pubRunning.size + this.pubFailures.length,
    };
  }

  /** The picture as of the last delta. */
  snapshot(): LiveSnapshot {
    return {
      revision: this.pubRevision,
      nodes: [...this.pubNodes.values()].map((n) => n.view),
      jobs: [...this.pubJobs.values()].map((p) => p.job).sort((a, b) => (a.spec.name < b.spec.name ? -1 : 1)),
      running: [...this.pubRunning.values()].sort((a, b) => b.since - a.since),
      recentFailures: this.pubFailures,
      outcomes: this.pubOutcomes,
      warnings: this.pubWarnings,
    };
  }

  // ---- change tracking -------------------------------------------------------------

  private mirrorChanged(name: MirrorName, changed: string[] | null): void {
    const { entries, prefix } = this.mirrors[name];
    // A corrupt value deleted is no longer worth a warning.
    const touched = changed ?? [...this.keyWarnings.keys()].filter((k) => k.startsWith(prefix));
    for (const k of touched) if (!entries.has(k)) this.keyWarnings.delete(k);
    if (NODE_MIRRORS.includes(name)) this.dirtyNodes = true;
    if (name === 'jobs' || name === 'assign' || name === 'cursors') {
      if (changed === null) this.dirtyJobs = null;
      else if (this.dirtyJobs) for (const k of changed) this.dirtyJobs.add(k.slice(prefix.length));
    } else if (name === 'active') {
      if (changed === null) this.dirtyRunning = null;
      else if (this.dirtyRunning) for (const k of changed) this.dirtyRunning.add(k);
    }
    this.changed();
  }

  private changed(): void {
    if (this.closed || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, this.opts.coalesceMs ?? 50);
  }

  private noteWarning(key: string, err: CorruptValueError | null): void {
    if (err) this.keyWarnings.set(key, err.message);
    else this.keyWarnings.delete(key);
  }

  private dec<T>(kind: RecordKind, e: Entry): T | undefined {
    if (this.decoded.has(e)) return this.decoded.get(e) as T;
    const v = decodeOr<T>(kind, e.key, e.value, (err) => this.noteWarning(e.key, err));
    if (v !== undefined) this.noteWarning(e.key, null);
    this.decoded.set(e, v);
    return v;
  }

  // ---- publishing ------------------------------------------------------------------

  /** Computes what changed since the last delta, publishes it, and emits it if anything did. */
  private flush(now = Date.now()): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const delta: LiveDelta = { revision: 0 };
    let any = false;

    if (this.dirtyNodes) {
      this.dirtyNodes = false;
      const d = this.diffNodes();
      if (d) {
        delta.nodes = d;
        any = true;
      }
    }

    const digest = this.digest.takeChanges();
    if (digest.jobs === null) this.dirtyJobs = null;
    else if (this.dirtyJobs) for (const j of digest.jobs) this.dirtyJobs.add(j);
    const jobs = this.diffJobs(now);
    if (jobs) {
      delta.jobs = jobs;
      any = true;
    }

    const running = this.diffRunning();
    if (running) {
      delta.running = running;
      any = true;
    }

    const outcomes = this.digest.outcomes(now);
    if (JSON.stringify(outcomes) !== JSON.stringify(this.pubOutcomes)) {
      this.pubOutcomes = delta.outcomes = outcomes;
      any = true;
    }
    if (digest.counts && this.digest.failures !== this.pubFailures) {
      const ids = (l: RunSummary[]) => l.map((f) => `${f.id}:${f.status}`).join();
      if (ids(this.digest.failures) !== ids(this.pubFailures)) {
        delta.recentFailures = this.digest.failures;
        any = true;
      }
      this.pubFailures = this.digest.failures;
    }
    const warnings = [...this.nodeWarnings, ...this.keyWarnings.values()].slice(0, WARNINGS_KEPT);
    if (warnings.join('\n') !== this.pubWarnings.join('\n')) {
      this.pubWarnings = delta.warnings = warnings;
      any = true;
    }

    this.pubRevision = Math.max(this.digest.revision, ...Object.values(this.mirrors).map((m) => m.revision));
    delta.revision = this.pubRevision;
    if (any) this.emit('delta', delta);
  }

  private diffNodes(): LiveDelta['nodes'] | undefined {
    const { nodes, members, leader, cordons, assign, active } = this.mirrors;
    const warnings: string[] = [];
    const views = nodeViews(
      {
        members: members.entries.values(),
        nodes: nodes.entries.values(),
        leader: leader.entries.get(keys.leader),
        active: active.entries.values(),
        assignments: assign.entries.values(),
        cordons: cordons.entries.values(),
      },
      (e) => warnings.push(e.message),
    );
    this.nodeWarnings = [...new Set(warnings)];
    const changed: NodeView[] = [];
    const seen = new Set<string>();
    for (const view of views) {
      seen.add(view.id);
      const json = JSON.stringify(view);
      if (this.pubNodes.get(view.id)?.json === json) continue;
      this.pubNodes.set(view.id, { view, json });
      changed.push(view);
    }
    const removed = [...this.pubNodes.keys()].filter((id) => !seen.has(id));
    for (const id of removed) this.pubNodes.delete(id);
    if (changed.length || removed.length) {
      // Keep the published map in id order: snapshot() lists it as is.
      this.pubNodes = new Map([...this.pubNodes].sort(([a], [b]) => (a < b ? -1 : 1)));
      return { changed, removed };
    }
    return undefined;
  }

  private diffJobs(now: number): LiveDelta['jobs'] | undefined {
    const dirty = this.dirtyJobs;
    this.dirtyJobs = new Set();
    let names: Iterable<string>;
    if (dirty === null) {
      const all = new Set(this.pubJobs.keys());
      for (const k of this.mirrors.jobs.entries.keys()) all.add(keys.jobName(k));
      names = all;
    } else names = dirty;
    const changed: LiveJob[] = [];
    const removed: string[] = [];
    for (const name of names) {
      const cur = this.jobNow(name, now);
      const prev = this.pubJobs.get(name);
      if (!cur) {
        if (prev) {
          this.pubJobs.delete(name);
          removed.push(name);
        }
        this.nextCache.delete(name);
        continue;
      }
      if (prev && sameJob(prev, cur)) continue;
      this.pubJobs.set(name, cur);
      changed.push(cur.job);
    }
    return changed.length || removed.length ? { changed, removed } : undefined;
  }

  private jobNow(name: string, now: number): PublishedJob | null {
    const e = this.mirrors.jobs.entries.get(keys.job(name));
    const spec = e && this.dec<JobSpec>('job', e);
    if (!e || !spec) return null;
    const ae = this.mirrors.assign.entries.get(keys.assignment(name));
    const owner = (ae && this.dec<Assignment>('assignment', ae)?.node) ?? null;
    const ce = this.mirrors.cursors.entries.get(keys.cursor(name));
    const cursor = (ce && this.dec<Cursor>('cursor', ce)?.t) ?? 0;
    return {
      rev: e.modRevision,
      job: {
        spec,
        owner,
        next: this.nextOf(spec, e.modRevision, cursor, now),
        last: this.digest.last.get(name) ?? null,
      },
    };
  }

  private diffRunning(): LiveDelta['running'] | undefined {
    const dirty = this.dirtyRunning;
    this.dirtyRunning = new Set();
    const active = this.mirrors.active.entries;
    const changed: RunInFlight[] = [];
    const removed: string[] = [];
    for (const k of dirty ?? new Set([...this.pubRunning.keys(), ...active.keys()])) {
      const e = active.get(k);
      const ref = keys.activeParse(k);
      const entry = e && this.dec<ActiveEntry>('active', e);
      const prev = this.pubRunning.get(k);
      if (!ref || !entry) {
        if (prev) {
          this.pubRunning.delete(k);
          removed.push(prev.runId);
        }
        continue;
      }
      if (prev && prev.since === entry.since && prev.job === entry.job) continue;
      const run: RunInFlight = { runId: ref.runId, job: entry.job, node: ref.node, since: entry.since };
      this.pubRunning.set(k, run);
      changed.push(run);
    }
    return changed.length || removed.length ? { changed, removed } : undefined;
  }

  /** Cached per job revision and cursor, so 10,000 jobs are not recompiled at each change. */
  private nextOf(spec: JobSpec, rev: number, cursor: number, now: number): number | null {
    if (spec.kind === 'loop') return null;
    const cached = this.nextCache.get(spec.name);
    if (
      cached &&
      cached.rev === rev &&
      cached.cursor === cursor &&
      (cached.next === null || cached.next > now)
    )
      return cached.next;
    let next: number | null = null;
    try {
      next = compileSchedule(spec).next(Math.max(now, cursor));
    } catch {
      next = null;
    }
    this.nextCache.set(spec.name, { rev, cursor, next });
    return next;
  }
}

function sameJob(a: PublishedJob, b: PublishedJob): boolean {
  const la = a.job.last;
  const lb = b.job.last;
  return (
    a.rev === b.rev &&
    a.job.owner === b.job.owner &&
    a.job.next === b.job.next &&
    la?.runId === lb?.runId &&
    la?.status === lb?.status &&
    la?.at === lb?.at
  );
}
