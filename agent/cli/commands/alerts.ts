// `peppercorn alerts ...`: the command tree and help; the work is alertsCommand (../alerts.ts).
import type { Command } from 'commander';
import { alertsCommand } from '../alerts';
import { act, withOutput, type CliContext } from '../context';
import { outputFormat } from '../output';

export function registerAlerts(program: Command, ctx: CliContext): void {
  const run = (args: string[], opts: { output?: string; json?: boolean } = {}) => {
    const output = outputFormat(opts);
    return ctx.withStore((store, cluster) =>
      alertsCommand(cluster, { json: output === 'json', output }, args, (err) =>
        store.warnings.push(err.message),
      ),
    );
  };
  const alerts = withOutput(
    program
      .command('alerts')
      .description('open alerts and the 20 latest resolved ones, with where each notice went')
      .option('--open', 'only open alerts')
      .option('--all', 'every alert kept, not only the 20 latest resolved')
      .option('--limit <n>', 'at most this many')
      .addHelpText(
        'after',
        `
JSON fields: [{id, rule, job, node, run, summary, openedAt, state, resolvedAt, resolution, channels,
notifyResolved, deliveries}]

Examples:
  $ peppercorn alerts --open
  $ peppercorn alerts config apply -f alerting.yaml
  $ peppercorn alerts test ops`,
      ),
    'json|yaml',
  ).action(
    act(ctx, (opts: { open?: boolean; all?: boolean; limit?: string; output?: string; json?: boolean }) =>
      run(
        [
          ...(opts.open ? ['--open'] : []),
          ...(opts.all ? ['--all'] : []),
          ...(opts.limit !== undefined ? ['--limit', opts.limit] : []),
        ],
        opts,
      ),
    ),
  );
  alerts
    .command('resolve')
    .argument('<id>', 'the alert id (see `peppercorn alerts`)')
    .option('--reason <text>', 'why, shown with the alert and in its resolution notice')
    .description("resolve an alert by hand (e.g. a retired machine's node-down alert)")
    .action(
      act(ctx, (id: string, opts: { reason?: string }) =>
        run(['resolve', id, ...(opts.reason !== undefined ? ['--reason', opts.reason] : [])]),
      ),
    );
  const config = withOutput(
    alerts
      .command('config')
      .description('show the alerting config (channels, default and cluster rules); `apply` replaces it')
      .addHelpText(
        'after',
        '\nField documentation: `peppercorn explain alerting`.\n\nExample:\n  $ peppercorn alerts config -o yaml > alerting.yaml',
      ),
    'json|yaml',
  ).action(act(ctx, (opts: { output?: string; json?: boolean }) => run(['config'], opts)));
  config
    .command('apply')
    .requiredOption('-f, --file <file>', 'the config file, or - for standard input')
    .description('replace the alerting config, all or nothing')
    .action(act(ctx, (opts: { file: string }) => run(['config', 'apply', '-f', opts.file])));
  alerts
    .command('test')
    .argument('<channel>', 'a channel of the alerting config')
    .description('send a test notice through a channel, from here, to check it before an incident does')
    .option('--allow-command', 'a command channel: run its command here (with a minimal environment)')
    .addHelpText(
      'after',
      "\nA channel that needs a secret from the agents' environment is tested through the agents instead.",
    )
    .action(
      act(ctx, (channel: string, opts: { allowCommand?: boolean }) =>
        run(['test', channel, ...(opts.allowCommand ? ['--allow-command'] : [])]),
      ),
    );
}
