// Raising alerts from runs. Pure: the writer of a run's final record (the owner's
// outcome write, the leader settling a lost run, a skipped range) calls these and puts
// the results in the same etcd transaction, so an alert exists exactly when its run
// record does — never lost with a leader, never raised twice.
import { channelsFor, newAlert, type AlertingConfig } from '../core/alerting';
import { effectiveAlertRules, type AlertRules, type JobAlerts } from '../core/job/alert-rules';
import type { AlertRecord, AlertRule, DepRecord, RunRecord } from '../core/records';

export interface RaiseContext {
  config: AlertingConfig;
  jobAlerts: JobAlerts | undefined;
}

function rulesFor(ctx: RaiseContext): AlertRules | null {
  return effectiveAlertRules(ctx.jobAlerts, ctx.config.defaults);
}

const FAILED = new Set(['failed', 'timeout', 'lost']);

function describe(run: RunRecord): string {
  const how =
    run.status === 'failed'
      ? run.exitCode !== undefined && run.exitCode !== null
        ? `failed (exit ${run.exitCode})`
        : run.signal
          ? `failed (signal ${run.signal})`
          : 'failed'
      : run.status === 'timeout'
        ? 'timed out'
        : run.status;
  return `${run.job}: run ${run.id} ${how} on ${run.node || 'no node'}${run.reason ? ` — ${run.reason}` : ''}`;
}

/**
 * For a run that is complete (no retry pending): the job's new completion value, carried
 * forward from the previous one, and the alerts the run raises.
 */
export function completeRun(
  run: RunRecord,
  prev: DepRecord | undefined,
  ctx: RaiseContext,
  now: number,
): { completion: DepRecord; alerts: AlertRecord[] } {
  const failed = FAILED.has(run.status);
  // The same run completing again (its real outcome after the leader marked it lost) replaces
  // its own contribution to the streak rather than adding to it.
  const again = prev?.run === run.id;
  const before = again ? (prev.failures ?? 0) - (FAILED.has(prev.status) ? 1 : 0) : (prev?.failures ?? 0);
  const failures = failed ? Math.max(0, before) + 1 : 0;
  const completion: DepRecord = {
    run: run.id,
    status: run.status,
    endedAt: run.endedAt ?? now,
    failures,
    ...(run.status === 'succeeded'
      ? { lastSuccessAt: run.endedAt ?? now }
      : prev?.lastSuccessAt !== undefined
        ? { lastSuccessAt: prev.lastSuccessAt }
        : {}),
    ...(failed
      ? { lastFailureAt: run.endedAt ?? now }
      : prev?.lastFailureAt !== undefined
        ? { lastFailureAt: prev.lastFailureAt }
        : {}),
  };
  const rules = rulesFor(ctx);
  const alerts: AlertRecord[] = [];
  if (!rules) return { completion, alerts };
  const channels = channelsFor(ctx.config, rules.channels);
  const notify = rules.resolved !== false;
  const rule: AlertRule | undefined =
    run.status === 'failed'
      ? 'failure'
      : run.status === 'timeout'
        ? 'timeout'
        : run.status === 'lost'
          ? 'lost'
          : undefined;
  if (rule && rules.on?.includes(rule))
    alerts.push(
      newAlert(
        { id: `${run.id}.${rule}`, rule, job: run.job, run: run.id, summary: describe(run) },
        channels,
        notify,
        now,
      ),
    );
  const n = rules.consecutiveFailures;
  if (n !== undefined && failures === n && !(again && before + 1 === n && FAILED.has(prev.status)))
    alerts.push(
      newAlert(
        {
          id: `${run.id}.consecutive-failures`,
          rule: 'consecutive-failures',
          job: run.job,
          run: run.id,
          summary: `${run.job}: ${n} runs in a row did not succeed; latest ${describe(run).slice(run.job.length + 2)}`,
        },
        channels,
        notify,
        now,
      ),
    );
  return { completion, alerts };
}

/** A skipped record (times not launched) raises a `missed` alert when the rules ask for it. */
export function skippedRun(run: RunRecord, ctx: RaiseContext, now: number): AlertRecord[] {
  const rules = rulesFor(ctx);
  if (!rules?.on?.includes('missed')) return [];
  const what =
    run.count && run.count > 1
      ? `${run.count} scheduled times`
      : `the time ${new Date(run.scheduledAt).toISOString()}`;
  return [
    newAlert(
      {
        id: `${run.id}.missed`,
        rule: 'missed',
        job: run.job,
        run: run.id,
        summary: `${run.job}: ${what} not launched — ${run.reason ?? 'skipped'}`,
      },
      channelsFor(ctx.config, rules.channels),
      rules.resolved !== false,
      now,
    ),
  ];
}
