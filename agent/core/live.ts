// A live, shared picture of one cluster for the desktop console: one PrefixMirror
// per key family, however many views watch. Readers call snapshot(); 'change' is
// emitted (coalesced) when anything under the mirrored prefixes changes.
// Lives in core because it reads keys: only core knows key names.
import { EventEmitter } from 'node:events';
import type { Cluster } from './etcd';
import { keys } from './keys';
import { PrefixMirror, type Entry } from './mirror';
import {
  decodeOr,
  type ActiveEntry,
  type Assignment,
  type Cursor,
  type RunRecord,
  type RunStatus,
} from './records';
import type { JobSpec } from './job/spec';
import { compileSchedule } from './job/schedule';
import { nodeViews, type NodeView } from './node-views';

export interface LiveJob {
  spec: JobSpec;
  owner: string | null;
  /** Next firing time after max(now, cursor), null if none or the schedule does not compile. */
  next: number | null;
  last: { status: RunStatus; at: number; runId: string } | null;
}

export interface LiveRun {
  runId: string;
  job: string;
  node: string;
  since: number;
}

export interface LiveSnapshot {
  revision: number;
  nodes: NodeView[];
  jobs: LiveJob[];
  running: LiveRun[];
  recentFailures: RunRecord[];
  outcomes: Partial<Record<RunStatus, number>>;
  warnings: string[];
}

const FAILED: readonly RunStatus[] = ['failed', 'timeout', 'lost'];

export class ClusterLive extends EventEmitter {
  private readonly mirrors: Record<
    'nodes' | 'members' | 'leader' | 'cordons' | 'jobs' | 'assign' | 'active' | 'cursors' | 'runs',
    PrefixMirror
  >;
  private readonly nextCache = new Map<string, { rev: number; cursor: number; next: number | null }>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  warnings: string[] = [];

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
      // Bounded by the agents' per-job run retention (--keep-runs); see the report on scale.
      runs: m(keys.runs),
    };
    for (const mirror of Object.values(this.mirrors)) mirror.on('change', () => this.changed());
  }

  /** Starts every mirror; resolves when all listed once (never rejects: mirrors retry). */
  start(): Promise<void> {
    return Promise.all(Object.values(this.mirrors).map((m) => m.start())).then(() => undefined);
  }

  /** Re-list everything now (after our own write, or when etcd came back). */
  resync(): Promise<void> {
    return Promise.all(Object.values(this.mirrors).map((m) => m.sync())).then(() => undefined);
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
    this.removeAllListeners();
  }

  private changed(): void {
    if (this.closed || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.emit('change');
    }, this.opts.coalesceMs ?? 50);
  }

  snapshot(now = Date.now()): LiveSnapshot {
    const warnings: string[] = [];
    const warn = (e: Error) => warnings.push(e.message);
    const dec = <T>(kind: Parameters<typeof decodeOr>[0], e: Entry) =>
      decodeOr<T>(kind, e.key, e.value, warn);
    const { nodes, members, leader, cordons, jobs, assign, active, cursors, runs } = this.mirrors;

    const views = nodeViews(
      {
        members: members.entries.values(),
        nodes: nodes.entries.values(),
        leader: leader.entries.get(keys.leader),
        active: active.entries.values(),
        assignments: assign.entries.values(),
        cordons: cordons.entries.values(),
      },
      warn,
    );
    const running: LiveRun[] = [];
    for (const e of active.entries.values()) {
      const ref = keys.activeParse(e.key);
      const entry = dec<ActiveEntry>('active', e);
      if (ref && entry)
        running.push({ runId: ref.runId, job: entry.job, node: ref.node, since: entry.since });
    }
    const owners = new Map<string, string>();
    for (const e of assign.entries.values()) {
      const a = dec<Assignment>('assignment', e);
      if (!a) continue;
      owners.set(keys.assignmentJob(e.key), a.node);
    }

    const last = new Map<string, LiveJob['last']>();
    const outcomes: Partial<Record<RunStatus, number>> = {};
    const failures: RunRecord[] = [];
    for (const e of runs.entries.values()) {
      const r = dec<RunRecord>('run', e);
      if (!r) continue;
      outcomes[r.status] = (outcomes[r.status] ?? 0) + 1;
      const at = r.endedAt ?? r.startedAt ?? r.scheduledAt;
      const prev = last.get(r.job);
      if (!prev || prev.at <= at) last.set(r.job, { status: r.status, at, runId: r.id });
      if (FAILED.includes(r.status)) failures.push(r);
    }
    failures.sort((a, b) => (b.endedAt ?? b.scheduledAt) - (a.endedAt ?? a.scheduledAt));

    const out: LiveJob[] = [];
    for (const e of jobs.entries.values()) {
      const spec = dec<JobSpec>('job', e);
      if (!spec) continue;
      const ce = cursors.entries.get(keys.cursor(spec.name));
      const cursor = (ce && dec<Cursor>('cursor', ce)?.t) ?? 0;
      out.push({
        spec,
        owner: owners.get(spec.name) ?? null,
        next: this.nextOf(spec, e.modRevision, cursor, now),
        last: last.get(spec.name) ?? null,
      });
    }
    out.sort((a, b) => (a.spec.name < b.spec.name ? -1 : 1));
    this.warnings = warnings;
    return {
      revision: Math.max(...Object.values(this.mirrors).map((m) => m.revision)),
      nodes: views,
      jobs: out,
      running: running.sort((a, b) => b.since - a.since),
      recentFailures: failures.slice(0, 20),
      outcomes,
      warnings,
    };
  }

  /** Cached per job revision and cursor, so a snapshot of 10,000 jobs does not recompile them all. */
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
