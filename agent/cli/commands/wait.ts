// Waiting for a run to end (`job run --wait`, `logs --follow`): optionally printing its
// output as it comes, and ending with the run's status (see exit.ts).
import { parseDuration } from '../../core/job/duration';
import type { RunRecord } from '../../core/records';
import type { Store } from '../../api/store';
import { UsageError } from '../args';
import type { CliContext } from '../context';
import { EXIT_FAILURE, runExitStatus } from '../exit';
import { out } from '../output';

export function parseWaitTimeout(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  try {
    return parseDuration(text);
  } catch (err) {
    throw new UsageError(`--timeout: ${(err as Error).message}`);
  }
}

/** The final line on stderr, e.g. `[run x.1.1 failed, exit 3]`. */
export function describeEnd(run: RunRecord): string {
  const how = run.signal ? `, signal ${run.signal}` : run.exitCode != null ? `, exit ${run.exitCode}` : '';
  return `[run ${run.id} ${run.status}${how}${run.reason && run.status !== 'succeeded' ? `: ${run.reason}` : ''}]\n`;
}

export async function waitForRun(
  ctx: CliContext,
  store: Store,
  runId: string,
  opts: { follow: boolean; timeoutMs?: number },
): Promise<number> {
  const signals = [ctx.closed.signal];
  if (opts.timeoutMs !== undefined) signals.push(AbortSignal.timeout(opts.timeoutMs));
  const signal = AbortSignal.any(signals);
  const final = await store.followLogs(runId, opts.follow ? (d) => out(d) : () => undefined, signal);
  if (ctx.closed.signal.aborted) return 0;
  if (!final || final.status === 'running') {
    process.stderr.write(
      `peppercorn: run ${runId} ${final ? 'is still running' : 'has not started yet'} after --timeout; it goes on (see \`peppercorn logs ${runId} --follow\`)\n`,
    );
    return EXIT_FAILURE;
  }
  process.stderr.write(describeEnd(final));
  return runExitStatus(final);
}
