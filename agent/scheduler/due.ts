// What a node should do next for a clock-scheduled job, given its cursor (the
// latest time already accounted for) and the time now. Pure, so the rules are
// testable without etcd. Times are computed from the cursor, never from the clock
// alone, and every time that is not launched is recorded with the reason.
//
// A time at most `lateLimitMs` late is merely late (a failover, a busy second):
// with the default misfire policy `skip`, the latest such time is launched and
// the older ones are recorded as skipped. Beyond that a time has misfired, and
// the job's misfire policy decides: `skip` runs none, `once` runs the latest,
// `all` runs up to `maxCatchUp` of the latest, oldest first. A misfire `deadline`
// drops older times whatever the policy.
import type { Schedule } from '../core/job/schedule';
import type { MisfirePolicy } from '../core/job/policies';

/** Walking further than this many overdue times, we stop counting and jump. */
const MAX_COUNT = 10_000;

export interface DueOptions {
  claimAheadMs: number;
  lateLimitMs: number;
  misfire: { policy: MisfirePolicy; maxCatchUp: number; deadlineMs?: number };
  /** The job waited for a run in flight (overlap: queue): launch the oldest waiting time. */
  queued?: boolean;
}

export interface SkipRange {
  first: number;
  last: number;
  /** undefined: more than MAX_COUNT. */
  count: number | undefined;
  reason: string;
}

export type DueStep =
  | { kind: 'done' }
  | { kind: 'wait'; until: number }
  | { kind: 'claim'; launch?: number; skip?: SkipRange; cursor: number };

export function planDue(schedule: Schedule, cursor: number, now: number, opts: DueOptions): DueStep {
  const first = schedule.next(cursor);
  if (first === null) return { kind: 'done' };
  if (first > now + opts.claimAheadMs) return { kind: 'wait', until: first - opts.claimAheadMs };
  if (first > now) return { kind: 'claim', launch: first, cursor: first };

  // Overdue: walk to the latest time at or before now, remembering the last few.
  const keep = Math.max(2, opts.misfire.policy === 'all' ? opts.misfire.maxCatchUp : 2);
  const recent: number[] = [first];
  let latest = first;
  let count: number | undefined = 1;
  for (;;) {
    const n = schedule.next(latest);
    if (n === null || n > now) break;
    latest = n;
    recent.push(n);
    if (recent.length > keep) recent.shift();
    if (++count >= MAX_COUNT) {
      const jumped = latestAtOrBefore(schedule, now);
      if (jumped !== undefined && jumped > latest) {
        latest = jumped;
        recent.length = 0;
        recent.push(jumped);
        count = undefined;
      }
      break;
    }
  }

  const { policy, deadlineMs } = opts.misfire;
  const withinDeadline = (t: number) => deadlineMs === undefined || now - t <= deadlineMs;
  const late = (t: number) => now - t <= opts.lateLimitMs;
  const limit = `${Math.round(opts.lateLimitMs / 1000)} s`;
  const range = (from: number, to: number, n: number | undefined, reason: string): SkipRange => ({
    first: from,
    last: to,
    count: n,
    reason,
  });
  const before = (t: number) => (recent.indexOf(t) > 0 ? recent[recent.indexOf(t) - 1] : t - 1);
  const countUpTo = (t: number) =>
    count === undefined ? undefined : count - (recent.length - recent.indexOf(t));

  if (opts.queued) {
    // Waited behind a run in flight: the oldest waiting time runs, later ones do not pile up.
    if (!withinDeadline(first)) {
      return {
        kind: 'claim',
        skip: range(first, latest, count, `misfire deadline passed while queued`),
        cursor: latest,
      };
    }
    const second = count === 1 ? undefined : schedule.next(first)!;
    return {
      kind: 'claim',
      launch: first,
      skip:
        second === undefined
          ? undefined
          : range(
              second,
              latest,
              count === undefined ? undefined : count - 1,
              'overlap queue holds one run; later times were not queued',
            ),
      cursor: second === undefined ? first : latest,
    };
  }

  if (policy === 'all') {
    const candidates = recent.slice(-opts.misfire.maxCatchUp).filter(withinDeadline);
    const launch = candidates[0];
    if (launch === undefined) {
      return {
        kind: 'claim',
        skip: range(first, latest, count, 'missed: past the misfire deadline (policy all)'),
        cursor: latest,
      };
    }
    if (launch === first) return { kind: 'claim', launch, cursor: launch };
    return {
      kind: 'claim',
      launch,
      skip: range(
        first,
        before(launch),
        countUpTo(launch),
        `missed: policy all catches up at most ${opts.misfire.maxCatchUp} times, or past the deadline`,
      ),
      cursor: launch,
    };
  }

  const latestRuns = withinDeadline(latest) && (policy === 'once' || late(latest));
  if (!latestRuns) {
    const why =
      policy === 'once'
        ? 'missed: past the misfire deadline (policy once)'
        : `missed: not launched within ${limit} (misfire policy skip); the job's node failed or stopped, no node was eligible, or the job was paused`;
    return { kind: 'claim', skip: range(first, latest, count, why), cursor: latest };
  }
  if (latest === first) return { kind: 'claim', launch: latest, cursor: latest };
  return {
    kind: 'claim',
    launch: latest,
    skip: range(
      first,
      before(latest),
      count === undefined ? undefined : count - 1,
      `missed: a later time was due too, and only the latest runs (misfire policy ${policy})`,
    ),
    cursor: latest,
  };
}

function latestAtOrBefore(schedule: Schedule, now: number): number | undefined {
  for (const back of [1_000, 60_000, 3_600_000, 86_400_000, 32 * 86_400_000, 367 * 86_400_000]) {
    let t = schedule.next(now - back);
    if (t === null || t > now) continue;
    for (;;) {
      const n = schedule.next(t);
      if (n === null || n > now) return t;
      t = n;
    }
  }
  return undefined;
}
