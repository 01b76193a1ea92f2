// The run record of scheduled times that were not launched. One record stands for a range of
// them (the first, the last, how many), whoever decides they are skipped: a node's scheduler at
// its cursor, or pausing and resuming a job (agent/api/store.ts). Pure.
import { formatRunId, type RunRef } from './keys';
import type { RunRecord } from './records';

export interface SkippedRange {
  job: string;
  /** The node and epoch that decided; '' and 0 when no node did (a pause or a resume). */
  node: string;
  epoch: number;
  first: number;
  last: number;
  /** How many times; undefined when there were too many to count. */
  count: number | undefined;
  /** Why they were not launched, as the run's reason says it. */
  reason: string;
}

/** The record of a skipped range written at `now`, and the ref of its key (`runs/<job>/<first>`). */
export function skippedRunRecord(s: SkippedRange, now: number): { ref: RunRef; record: RunRecord } {
  const ref: RunRef = { job: s.job, scheduledAt: s.first, attempt: 1 };
  return {
    ref,
    record: {
      id: formatRunId(ref),
      job: s.job,
      node: s.node,
      epoch: s.epoch,
      attempt: 1,
      cause: 'schedule',
      scheduledAt: s.first,
      claimedAt: now,
      status: 'skipped',
      until: s.last,
      count: s.count,
      reason: s.reason,
    },
  };
}
