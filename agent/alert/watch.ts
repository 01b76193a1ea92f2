// The alert conditions only the leader can judge, because they are about time passing
// or about the cluster rather than one run: a job that succeeds again resolves its
// open alerts, the dead-man's switch, nodes gone without leaving, a leaderless gap.
// Also keeps alerts bounded. Ids are derived from the condition (node epoch, last
// success), so a new leader re-judging the same condition finds the alert already there.
import { keys } from '../core/keys';
import type { PrefixMirror, Entry } from '../core/mirror';
import {
  decodeOr,
  type AlertRecord,
  type AlertRule,
  type DepRecord,
  type NodeRecord,
  type RecordKind,
} from '../core/records';
import type { JobSpec } from '../core/job/spec';
import { deadmanMs, effectiveAlertRules } from '../core/job/alert-rules';
import { formatDuration, parseDuration } from '../core/job/duration';
import { channelsFor, newAlert, resolveAlert } from '../core/alerting';
import type { AlertingView } from './config-view';
import type { AlertWriter } from './writer';

export interface AlertWatchMirrors {
  alerts: PrefixMirror;
  completions: PrefixMirror;
  jobs: PrefixMirror;
  nodes: PrefixMirror;
  members: PrefixMirror;
}

const TICK_MS = 1000;
/** Resolved alerts are kept this long, and at most this many, once their notices are done. */
export const KEEP_RESOLVED_MS = 7 * 86_400_000;
export const KEEP_RESOLVED = 1000;
/** A job failing on every run must not fill etcd: older open alerts beyond this are superseded. */
export const MAX_OPEN_PER_JOB = 100;

const JOB_RULES: readonly AlertRule[] = [
  'failure',
  'timeout',
  'lost',
  'missed',
  'consecutive-failures',
  'deadman',
  'refused',
];

interface Seen {
  alert: AlertRecord;
  entry: Entry;
}

export class AlertWatch {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private again = false;
  /** When this leader first saw a node gone, or a job with no success at all. */
  private downSince = new Map<string, number>();
  private noSuccessSince = new Map<string, number>();
  /** Decoded values by key, reused while the mod revision is unchanged (10,000 jobs, every second). */
  private decoded = new Map<string, { rev: number; value: unknown }>();
  private touched = new Set<string>();

  constructor(
    private readonly writer: AlertWriter,
    private readonly mirrors: AlertWatchMirrors,
    private readonly config: AlertingView,
    private readonly log: (msg: string) => void,
  ) {}

  start(): void {
    clearInterval(this.timer);
    this.downSince.clear();
    this.noSuccessSince.clear();
    this.timer = setInterval(() => this.kick(), TICK_MS);
    this.timer.unref();
    this.kick();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private kick(): void {
    if (!this.timer || !this.writer.fence.isLeader) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    void (async () => {
      try {
        do {
          this.again = false;
          await this.judge(Date.now());
          // Forget values of keys that are gone.
          for (const k of this.decoded.keys()) if (!this.touched.has(k)) this.decoded.delete(k);
          this.touched.clear();
        } while (this.again && this.timer);
      } catch (err) {
        this.log(`alert watch: ${(err as Error).message}`);
      } finally {
        this.running = false;
      }
    })();
  }

  /** After a leaderless gap (seen by this node, which now leads): an after-the-fact alert. */
  async leaderGap(since: number, until: number): Promise<void> {
    const config = this.config.current;
    const threshold = config.cluster.noLeader;
    if (threshold === undefined || until - since < parseDuration(threshold)) return;
    const alert = newAlert(
      {
        id: `no-leader.${since}`,
        rule: 'no-leader',
        summary:
          `the cluster had no leader for ${formatDuration(toSeconds(until - since))} (${new Date(since).toISOString()} to ` +
          `${new Date(until).toISOString()}): no job was assigned or moved and no alert was sent meanwhile`,
      },
      channelsFor(config, config.cluster.channels),
      false,
      until,
    );
    if (await this.writer.create(resolveAlert(alert, `${this.writer.fence.nodeId} became leader`, until)))
      this.log(`alert ${alert.id}: ${alert.summary}`);
  }

  private decode<T>(kind: RecordKind, e: Entry, report = true): T | undefined {
    this.touched.add(e.key);
    const hit = this.decoded.get(e.key);
    if (hit && hit.rev === e.modRevision) return hit.value as T | undefined;
    const value = decodeOr<T>(
      kind,
      e.key,
      e.value,
      report ? (err) => this.log(err.message) : () => undefined,
    );
    this.decoded.set(e.key, { rev: e.modRevision, value });
    return value;
  }

  private decodeAll(): Seen[] {
    const out: Seen[] = [];
    for (const entry of this.mirrors.alerts.entries.values()) {
      const alert = this.decode<AlertRecord>('alert', entry);
      if (alert) out.push({ alert, entry });
    }
    return out;
  }

  private async resolve(id: string, why: string, notify = true): Promise<void> {
    const now = Date.now();
    const done = await this.writer.update(id, (a) =>
      a.state === 'open' ? resolveAlert(notify ? a : { ...a, notifyResolved: false }, why, now) : null,
    );
    if (done) this.log(`alert ${id} resolved: ${why}`);
  }

  private async raise(alert: AlertRecord): Promise<void> {
    if (this.mirrors.alerts.entries.has(keys.alert(alert.id))) return;
    if (await this.writer.create(alert)) this.log(`alert ${alert.id}: ${alert.summary}`);
  }

  private async judge(now: number): Promise<void> {
    const config = this.config.current;
    const seen = this.decodeAll();
    const jobs = new Map<string, JobSpec>();
    for (const e of this.mirrors.jobs.entries.values()) {
      const spec = this.decode<JobSpec>('job', e, false);
      if (spec) jobs.set(spec.name, spec);
    }
    const completions = new Map<string, { rec: DepRecord; entry: Entry }>();
    for (const e of this.mirrors.completions.entries.values()) {
      const rec = this.decode<DepRecord>('dep', e);
      if (rec) completions.set(keys.completionJob(e.key), { rec, entry: e });
    }
    const alive = new Set([...this.mirrors.nodes.entries.values()].map((e) => keys.nodeId(e.key)));
    const members = new Map<string, { rec: NodeRecord; entry: Entry }>();
    for (const e of this.mirrors.members.entries.values()) {
      const rec = this.decode<NodeRecord>('node', e);
      if (rec) members.set(rec.id, { rec, entry: e });
    }

    // Open alerts whose condition cleared. "Succeeded after the alert" is judged by etcd
    // revisions, not clocks: the completion was written after the alert was.
    const openPerJob = new Map<string, Seen[]>();
    for (const s of seen) {
      const a = s.alert;
      if (a.state !== 'open') continue;
      if (a.job && JOB_RULES.includes(a.rule)) {
        const c = completions.get(a.job);
        if (!jobs.has(a.job)) await this.resolve(a.id, `job ${a.job} was removed`);
        else if (c && c.rec.status === 'succeeded' && c.entry.modRevision > s.entry.createRevision)
          await this.resolve(a.id, `${a.job} succeeded again: run ${c.rec.run}`);
        else openPerJob.set(a.job, [...(openPerJob.get(a.job) ?? []), s]);
      } else if (a.rule === 'node-down' && a.node) {
        const m = members.get(a.node);
        if (alive.has(a.node)) await this.resolve(a.id, `node ${a.node} is back`);
        else if (!m) await this.resolve(a.id, `node ${a.node} was forgotten`);
        else if (m.rec.leftAt) await this.resolve(a.id, `node ${a.node} left`);
      } else if (a.rule === 'node-overloaded' && a.node && !alive.has(a.node)) {
        // Its node resolves it when the overload ends; one that died overloaded cannot.
        await this.resolve(a.id, `node ${a.node} is gone`);
      }
    }
    for (const [job, open] of openPerJob) {
      if (open.length <= MAX_OPEN_PER_JOB) continue;
      open.sort((x, y) => x.entry.createRevision - y.entry.createRevision);
      for (const s of open.slice(0, open.length - MAX_OPEN_PER_JOB))
        await this.resolve(
          s.alert.id,
          `superseded: ${job} has more than ${MAX_OPEN_PER_JOB} open alerts`,
          false,
        );
    }

    // Dead-man's switch: no success within the job's deadman window.
    for (const spec of jobs.values()) {
      const rules = effectiveAlertRules(spec.alerts, config.defaults);
      const window = deadmanMs(rules);
      if (window === undefined || spec.paused) {
        this.noSuccessSince.delete(spec.name);
        continue;
      }
      const last = completions.get(spec.name)?.rec.lastSuccessAt;
      if (last === undefined && !this.noSuccessSince.has(spec.name)) this.noSuccessSince.set(spec.name, now);
      const since = last ?? this.noSuccessSince.get(spec.name)!;
      if (now - since < window) continue;
      await this.raise(
        newAlert(
          {
            id: `${spec.name}.deadman.${last ?? 0}`,
            rule: 'deadman',
            job: spec.name,
            summary:
              `${spec.name}: no successful run for ${formatDuration(toSeconds(now - since))} (deadman ${rules!.deadman})` +
              (last === undefined
                ? '; it has never succeeded'
                : `; last success ${new Date(last).toISOString()}`),
          },
          channelsFor(config, rules!.channels),
          rules!.resolved !== false,
          now,
        ),
      );
    }

    // Nodes gone without leaving (a graceful shutdown marks its member record `leftAt`).
    const threshold =
      config.cluster.nodeDown === undefined ? undefined : parseDuration(config.cluster.nodeDown);
    for (const [id, m] of members) {
      if (alive.has(id) || m.rec.leftAt) {
        this.downSince.delete(id);
        continue;
      }
      if (!this.downSince.has(id)) this.downSince.set(id, now);
      if (threshold === undefined || now - this.downSince.get(id)! < threshold) continue;
      // The member record is written with the node key, so its mod revision is the lost epoch.
      await this.raise(
        newAlert(
          {
            id: `node-down.${id}.${m.entry.modRevision}`,
            rule: 'node-down',
            node: id,
            summary: `node ${id} (${m.rec.hostname}) is down: its lease ended without a shutdown; its jobs moved to other nodes`,
          },
          channelsFor(config, config.cluster.channels),
          true,
          now,
        ),
      );
    }

    // Keep resolved alerts bounded, once nothing is left to send for them.
    const resolved = seen
      .filter((s) => s.alert.state === 'resolved')
      .filter((s) =>
        Object.values(s.alert.deliveries).every((d) => d.state === 'delivered' || d.state === 'failed'),
      )
      .sort((x, y) => (y.alert.resolvedAt ?? 0) - (x.alert.resolvedAt ?? 0));
    for (const [i, s] of resolved.entries())
      if (i >= KEEP_RESOLVED || now - (s.alert.resolvedAt ?? 0) > KEEP_RESOLVED_MS)
        await this.writer.remove(s.alert.id, s.entry.modRevision);
  }
}

/** Whole seconds read better in a summary than "9s123ms". */
function toSeconds(ms: number): number {
  return Math.max(1000, Math.round(ms / 1000) * 1000);
}
