// `peppercorn job run NAME [--wait [--follow]]`: run a job now on its node.
import type { Command } from 'commander';
import { hostname } from 'node:os';
import { act, withOutput, type CliContext } from '../context';
import { EXIT_HELP } from '../exit';
import { outputFormat, show } from '../output';
import { parseWaitTimeout, waitForRun } from './wait';

export function registerJobRun(job: Command, ctx: CliContext): void {
  withOutput(
    job
      .command('run')
      .argument('<name>', 'the job')
      .description('run a job now on its node (even when paused); prints the run id')
      .option('-w, --wait', 'wait for the run to end and exit with its status')
      .option('-f, --follow', 'with --wait: print its output as it comes')
      .option(
        '--timeout <duration>',
        'with --wait: give up waiting after this long (exit 1; the run goes on)',
      )
      .addHelpText(
        'after',
        `
${EXIT_HELP}

Examples:
  $ peppercorn job run deploy-hook
  $ peppercorn job run deploy-hook --wait --follow && echo deployed
  $ peppercorn job run nightly-report --wait --timeout 10m`,
      ),
    'json|yaml|name',
  ).action(
    act(
      ctx,
      async (
        name: string,
        opts: { wait?: boolean; follow?: boolean; timeout?: string; output?: string; json?: boolean },
      ) => {
        const format = outputFormat(opts);
        const wait = opts.wait || opts.follow;
        const timeoutMs = parseWaitTimeout(opts.timeout);
        return ctx.withStore(async (store) => {
          const id = await store.trigger(name, `${process.env.USER ?? 'cli'}@${hostname()}`);
          if (!wait) {
            show(format, { data: { run: id }, text: () => id, names: () => [`run/${id}`] });
            return 0;
          }
          // With --follow stdout carries the output, so the id goes to stderr.
          if (opts.follow) process.stderr.write(`[run ${id}]\n`);
          else show(format, { data: { run: id }, text: () => id, names: () => [`run/${id}`] });
          return waitForRun(ctx, store, id, { follow: !!opts.follow, timeoutMs });
        });
      },
    ),
  );
}
