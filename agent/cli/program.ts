// The command tree on commander: global options, help at every level (with examples and
// the exit statuses), --version, and usage errors that end with status 2.
import { Command, CommanderError, Option } from 'commander';
import { VERSION } from '../version';
import { CliContext } from './context';
import { EXIT_HELP, EXIT_USAGE } from './exit';
import { registerJob } from './commands/job';
import { registerRuns } from './commands/runs';
import { registerLogs } from './commands/logs';
import { registerNodes } from './commands/nodes';
import { registerAlerts } from './commands/alerts';
import { registerAgent } from './commands/agent';
import { registerConsole } from './commands/console';
import { registerImportCrontab } from './commands/import-crontab';
import { registerExplain } from './commands/explain';
import { registerCompletion } from './commands/completion';
import { registerKeys } from './keys';
import { registerEtcdRoles } from './roles';

const EXAMPLES = `
Examples:
  $ export PEPPERCORN_ETCD=https://etcd1:2379,https://etcd2:2379
  $ peppercorn job apply -f jobs.yaml
  $ peppercorn job ls -o wide
  $ peppercorn job run nightly-report --wait --follow
  $ peppercorn logs "$(peppercorn job run deploy-hook)" --follow && echo deployed
  $ peppercorn job get nightly-report -o yaml > nightly-report.yaml
  $ peppercorn explain job.retries

Environment: PEPPERCORN_ETCD, PEPPERCORN_PREFIX, PEPPERCORN_USER, PEPPERCORN_PASSWORD,
PEPPERCORN_PASSWORD_FILE, PEPPERCORN_CACERT, PEPPERCORN_CERT, PEPPERCORN_KEY, PEPPERCORN_CONFIG.
Flags win over the environment, which wins over the config file.

${EXIT_HELP}
`;

export interface Program {
  program: Command;
  ctx: CliContext;
  /** Parses and runs; resolves with the exit status. */
  run(argv: string[]): Promise<number>;
}

export function buildProgram(): Program {
  const program = new Command('peppercorn');
  const ctx = new CliContext(program);
  program
    .description('Peppercorn: distributed cron on etcd. Manage jobs, runs, nodes and alerts; run an agent.')
    .version(VERSION, '-V, --version', 'print the version')
    .option('--etcd <urls>', 'etcd endpoints, comma-separated (default http://127.0.0.1:2379)')
    .option('--prefix <prefix>', 'key prefix of the cluster (default /peppercorn/)')
    .option('--user <name>', 'etcd user')
    .option('--password-file <file>', "a file holding the etcd user's password (mode 600)")
    .option('--cacert <file>', 'CA certificate for https:// endpoints (default: the system CAs)')
    .option('--cert <file>', 'client certificate (TLS client authentication)')
    .option('--key <file>', "the client certificate's private key")
    .option('--config <file>', 'agent/CLI config file, YAML (see `peppercorn explain config`)')
    // Refused with a clear message rather than "unknown option": say where the password goes.
    .addOption(new Option('--password <password>').hideHelp())
    .addHelpText('after', EXAMPLES)
    .showSuggestionAfterError(true)
    .helpCommand('help [command]', 'help for a command');

  for (const register of [
    registerJob,
    registerRuns,
    registerLogs,
    registerNodes,
    registerAlerts,
    registerImportCrontab,
    registerExplain,
    registerAgent,
    registerConsole,
    registerKeys,
    registerEtcdRoles,
    registerCompletion,
  ])
    register(program, ctx);

  configureTree(program);

  return {
    program,
    ctx,
    async run(argv) {
      if (argv.length === 0) {
        program.outputHelp({ error: true });
        return EXIT_USAGE;
      }
      try {
        await program.parseAsync(argv, { from: 'user' });
      } catch (err) {
        if (err instanceof CommanderError) {
          if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return 0;
          return EXIT_USAGE;
        }
        throw err;
      }
      return ctx.status;
    },
  };
}

/** Every command: usage errors as `peppercorn: ...` with status 2, global options in its help. */
function configureTree(cmd: Command): void {
  cmd
    .exitOverride()
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .configureOutput({
      outputError: (str, write) => write(`peppercorn: ${str.replace(/^error: /, '')}`),
    })
    .showHelpAfterError(`(see \`${fullName(cmd)} --help\`)`);
  for (const sub of cmd.commands) configureTree(sub);
}

export function fullName(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}
