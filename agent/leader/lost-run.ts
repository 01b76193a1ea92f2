// A run in flight on a node that died: the leader settles it exactly once, as `lost`. Pure:
// what the record becomes, whether the job's policy asks for a re-run, the completion and
// the alerts — written by the leader in one fenced transaction (leader.ts).
import { formatRunId, type RunRef } from '../core/keys';
import type { AlertRecord, DepRecord, RunRecord, TriggerRecord } from '../core/records';
import type { JobSpec } from '../core/job/spec';
import { completeRun, type RaiseContext } from '../alert/raise';

export interface LostSettlement {
  run: RunRecord;
  /** The job's new completion: a lost run not re-run is complete (it counts for the streak). */
  completion?: DepRecord;
  alerts: AlertRecord[];
  /** policy at-least-once: the first attempt is re-run once, as the next attempt. */
  rerun?: { ref: RunRef; trigger: TriggerRecord };
}

export function settleLost(
  running: RunRecord,
  ctx: {
    /** The node that died. */
    node: string;
    job: JobSpec | undefined;
    /** The job's completion as the leader last saw it. */
    prev: DepRecord | undefined;
    raise: RaiseContext;
    leader: string;
    now: number;
  },
): LostSettlement {
  const rerun = ctx.job?.policy === 'at-least-once' && running.attempt === 1;
  const next: RunRef = { job: running.job, scheduledAt: running.scheduledAt, attempt: running.attempt + 1 };
  const run: RunRecord = {
    ...running,
    status: 'lost',
    endedAt: ctx.now,
    reason:
      `node ${ctx.node} died while this run was in flight (its outcome is unknown)` +
      (rerun
        ? `; policy at-least-once: re-run as ${formatRunId(next)}`
        : '; policy at-most-once: not re-run'),
  };
  // A re-run one completes with its re-run, but being lost still raises its alert.
  const done = completeRun(run, ctx.prev, ctx.raise, ctx.now);
  return {
    run,
    ...(rerun ? {} : { completion: done.completion }),
    alerts: rerun ? done.alerts.filter((a) => a.rule === 'lost') : done.alerts,
    ...(rerun
      ? {
          rerun: {
            ref: next,
            trigger: {
              at: ctx.now,
              by: `leader ${ctx.leader}`,
              reason: `re-run of ${running.id} after its node died`,
            },
          },
        }
      : {}),
  };
}
