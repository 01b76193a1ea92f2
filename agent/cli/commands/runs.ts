// `peppercorn runs JOB`: run history, newest first, with outcome and duration.
import type { Command } from 'commander';
import { parseInteger } from '../args';
import { act, withOutput, type CliContext } from '../context';
import { seconds, table, zoned } from '../format';
import { outputFormat, show } from '../output';

export function registerRuns(program: Command, ctx: CliContext): void {
  withOutput(
    program
      .command('runs')
      .argument('<job>', 'the job')
      .option('--limit <n>', 'how many runs', '20')
      .description("a job's run history, newest first: outcome, duration, times in the job's zone")
      .addHelpText(
        'after',
        `
JSON fields: [{id, job, node, epoch, attempt, cause, scheduledAt, claimedAt, startedAt, endedAt,
status, exitCode, signal, reason, until, count, tail, outputBytes, holds, releasedBy}] (times in ms).

Examples:
  $ peppercorn runs nightly-report
  $ peppercorn runs nightly-report --json | jq '.[] | select(.status != "succeeded") | .id'`,
      ),
  ).action(
    act(ctx, async (jobName: string, opts: { limit: string; output?: string; json?: boolean }) => {
      const format = outputFormat(opts);
      const limit = parseInteger(opts.limit, '--limit', 1);
      return ctx.withStore(async (store) => {
        const job = await store.getJob(jobName);
        const tz = job.spec.timezone;
        const runs = await store.listRuns(jobName, limit);
        const status = (r: (typeof runs)[number]) =>
          r.status + (r.count !== undefined && r.status === 'skipped' ? ` ×${r.count}` : '');
        const duration = (r: (typeof runs)[number]) =>
          r.startedAt && r.endedAt
            ? seconds(r.endedAt - r.startedAt)
            : r.status === 'running'
              ? 'running'
              : '-';
        const exit = (r: (typeof runs)[number]) =>
          r.oomKilled ? 'OOM' : (r.signal ?? (r.exitCode ?? '-').toString());
        // Container jobs: the image and the container's short id (a column when any run has one).
        const boxed = runs.some((r) => r.image);
        const box = (r: (typeof runs)[number]) =>
          r.image ? `${r.image} ${r.containerId?.slice(0, 12) ?? r.container ?? ''}`.trim() : '-';
        show(format, {
          data: runs,
          text: () =>
            runs.length
              ? table(
                  [
                    'RUN',
                    'STATUS',
                    'NODE',
                    'SCHEDULED',
                    'DURATION',
                    'EXIT',
                    ...(boxed ? ['CONTAINER'] : []),
                    'REASON',
                  ],
                  runs.map((r) => [
                    r.id,
                    status(r),
                    r.node || '-',
                    zoned(r.scheduledAt, tz),
                    duration(r),
                    exit(r),
                    ...(boxed ? [box(r)] : []),
                    r.reason ?? '',
                  ]),
                )
              : `no runs of ${jobName} yet`,
          wide: () =>
            table(
              [
                'RUN',
                'STATUS',
                'CAUSE',
                'ATTEMPT',
                'NODE',
                'SCHEDULED',
                'STARTED',
                'ENDED',
                'DURATION',
                'EXIT',
                'OUTPUT',
                'CONTAINER',
                'REASON',
              ],
              runs.map((r) => [
                r.id,
                status(r),
                r.cause ?? '-',
                String(r.attempt),
                r.node || '-',
                zoned(r.scheduledAt, tz),
                zoned(r.startedAt, tz),
                zoned(r.endedAt, tz),
                duration(r),
                exit(r),
                r.outputBytes !== undefined ? `${r.outputBytes}B` : '-',
                box(r),
                r.reason ?? '',
              ]),
            ),
          names: () => runs.map((r) => `run/${r.id}`),
        });
        return 0;
      });
    }),
  );
}
