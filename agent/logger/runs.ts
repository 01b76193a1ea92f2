// Log lines for the runs an agent launches and records, from the scheduler's events, with
// their `job` and `run` fields: launches and successes at debug (an every-second job would
// flood info), skipped times at info, runs that failed, timed out or were lost at warn.
import type { EventEmitter } from 'node:events';
import type { RunRecord } from '../core/records';
import type { Log } from './logger';

export function logRuns(scheduler: Pick<EventEmitter, 'on'>, log: Log): void {
  scheduler.on('launched', (run: RunRecord, delayMs: number) =>
    log(`run ${run.id} launched`, {
      job: run.job,
      run: run.id,
      level: 'debug',
      ...(Number.isFinite(delayMs) ? { delayMs: Math.round(delayMs) } : {}),
    }),
  );
  scheduler.on('outcome', (run: RunRecord) => {
    const level = run.status === 'succeeded' ? 'debug' : run.status === 'skipped' ? 'info' : 'warn';
    log(`run ${run.id} ${run.status}${run.reason ? `: ${run.reason}` : ''}`, {
      job: run.job,
      run: run.id,
      level,
      status: run.status,
      ...(run.exitCode !== undefined && run.exitCode !== null ? { exitCode: run.exitCode } : {}),
    });
  });
}
