// The spec workflow, like kubectl's: `job validate` (offline), `job diff`, `job apply`
// with --dry-run and --prune -l KEY=VALUE.
import { signingKeyFrom } from '../keys';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { parseJobFile, jobsToYaml } from '../../core/job/files';
import type { JobSpec } from '../../core/job/spec';
import { MAX_TXN_OPS, type JobChange } from '../../core/job/apply-plan';
import { SpecConflictError } from '../../api/store';
import { UsageError, parseLabels } from '../args';
import { act, withOutput, type CliContext } from '../context';
import { unifiedDiff } from '../diff';
import { EXIT_USAGE } from '../exit';
import { readInput } from '../io';
import { out, outputFormat, show } from '../output';

const collect = (v: string, prev: string[] = []) => [...prev, v];

/** A directory stands for its *.yaml, *.yml and *.json files, in name order. */
function expandDir(path: string): string[] {
  if (path === '-' || !statSync(path, { throwIfNoEntry: false })?.isDirectory()) return [path];
  return readdirSync(path)
    .filter((f) => /\.(ya?ml|json)$/.test(f))
    .sort()
    .map((f) => join(path, f));
}

/** Every file's specs, or the problems of all of them on stderr and undefined. */
function readSpecs(files: string[] | undefined, command: string): JobSpec[] | undefined {
  if (!files?.length)
    throw new UsageError(`peppercorn job ${command} needs -f FILE (or -f - for standard input)`);
  const jobs: JobSpec[] = [];
  let ok = true;
  for (const file of files.flatMap(expandDir)) {
    const parsed = parseJobFile(readInput(file), file === '-' ? 'stdin' : file);
    if (!parsed.ok) {
      ok = false;
      for (const p of parsed.problems)
        for (const e of p.errors)
          process.stderr.write(`${p.where}: ${e.field ? e.field + ': ' : ''}${e.message}\n`);
    } else jobs.push(...parsed.jobs);
  }
  const seen = new Set<string>();
  for (const j of jobs) {
    if (seen.has(j.name)) {
      process.stderr.write(`job "${j.name}" is in more than one file\n`);
      ok = false;
    }
    seen.add(j.name);
  }
  return ok ? jobs : undefined;
}

function pruneSelector(opts: { prune?: boolean; selector?: string }): Record<string, string> | undefined {
  if (!opts.prune) {
    if (opts.selector)
      throw new UsageError('-l selects the jobs --prune may delete; add --prune, or leave -l out');
    return undefined;
  }
  const sel = parseLabels(opts.selector);
  if (!Object.keys(sel).length)
    throw new UsageError(
      '--prune needs -l KEY=VALUE: only jobs carrying those labels (and missing from the file) are deleted',
    );
  return sel;
}

const SPEC_HELP = `
A file holds one spec, a list, {jobs: [...]}, or several --- documents (YAML or JSON).
Field documentation: \`peppercorn explain job\`, \`peppercorn explain job.retries\`.`;

export function registerJobSpec(job: Command, ctx: CliContext): void {
  job
    .command('validate')
    .description('check spec files offline (no etcd): every problem, with its file, document and field')
    .requiredOption(
      '-f, --file <file>',
      'a spec file or directory, or - for standard input (repeatable)',
      collect,
    )
    .addHelpText(
      'after',
      `${SPEC_HELP}\n\nExample:\n  $ peppercorn job validate -f jobs.yaml && peppercorn job apply -f jobs.yaml`,
    )
    .action(
      act(ctx, (opts: { file: string[] }) => {
        const jobs = readSpecs(opts.file, 'validate');
        if (!jobs) return EXIT_USAGE;
        out(`${jobs.length} job spec(s) valid: ${jobs.map((j) => j.name).join(', ')}\n`);
        return 0;
      }),
    );

  job
    .command('diff')
    .description('what `job apply` would change, as a unified diff of the YAML specs')
    .requiredOption(
      '-f, --file <file>',
      'a spec file or directory, or - for standard input (repeatable)',
      collect,
    )
    .option('--prune', 'also show the jobs --prune would delete (needs -l)')
    .option('-l, --selector <labels>', 'with --prune: jobs carrying these labels (key=value,...)')
    .addHelpText(
      'after',
      `
Exit status as diff(1) and kubectl diff: 0 no changes, 1 changes, 2 invalid input
(and 1 with a message on stderr when etcd cannot be reached).

Example:
  $ peppercorn job diff -f jobs.yaml --prune -l team=billing`,
    )
    .action(
      act(ctx, async (opts: { file: string[]; prune?: boolean; selector?: string }) => {
        const prune = pruneSelector(opts);
        const jobs = readSpecs(opts.file, 'diff');
        if (!jobs) return EXIT_USAGE;
        return ctx.withStore(async (store) => {
          const plan = await store.applyJobs(jobs, { dryRun: true, prune });
          let changed = 0;
          for (const c of plan) {
            if (c.result === 'unchanged') continue;
            changed++;
            const before = c.before ? jobsToYaml([c.before]) : '';
            const after = c.spec ? jobsToYaml([c.spec]) : '';
            out(
              unifiedDiff(
                before,
                after,
                c.before ? `job/${c.name} (stored)` : '/dev/null',
                c.spec ? `job/${c.name} (file)` : '/dev/null',
              ),
            );
          }
          return changed ? 1 : 0;
        });
      }),
    );

  withOutput(
    job
      .command('apply')
      .description('store job specs (created / updated / unchanged); an invalid spec stores nothing')
      .requiredOption(
        '-f, --file <file>',
        'a spec file or directory, or - for standard input (repeatable)',
        collect,
      )
      .option('--dry-run', 'say what would change, store nothing')
      .option(
        '--sign-key <file>',
        'sign the specs with this key (`peppercorn keys generate`; or PEPPERCORN_SIGN_KEY)',
      )
      .option('--prune', 'delete stored jobs carrying the -l labels that the files do not name')
      .option(
        '-l, --selector <labels>',
        'with --prune: the labels (key=value,...) of the jobs these files manage',
      )
      .addHelpText(
        'after',
        `${SPEC_HELP}

All or nothing: the changes go into one etcd transaction when they fit (etcd takes at
most ${MAX_TXN_OPS} operations per transaction; a new or rescheduled job takes 3 with its audit
entry, a pruned one 7). A larger apply is staged in etcd and made visible by one commit:
stopped before it, nothing is stored; after it, everything is (the next job write or
\`job ls\` finishes an apply whose writer died). Other job writes wait meanwhile.

JSON: [{name, result}], result created|updated|unchanged|pruned.

Examples:
  $ peppercorn job apply -f jobs.yaml --dry-run
  $ peppercorn job apply -f billing/ --prune -l team=billing
  $ peppercorn import-crontab /etc/crontab | peppercorn job apply -f -`,
      ),
    'json|yaml|name',
  ).action(
    act(
      ctx,
      async (opts: {
        file: string[];
        dryRun?: boolean;
        prune?: boolean;
        selector?: string;
        signKey?: string;
        output?: string;
        json?: boolean;
      }) => {
        const format = outputFormat(opts);
        const signWith = signingKeyFrom(opts.signKey);
        const prune = pruneSelector(opts);
        const jobs = readSpecs(opts.file, 'apply');
        if (!jobs) {
          process.stderr.write('nothing was stored\n');
          return EXIT_USAGE;
        }
        return ctx.withStore(async (store) => {
          const suffix = opts.dryRun ? ' (dry run)' : '';
          const report = (changes: Pick<JobChange, 'name' | 'result'>[]) =>
            show(format, {
              data: changes.map((c) => ({ name: c.name, result: c.result })),
              text: () => changes.map((c) => `job/${c.name} ${c.result}${suffix}`).join('\n'),
              names: () => changes.map((c) => `job/${c.name}`),
            });
          let plan: JobChange[];
          try {
            plan = await store.applyJobs(jobs, { dryRun: opts.dryRun, prune, signWith });
          } catch (err) {
            if (err instanceof SpecConflictError) (err as Error).message += '\nnothing was stored';
            throw err;
          }
          report(plan);
          return 0;
        });
      },
    ),
  );
}
