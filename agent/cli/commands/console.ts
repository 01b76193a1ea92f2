// `peppercorn console`: the web console in a browser (the server lives in agent/console/server).
import type { Command } from 'commander';
import { act, type CliContext } from '../context';

export function registerConsole(program: Command, ctx: CliContext): void {
  program
    .command('console')
    .description('the console in a browser: binds 127.0.0.1, prints a URL with a random token')
    .option('--port <n>', 'port to listen on (default: any free port)')
    .option('--no-open', 'print the URL, do not open a browser')
    .addHelpText('after', '\nExample:\n  $ peppercorn console --port 8080 --no-open')
    .action(
      act(ctx, async (opts: { port?: string; open: boolean }) => {
        // Loaded only here: agents and other commands do not pay for the web server.
        const { runConsoleCommand } = await import('../../console/server/console-command');
        const argv = [
          ...(opts.port !== undefined ? ['--port', opts.port] : []),
          ...(opts.open ? [] : ['--no-open']),
        ];
        return runConsoleCommand(argv, ctx.connection().connect);
      }),
    );
}
