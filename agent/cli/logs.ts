// `peppercorn logs RUN [--follow] [--tail N] [--since 10m|TIME]`: a run's whole output, from etcd
// or from the node that ran it (agent/core/run-output.ts decides and fetches); notes on stderr.
import type { Cluster } from '../core/etcd';
import { NotFoundError } from '../core/store';
import { parseDuration } from '../core/job/duration';
import { readRunOutput } from '../core/run-output';
import { parseFlags, parseInteger, UsageError } from './args';

export const LOGS_USAGE =
  'logs RUN_ID [--follow] [--tail N] [--since 10m|TIME]   a run’s output (from its node when etcd no longer has it all)';

export async function logsCommand(cluster: Cluster, args: string[], now = Date.now()): Promise<number> {
  const { flags, positionals } = parseFlags(args, {
    follow: { type: 'boolean', short: 'f' },
    tail: { type: 'string' },
    since: { type: 'string' },
  });
  const runId = positionals[0];
  if (!runId) throw new UsageError('peppercorn logs needs a run id (see `peppercorn runs JOB`)');
  const tailLines = flags.tail === undefined ? undefined : parseInteger(flags.tail as string, '--tail', 0);
  const since = flags.since === undefined ? undefined : parseSince(flags.since as string, now);
  let wrote = false;
  // Write errors (EPIPE) reach writeOut's callback; without a listener they would also crash us.
  process.stdout.on('error', () => undefined);
  const result = await readRunOutput(cluster, runId, {
    follow: !!flags.follow,
    tailLines,
    since,
    onData: (data) => {
      wrote = true;
      return writeOut(data);
    },
    onNote: (note) => process.stderr.write(`[${note}]\n`),
  }).catch((err: NodeJS.ErrnoException) => {
    // The reader went away (`| head`): not an error of ours.
    if (err.code === 'EPIPE') return null;
    throw err;
  });
  if (!result) return 0;
  const { run } = result;
  if (!run) throw new NotFoundError(`no run ${runId}; it may have been pruned from the history`);
  if (!wrote && result.source !== 'etcd-partial' && tailLines !== 0)
    process.stderr.write(
      `[no output${run.status === 'running' ? ' yet' : since !== undefined ? ' since then' : ''}]\n`,
    );
  if (flags.follow)
    process.stderr.write(
      `[run ${run.id} ${run.status}${run.exitCode != null ? `, exit ${run.exitCode}` : ''}]\n`,
    );
  return 0;
}

/** `--since 10m` (that long ago) or an ISO time. */
export function parseSince(text: string, now: number): number {
  if (/^\d{4}-\d\d-\d\d/.test(text)) {
    const t = Date.parse(text);
    if (Number.isFinite(t)) return t;
  } else {
    try {
      return now - parseDuration(text);
    } catch {
      // fall through to the usage message
    }
  }
  throw new UsageError(
    `--since takes a duration back from now (30s, 10m, 2h) or a time (2025-01-31T12:00:00Z), got "${text}"`,
  );
}

/** Resolves once the OS has the bytes, so a pipe gets all of them before the process exits. */
function writeOut(data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    process.stdout.write(data, (err) => (err ? reject(err) : resolve()));
  });
}
