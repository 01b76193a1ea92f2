// `peppercorn logs RUN [--follow] [--tail N] [--since 10m|TIME]`: a run's whole output, from
// etcd or from the node that ran it (api/run-output.ts decides and fetches); --follow tails
// it and exits with the run's status.
import type { Command } from 'commander';
import { NotFoundError } from '../../api/store';
import { readRunOutput } from '../../api/run-output';
import { parseInteger } from '../args';
import { parseSince } from '../logs';
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
    .option('--tail <n>', 'only the last N lines')
    .option('--since <when>', 'only output written since then: a duration back (10m) or a time')
    .addHelpText(
      'after',
      `
${EXIT_HELP}

Examples:
  $ peppercorn logs nightly-report.1714521600000.1
  $ peppercorn logs nightly-report.1714521600000.1 --tail 100
  $ peppercorn logs "$(peppercorn job run deploy-hook)" --follow || echo "deploy failed: $?"`,
    )
    .action(
      act(
        ctx,
        async (
          runId: string,
          opts: { follow?: boolean; timeout?: string; tail?: string; since?: string },
        ) => {
          const timeoutMs = parseWaitTimeout(opts.timeout);
          const tailLines = opts.tail === undefined ? undefined : parseInteger(opts.tail, '--tail', 0);
          const since = opts.since === undefined ? undefined : parseSince(opts.since, Date.now());
          return ctx.withStore(async (store, cluster) => {
            const run = await store.getRun(runId);
            // A run asked for by hand has no record until its node claims it: follow it from there.
            const asked = !run && (await store.pendingTriggers(runId.split('.')[0])).includes(runId);
            if (opts.follow && (run || asked) && tailLines === undefined && since === undefined)
              return waitForRun(ctx, store, runId, { follow: true, timeoutMs });
            if (!run)
              throw new NotFoundError(
                asked
                  ? `run ${runId} has not started yet (no node claimed it so far); use --follow to wait for it`
                  : `no run ${runId}; it may have been pruned from the history`,
              );
            // The whole output: etcd's copy while it is complete, else streamed from the run's node.
            let wrote = false;
            const result = await readRunOutput(cluster, runId, {
              follow: !!opts.follow,
              tailLines,
              since,
              onData: (data) => {
                wrote = true;
                out(data);
              },
              onNote: (note) => process.stderr.write(`[${note}]\n`),
            });
            const final = result.run ?? run;
            if (!wrote && result.source !== 'etcd-partial' && tailLines !== 0)
              process.stderr.write(
                `[no output${final.status === 'running' ? ' yet' : since !== undefined ? ' since then' : ''}]\n`,
              );
            return 0;
          });
        },
      ),
    );
}
