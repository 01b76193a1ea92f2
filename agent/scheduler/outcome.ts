// A run's outcome as it is recorded, and what to do when the outcome's write finds etcd
// changed under it; pure, so both are tested as tables. The write itself (one transaction:
// record, in-flight entry, slots, completion, alerts, retry) is built in claim-txn.ts.
import { formatRunId, type RunRef } from '../core/keys';
import type { RunRecord, TriggerRecord } from '../core/records';
import type { RunOutcome } from '../runner/exec';

export interface RecordedOutcome {
  run: RunRecord;
  /** The next attempt, asked for in the same write as this outcome. */
  retry?: { ref: RunRef; trigger: TriggerRecord };
}

/**
 * The final record of a claimed run. Retries: each attempt is its own run (same scheduled
 * time, attempt + 1), asked for in the same write as this outcome, so a retry is never lost
 * nor asked for twice. A run the agent stopped itself (replaced, shutdown) is not retried.
 */
export function recordedOutcome(
  claimed: RunRecord,
  outcome: RunOutcome,
  ctx: {
    /** Why the claimed run was not released at its time, if it was not. */
    notReleased?: string;
    retries: number;
    retryDelayMs: (attempt: number) => number;
    now: number;
  },
): RecordedOutcome {
  const run: RunRecord = { ...claimed };
  if (outcome.startedAt === 0 && outcome.status !== 'failed') {
    run.status = 'skipped';
    run.reason = `claimed, but not started at its time: ${ctx.notReleased ?? 'it was stopped before its launch time'}`;
  } else {
    run.status = outcome.status === 'killed' ? 'failed' : outcome.status;
  }
  if (outcome.error) run.reason = run.reason ? `${run.reason}; ${outcome.error}` : outcome.error;
  let retry: RecordedOutcome['retry'];
  if (
    (run.status === 'failed' || run.status === 'timeout') &&
    outcome.status !== 'killed' &&
    run.attempt <= ctx.retries
  ) {
    const ref: RunRef = { job: run.job, scheduledAt: run.scheduledAt, attempt: run.attempt + 1 };
    const notBefore = outcome.endedAt + ctx.retryDelayMs(run.attempt);
    retry = {
      ref,
      trigger: {
        at: ctx.now,
        by: `node ${run.node}`,
        reason: `retry ${run.attempt} of ${ctx.retries} after the ${run.status} run ${run.id}`,
        notBefore,
      },
    };
    run.reason = `${run.reason ? run.reason + '; ' : ''}retrying as ${formatRunId(ref)} at ${new Date(notBefore).toISOString()}`;
  }
  if (outcome.startedAt) run.startedAt = outcome.startedAt;
  run.endedAt = outcome.endedAt;
  run.exitCode = outcome.exitCode;
  run.signal = outcome.signal;
  run.tail = outcome.tail;
  run.outputBytes = outcome.outputBytes;
  if (outcome.oomKilled) run.oomKilled = true;
  if (outcome.containerId) run.containerId = outcome.containerId;
  return { run, retry };
}

export type OutcomeConflict =
  /** Some slots are no longer the ones our claim created (etcd expired our lease and gave
   *  them to other runs): write again, freeing only those still ours. */
  | { kind: 'fewer-slots'; ours: string[] }
  /** The record is gone (the job was deleted with its history), unreadable or settled by
   *  someone else: nothing to record, but the in-flight entry and slots are ours to free. */
  | { kind: 'release-only' }
  /** The leader marked the run lost meanwhile (or it changed otherwise but still runs):
   *  the real outcome replaces it, against the record's new revision. */
  | { kind: 'overwrite'; claimRev: number; reason: string };

/** What the outcome's write does next after its compares failed. */
export function outcomeConflict(input: {
  ours: string[];
  /** Create revision of each of `ours` as found (0: gone). */
  slotCreates: number[];
  slotRev: number;
  /** The record as found: undefined if gone or unreadable. */
  found: { run: RunRecord; modRev: number } | undefined;
}): OutcomeConflict {
  const stillOurs = input.ours.filter((_, i) => input.slotCreates[i] === input.slotRev);
  if (stillOurs.length !== input.ours.length) return { kind: 'fewer-slots', ours: stillOurs };
  const now = input.found?.run;
  if (!now || (now.status !== 'lost' && now.status !== 'running')) return { kind: 'release-only' };
  return {
    kind: 'overwrite',
    claimRev: input.found!.modRev,
    reason: `${now.reason ?? ''}; the run's real outcome arrived later`.replace(/^; /, ''),
  };
}
