// The CLI's exit statuses, one place (documented in the README and in `peppercorn --help`):
//   0  ok
//   1  failure (etcd unreachable, not found, refused...)
//   2  usage or invalid input (bad flags, invalid specs or config)
//   a run's status, for commands that wait for a run (`job run --wait`, `logs --follow`):
//      0 succeeded, the command's exit code when it failed (128+N when killed by signal N),
//      124 timed out (as timeout(1)), 3 lost or skipped.
import { constants } from 'node:os';
import { NotFoundError, SpecConflictError } from '../api/store';
import { describeEtcdError } from '../core/etcd';
import { CorruptValueError, type RunRecord } from '../core/records';
import { DuplicateNodeError } from '../node/membership';
import { UsageError } from './args';
import { ConfigError } from '../core/agent-config';
import { redactKnown } from '../core/redact';
import { permissionMessage } from '../core/roles';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
export const EXIT_RUN_LOST = 3;
export const EXIT_RUN_TIMEOUT = 124;

export const EXIT_HELP = `Exit status:
  0    ok
  1    failure (etcd unreachable, no such job or run, refused by the cluster)
  2    usage or invalid input (unknown flag, invalid spec or config file)
  For commands that wait for a run (job run --wait, logs --follow), the run's status:
  0 succeeded; its exit code when it failed (128+N when killed by signal N);
  124 timed out; 3 lost or skipped.`;

/** The status a waiting command exits with for a finished run. */
export function runExitStatus(run: Pick<RunRecord, 'status' | 'exitCode' | 'signal'>): number {
  switch (run.status) {
    case 'succeeded':
      return EXIT_OK;
    case 'timeout':
      return EXIT_RUN_TIMEOUT;
    case 'failed': {
      if (run.signal) {
        const n = (constants.signals as Record<string, number>)[run.signal];
        return n ? 128 + n : EXIT_FAILURE;
      }
      // A failed run always exits non-zero: a failure never reads as success.
      return run.exitCode ? run.exitCode & 0xff || EXIT_FAILURE : EXIT_FAILURE;
    }
    default:
      return EXIT_RUN_LOST;
  }
}

/** One readable line on stderr for an error, and the status it ends with. */
export function reportFailure(
  err: unknown,
  endpoints: () => string[],
  etcdUser: () => string | null = () => null,
): number {
  if (err instanceof UsageError || err instanceof SpecConflictError || err instanceof ConfigError) {
    process.stderr.write(`peppercorn: ${err.message}\n`);
    return EXIT_USAGE;
  }
  if (
    err instanceof NotFoundError ||
    err instanceof DuplicateNodeError ||
    err instanceof CorruptValueError ||
    (err instanceof Error && err.message.startsWith('cannot serve metrics'))
  ) {
    process.stderr.write(`peppercorn: ${redactKnown(err.message)}\n`);
    return EXIT_FAILURE;
  }
  const denied = permissionMessage(err, etcdUser(), 'make this change');
  if (denied) {
    process.stderr.write(`peppercorn: ${denied}\n`);
    return EXIT_FAILURE;
  }
  const msg =
    err instanceof Error &&
    /etcd|grpc|Unavailable|deadline|ECONNREFUSED|circuit/i.test(`${err.constructor.name} ${err.message}`)
      ? describeEtcdError(err, endpoints())
      : ((err as Error)?.message ?? String(err));
  process.stderr.write(`peppercorn: ${redactKnown(msg)}\n`);
  return EXIT_FAILURE;
}
