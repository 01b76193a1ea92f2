// `peppercorn console [--port N] [--no-open]`: the web console on 127.0.0.1 with a
// random token, until SIGINT/SIGTERM. The CLI wires its command to runConsoleCommand.
import type { ConnectOptions } from '../../core/etcd';
import { servicesFor } from './services';
import { startWebConsole } from './web-server';
import { openPath, writeRedirectFile, type RedirectFile } from './browser-open';

export interface ConsoleArgs {
  port: number;
  open: boolean;
}

export function parseConsoleArgs(argv: string[]): ConsoleArgs {
  const out: ConsoleArgs = { port: 0, open: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--no-open') out.open = false;
    else if (a === '--port' || a.startsWith('--port=')) {
      const text = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      const n = Number(text);
      if (!Number.isInteger(n) || n < 0 || n > 65535)
        throw new UsageError(`--port takes a port number (0-65535), got ${JSON.stringify(text ?? '')}`);
      out.port = n;
    } else
      throw new UsageError(
        `unknown option "${a}" for console; usage: peppercorn console [--port N] [--no-open]`,
      );
  }
  return out;
}

export class UsageError extends Error {}

/** Runs until SIGINT/SIGTERM; resolves with the exit status (2: bad usage). */
export async function runConsoleCommand(argv: string[], connectOpts: ConnectOptions): Promise<number> {
  let args: ConsoleArgs;
  try {
    args = parseConsoleArgs(argv);
  } catch (err) {
    process.stderr.write(`peppercorn: ${(err as Error).message}\n`);
    return 2;
  }
  // Specs applied in this console are signed with the key PEPPERCORN_SIGN_KEY names, if any.
  const services = servicesFor(connectOpts, undefined, process.env.PEPPERCORN_SIGN_KEY || undefined);
  services.start();
  let web;
  try {
    web = await startWebConsole(services, { port: args.port });
  } catch (err) {
    services.close();
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'EADDRINUSE' ? `port ${args.port} is in use; pick another with --port` : e.message;
    process.stderr.write(`peppercorn: cannot start the console: ${why}\n`);
    return 1;
  }
  process.stdout.write(
    `Peppercorn console for ${connectOpts.endpoints.join(', ')} (prefix ${connectOpts.prefix ?? '/peppercorn/'})\n` +
      `Open: ${web.url}\n(the token in the URL is the key to this console; Ctrl-C stops it)\n`,
  );
  // Never the URL itself on a command line: its token would be in /proc/*/cmdline (browser-open.ts).
  let redirect: RedirectFile | undefined;
  if (args.open) {
    try {
      redirect = writeRedirectFile(web.url);
      openPath(redirect.path);
    } catch (err) {
      process.stderr.write(
        `peppercorn: cannot open a browser (${(err as Error).message}); open the URL above\n`,
      );
    }
  }
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  redirect?.remove();
  await web.close();
  services.close();
  return 0;
}
