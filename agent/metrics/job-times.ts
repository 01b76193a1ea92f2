// Per-job timestamps the leader exports, so "this job has not succeeded for 2 h" is one
// Prometheus rule (like kube_cronjob_status_last_successful_time):
//   time() - peppercorn_job_last_success_timestamp_seconds > 7200
// Only the leader serves them (one series per job in the whole cluster, whichever node leads);
// the values come from the jobs and their `completions/<job>` records, which every outcome
// write keeps up to date.
import type { DepRecord } from '../core/records';
import type { JobSpec } from '../core/job/spec';
import { nextTimes } from '../core/job/schedule';

export interface JobTimes {
  job: string;
  /** ms since the epoch; undefined when it never happened (or, for next, is not planned). */
  lastSuccess?: number;
  lastFailure?: number;
  next?: number;
}

/** One row per job, by name. `next` is the next time the clock launches it (none if paused, loop, or triggered only). */
export function jobTimes(
  specs: Iterable<JobSpec>,
  completions: Map<string, DepRecord>,
  now: number,
): JobTimes[] {
  const rows: JobTimes[] = [];
  for (const spec of specs) {
    const c = completions.get(spec.name);
    let next: number | undefined;
    if (!spec.paused) {
      try {
        next = nextTimes(spec, now, 1)[0];
      } catch {
        next = undefined; // a spec the scheduler refuses too (reported there)
      }
    }
    const lastFailure =
      c?.lastFailureAt ?? (c && c.status !== 'succeeded' && c.status !== 'skipped' ? c.endedAt : undefined);
    rows.push({ job: spec.name, lastSuccess: c?.lastSuccessAt, lastFailure, next });
  }
  return rows.sort((a, b) => (a.job < b.job ? -1 : a.job > b.job ? 1 : 0));
}
