// `peppercorn job ...`: list, show, remove, pause, resume, next times, dependency graph.
// The spec workflow (apply, validate, diff) is in job-spec.ts, `job run` in job-run.ts.
import { Command } from 'commander';
import { jobsToYaml } from '../../core/job/files';
import { renderGraph } from '../../core/job/deps';
import { nextTimes } from '../../core/job/schedule';
import { matchesLabels } from '../../core/job/apply-plan';
import { NotFoundError } from '../../api/store';
import { parseInteger, parseLabels } from '../args';
import { act, withOutput, type CliContext } from '../context';
import { ago, iso, labels, table, zoned } from '../format';
import { out, outputFormat, show } from '../output';
import { registerJobSpec } from './job-spec';
import { registerJobRun } from './job-run';
import { jobComments, registerJobHistory } from '../keys';

export function registerJob(program: Command, ctx: CliContext): void {
  const job = program
    .command('job')
    .description('manage jobs: apply specs, list, inspect, run, pause')
    .addHelpText(
      'after',
      `
Examples:
  $ peppercorn job apply -f jobs.yaml
  $ peppercorn job ls -l team=billing -o wide
  $ peppercorn job get nightly-report -o yaml
  $ peppercorn job next nightly-report -n 3`,
    );

  registerJobSpec(job, ctx);
  registerJobHistory(job, ctx);

  withOutput(
    job
      .command('ls')
      .alias('list')
      .description("list jobs: schedule, next time (in the job's zone), owner, last outcome and when")
      .option('-l, --selector <labels>', 'only jobs carrying these labels (key=value,...)')
      .addHelpText(
        'after',
        `
JSON fields: [{name, kind, schedule, timezone, paused, owner, next, labels, last}]
  next: ISO time (UTC) or null; last: {run, status, endedAt} of the latest completed run, or null.

Examples:
  $ peppercorn job ls
  $ peppercorn job ls --json | jq length
  $ peppercorn job ls -o name -l team=billing`,
      ),
  ).action(
    act(ctx, async (opts: { output?: string; json?: boolean; selector?: string }) => {
      const format = outputFormat(opts);
      const selector = parseLabels(opts.selector);
      return ctx.withStore(async (store) => {
        const [jobs, outcomes] = await Promise.all([store.listJobs(), store.lastOutcomes()]);
        const now = Date.now();
        const rows = jobs
          .filter((j) => matchesLabels(j.spec, selector))
          .map((j) => {
            let next: number | undefined;
            try {
              next = j.spec.paused ? undefined : nextTimes(j.spec, now, 1)[0];
            } catch {
              next = undefined;
            }
            return { ...j, next, last: outcomes.get(j.spec.name) };
          });
        const schedule = (r: (typeof rows)[number]) =>
          r.spec.schedule ?? (r.spec.at ? `at ${r.spec.at}` : r.spec.kind === 'loop' ? 'loop' : '-');
        const last = (r: (typeof rows)[number]) =>
          r.last ? `${r.last.status} ${ago(r.last.endedAt, now)}` : '-';
        show(format, {
          data: rows.map((r) => ({
            name: r.spec.name,
            kind: r.spec.kind,
            schedule: r.spec.schedule ?? null,
            timezone: r.spec.timezone,
            paused: r.spec.paused,
            owner: r.owner,
            next: r.next ? iso(r.next) : null,
            labels: r.spec.labels ?? {},
            last: r.last ? { run: r.last.run, status: r.last.status, endedAt: iso(r.last.endedAt) } : null,
          })),
          text: () =>
            rows.length
              ? table(
                  ['NAME', 'KIND', 'SCHEDULE', 'NEXT', 'OWNER', 'PAUSED', 'LAST'],
                  rows.map((r) => [
                    r.spec.name,
                    r.spec.kind,
                    schedule(r),
                    zoned(r.next, r.spec.timezone),
                    r.owner ?? '-',
                    r.spec.paused ? 'yes' : 'no',
                    last(r),
                  ]),
                )
              : 'no jobs; store some with `peppercorn job apply -f FILE`',
          wide: () =>
            table(
              [
                'NAME',
                'KIND',
                'SCHEDULE',
                'TIMEZONE',
                'NEXT',
                'OWNER',
                'PAUSED',
                'LAST',
                'LAST ENDED',
                'LAST RUN',
                'LABELS',
              ],
              rows.map((r) => [
                r.spec.name,
                r.spec.kind,
                schedule(r),
                r.spec.timezone,
                zoned(r.next, r.spec.timezone),
                r.owner ?? '-',
                r.spec.paused ? 'yes' : 'no',
                r.last?.status ?? '-',
                zoned(r.last?.endedAt, r.spec.timezone),
                r.last?.run ?? '-',
                labels(r.spec.labels ?? {}),
              ]),
            ),
          names: () => rows.map((r) => `job/${r.spec.name}`),
        });
        return 0;
      });
    }),
  );

  withOutput(
    job
      .command('get')
      .argument('<name>', 'the job')
      .description('show a job: its spec as YAML, which `job apply` takes back unchanged')
      .addHelpText(
        'after',
        `
-o yaml (the default) prints the spec alone, so it round-trips through \`job apply\`.
-o json adds owner, cursor (ISO time of the latest time accounted for) and assignment
({node, epoch, since, by, reason, history}).

Examples:
  $ peppercorn job get nightly-report > nightly-report.yaml
  $ peppercorn job get nightly-report --json | jq .assignment`,
      ),
  ).action(
    act(ctx, async (name: string, opts: { output?: string; json?: boolean }) => {
      const format = outputFormat(opts);
      return ctx.withStore(async (store) => {
        const j = await store.getJob(name);
        if (format === 'json')
          show(format, {
            data: {
              ...j.spec,
              owner: j.owner,
              cursor: j.cursor ? iso(j.cursor) : null,
              assignment: j.assignment,
              signedBy: j.signedBy,
              refusedBy: j.refusedBy,
            },
            text: () => '',
          });
        else if (format === 'name') out(`job/${j.spec.name}\n`);
        else out(`${jobComments(j)}${jobsToYaml([j.spec])}`);
        return 0;
      });
    }),
  );

  job
    .command('rm')
    .alias('delete')
    .argument('<name...>', 'the jobs')
    .description('delete jobs and their history (runs in flight finish)')
    .addHelpText('after', '\nExample:\n  $ peppercorn job rm old-report')
    .action(
      act(ctx, async (names: string[]) =>
        ctx.withStore(async (store) => {
          let status = 0;
          for (const name of names) {
            try {
              await store.removeJob(name);
              out(`job/${name} deleted\n`);
            } catch (err) {
              if (!(err instanceof NotFoundError)) throw err;
              process.stderr.write(`peppercorn: ${err.message}\n`);
              status = 1;
            }
          }
          return status;
        }),
      ),
    );

  for (const sub of ['pause', 'resume'] as const)
    job
      .command(sub)
      .argument('<name>', 'the job')
      .description(
        sub === 'pause'
          ? 'stop launching a job (manual runs still work)'
          : 'launch a paused job again; the times missed while paused are recorded as one skipped run',
      )
      .addHelpText('after', `\nExample:\n  $ peppercorn job ${sub} nightly-report`)
      .action(
        act(ctx, async (name: string) =>
          ctx.withStore(async (store) => {
            const changed = await store.setPaused(name, sub === 'pause');
            out(
              `job/${name} ${changed ? (sub === 'pause' ? 'paused' : 'resumed') : `already ${sub === 'pause' ? 'paused' : 'running'}`}\n`,
            );
            return 0;
          }),
        ),
      );

  registerJobRun(job, ctx);

  withOutput(
    job
      .command('next')
      .argument('<name>', 'the job')
      .option('-n, --count <n>', 'how many times', '5')
      .description("the next firing times, in the job's time zone (UTC in JSON)")
      .addHelpText('after', '\nExample:\n  $ peppercorn job next nightly-report -n 3'),
    'json|yaml',
  ).action(
    act(ctx, async (name: string, opts: { count: string; output?: string; json?: boolean }) => {
      const format = outputFormat(opts);
      const n = parseInteger(opts.count, '-n', 1);
      return ctx.withStore(async (store) => {
        const j = await store.getJob(name);
        const times = j.spec.kind === 'loop' ? [] : nextTimes(j.spec, Date.now(), n);
        show(format, {
          data: times.map(iso),
          text: () =>
            times.length
              ? times.map((t) => zoned(t, j.spec.timezone)).join('\n') +
                (j.spec.timezone === 'UTC' ? '' : `\n(times in ${j.spec.timezone})`)
              : j.spec.kind === 'loop'
                ? 'loop jobs run one after another, not by the clock'
                : 'no future firing times (runs only when triggered, or already done)',
          names: () => times.map(iso),
        });
        return 0;
      });
    }),
  );

  withOutput(
    job
      .command('graph')
      .argument('[name]', 'only the chain this job is part of')
      .description('the dependency graph (jobs with `after:`)')
      .addHelpText('after', '\nExamples:\n  $ peppercorn job graph\n  $ peppercorn job graph load --json'),
    'json|yaml',
  ).action(
    act(ctx, async (name: string | undefined, opts: { output?: string; json?: boolean }) => {
      const format = outputFormat(opts);
      return ctx.withStore(async (store) => {
        const jobs = (await store.listJobs()).map((j) => j.spec);
        if (name && !jobs.some((j) => j.name === name)) throw new NotFoundError(`no job named "${name}"`);
        const text = renderGraph(jobs, name);
        show(format, {
          data: jobs.filter((j) => j.after?.length).map((j) => ({ name: j.name, after: j.after })),
          text: () => text || 'no dependencies between jobs (use `after:` in a job spec)',
        });
        return 0;
      });
    }),
  );
}
