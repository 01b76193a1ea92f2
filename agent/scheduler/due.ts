// What a node should do next for a clock-scheduled job, given its cursor (the
// latest time already accounted for) and the time now. Pure, so the rules are
// testable without etcd:
// - the next time is in the future: wait for it (claiming a little ahead);
// - times are overdue (failover, a paused process, an overloaded node): launch
//   the latest one if it is at most `lateLimitMs` late, and record the others as
//   one `skipped` range. Nothing is dropped without a record.
import type { Schedule } from '../core/job/schedule';

/** Walking further than this many overdue times, we stop counting and jump. */
const MAX_COUNT = 10_000;

export type DueStep =
  | { kind: 'done' }
  | { kind: 'wait'; until: number }
  | {
      kind: 'claim';
      /** The time to launch, if any. */
      launch?: number;
      /** Overdue times not launched: first..last (inclusive), how many (undefined: more than MAX_COUNT). */
      skip?: { first: number; last: number; count: number | undefined };
      /** The cursor after this claim. */
      cursor: number;
    };

export function planDue(
  schedule: Schedule,
  cursor: number,
  now: number,
  opts: { claimAheadMs: number; lateLimitMs: number },
): DueStep {
  const first = schedule.next(cursor);
  if (first === null) return { kind: 'done' };
  if (first > now + opts.claimAheadMs) return { kind: 'wait', until: first - opts.claimAheadMs };
  if (first > now) return { kind: 'claim', launch: first, cursor: first };

  // Overdue: find the latest time at or before now, and the one before it.
  let latest = first;
  let before: number | undefined;
  let count: number | undefined = 1;
  for (;;) {
    const n = schedule.next(latest);
    if (n === null || n > now) break;
    before = latest;
    latest = n;
    if (++count >= MAX_COUNT) {
      const jumped = latestAtOrBefore(schedule, now);
      if (jumped !== undefined && jumped > latest) {
        latest = jumped;
        before = jumped - 1; // the exact previous time is not worth computing here
        count = undefined;
      }
      break;
    }
  }
  const total = count;
  if (now - latest <= opts.lateLimitMs) {
    const skip =
      total === 1 || before === undefined
        ? undefined
        : { first, last: before, count: total === undefined ? undefined : total - 1 };
    return { kind: 'claim', launch: latest, skip, cursor: latest };
  }
  return { kind: 'claim', skip: { first, last: latest, count: total }, cursor: latest };
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
