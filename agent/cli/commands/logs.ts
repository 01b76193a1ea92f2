// `peppercorn logs RUN [--follow]`: a run's output; --follow tails it and exits with the
// run's status.
import type { Command } from 'commander';
import { join } from 'node:path';
import { NotFoundError } from '../../core/store';
import { act, type CliContext } from '../context';
import { EXIT_HELP } from '../exit';
import { out } from '../output';
import { parseWaitTimeout, waitForRun } from './wait';

export function registerLogs(program: Command, ctx: CliContext): void {
  program
    .command('logs')
    .argument('<run>', 'a run id, as printed by `job run` and `runs`')
    .description("a run's output; --follow tails it live until the run ends")
    .option('-f, --follow', "tail the output until the run ends, then exit with the run's status")
    .option('--timeout <duration>', 'with --follow: stop following after this long (exit 1)')
    .addHelpText(
      'after',
      `
${EXIT_HELP}

Examples:
  $ peppercorn logs nightly-report.1714521600000.1
  $ peppercorn logs "$(peppercorn job run deploy-hook)" --follow || echo "deploy failed: $?"`,
    )
    .action(
      act(ctx, async (runId: string, opts: { follow?: boolean; timeout?: string }) => {
        const timeoutMs = parseWaitTimeout(opts.timeout);
        return ctx.withStore(async (store) => {
          const run = await store.getRun(runId);
          // A run asked for by hand has no record until its node claims it: follow it from there.
          const asked = !run && (await store.pendingTriggers(runId.split('.')[0])).includes(runId);
          if (opts.follow && (run || asked))
            return waitForRun(ctx, store, runId, { follow: true, timeoutMs });
          if (!run)
            throw new NotFoundError(
              asked
                ? `run ${runId} has not started yet (no node claimed it so far); use --follow to wait for it`
                : `no run ${runId}; it may have been pruned from the history`,
            );
          const { chunks } = await store.readLogs(runId);
          if (chunks.length) for (const c of chunks) out(c.data);
          else if (run.tail) {
            process.stderr.write(
              `[the shipped output has expired; the last ${run.tail.length} bytes kept in the run record follow. Full output: ${join('<data dir of ' + run.node + '>', 'logs', run.job, run.id + '.log')}]\n`,
            );
            out(run.tail);
          } else process.stderr.write(`[no output${run.status === 'running' ? ' yet' : ''}]\n`);
          return 0;
        });
      }),
    );
}
