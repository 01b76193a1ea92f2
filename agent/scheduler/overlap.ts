// What to do with a time due while the job's previous run is still in flight, by the
// job's overlap policy; pure. Decided at the time itself, not when claiming ahead: the
// run in flight may end first.
import type { Overlap } from '../core/job/policies';
import type { SkipRange } from './due';

export type OverlapDecision =
  /** Nothing in the way: claim as planned. */
  | { kind: 'go' }
  /** Too early to tell: look again at the time. */
  | { kind: 'wait'; ms: number }
  /** Catching up missed times (misfire: all): the next one when this run ends. */
  | { kind: 'resume-on-end' }
  /** overlap: queue — the time waits for the run to end. */
  | { kind: 'queue' }
  /** overlap: skip — the time is recorded as not launched. */
  | { kind: 'skip'; skip: SkipRange }
  /** overlap: replace — the runs in flight stop, and the time launches. */
  | { kind: 'replace'; reason: string };

export function planOverlap(input: {
  /** The time to launch, if any. */
  launch: number | undefined;
  /** The cursor the claim would write. */
  cursor: number;
  now: number;
  /** Ids of this job's runs in flight on this node. */
  busy: string[];
  overlap: Overlap;
  /** misfire policy `all`: missed times are caught up one after another. */
  catchUpAll: boolean;
  lateLimitMs: number;
  /** The run id the launch would get (for the replaced runs' reason). */
  nextRunId: string;
}): OverlapDecision {
  const { launch, now, busy, overlap } = input;
  if (launch === undefined || busy.length === 0 || overlap === 'allow') return { kind: 'go' };
  if (launch > now) return { kind: 'wait', ms: launch - now };
  // Catching up missed times: one after another, not skipped for overlapping each other.
  if (input.catchUpAll && input.cursor === launch && launch < now - input.lateLimitMs)
    return { kind: 'resume-on-end' };
  if (overlap === 'queue') return { kind: 'queue' };
  if (overlap === 'skip')
    return {
      kind: 'skip',
      skip: {
        first: launch,
        last: launch,
        count: 1,
        reason: `the previous run ${busy.join(', ')} was still running (overlap: skip)`,
      },
    };
  return { kind: 'replace', reason: `replaced by ${input.nextRunId} (overlap: replace)` };
}
