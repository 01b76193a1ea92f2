// The `peppercorn` command: parse, run one command, exit once output has drained.
// The commands live in commands/, one module each; program.ts assembles them.
import { buildProgram } from './program';
import { drained, guardStdout } from './output';
import { reportFailure } from './exit';
import { redactKnown } from '../core/redact';

// An unhandled 'error' anywhere must not kill an agent silently.
process.on('unhandledRejection', (err) =>
  process.stderr.write(`peppercorn: unexpected: ${redactKnown(String((err as Error)?.stack ?? err))}\n`),
);

async function main(): Promise<void> {
  const { program, ctx, run } = buildProgram();
  // The reader went away (`| head -1`): stop quietly, as a shell tool killed by SIGPIPE would.
  guardStdout(() => ctx.closed.abort());
  let status: number;
  try {
    status = await run(process.argv.slice(2));
  } catch (err) {
    status = reportFailure(
      err,
      () => ctx.endpoints(),
      () => ctx.etcdUser(),
    );
  }
  void program;
  await drained();
  process.exit(status);
}

void main();
