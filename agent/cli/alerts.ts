// `peppercorn alerts`: what is open, what was sent where, the alerting config, and a
// test notice to check a channel before an incident needs it.
import { stringify } from 'yaml';
import type { Cluster } from '../core/etcd';
import { getAlerting, listAlerts, resolveAlertByHand, setAlerting } from '../api/alert-store';
import { newAlert, parseAlertingYaml, type Channel } from '../core/alerting';
import { parseDuration } from '../core/job/duration';
import type { AlertRecord, CorruptValueError } from '../core/records';
import { noticeOf, send } from '../alert/channels';
import { parseFlags, parseInteger, UsageError, type GlobalOptions } from './args';
import { iso, table } from './format';
import { print, readInput } from './io';

/** Resolved alerts shown without --all. */
const RECENT = 20;

export async function alertsCommand(
  cluster: Cluster,
  global: GlobalOptions,
  args: string[],
  warn: (err: CorruptValueError) => void,
): Promise<number> {
  const { flags, positionals } = parseFlags(args, {
    all: { type: 'boolean' },
    open: { type: 'boolean' },
    limit: { type: 'string' },
    reason: { type: 'string' },
    file: { type: 'string', short: 'f' },
    'allow-command': { type: 'boolean' },
  });
  const [sub, arg, arg2] = positionals;
  switch (sub) {
    case undefined: {
      let alerts = await listAlerts(cluster, { open: !!flags.open }, warn);
      if (!flags.all && !flags.open) {
        const open = alerts.filter((a) => a.state === 'open');
        alerts = [...open, ...alerts.filter((a) => a.state !== 'open').slice(0, RECENT)];
      }
      if (flags.limit) alerts = alerts.slice(0, parseInteger(flags.limit as string, '--limit', 1));
      print(global, alerts, () =>
        alerts.length
          ? table(
              ['ALERT', 'STATE', 'RULE', 'SUBJECT', 'OPENED', 'DELIVERY', 'SUMMARY'],
              alerts.map((a) => [
                a.id,
                a.state,
                a.rule,
                a.job ?? a.node ?? '-',
                iso(a.openedAt),
                deliverySummary(a),
                a.summary + (a.resolution ? ` [resolved: ${a.resolution}]` : ''),
              ]),
            )
          : 'no alerts',
      );
      return 0;
    }
    case 'resolve': {
      if (!arg) throw new UsageError('peppercorn alerts resolve needs an alert id (see `peppercorn alerts`)');
      const a = await resolveAlertByHand(cluster, arg, (flags.reason as string) ?? 'resolved by an operator');
      print(global, a, () => `${a.id}: resolved (${a.resolution})`);
      return 0;
    }
    case 'config': {
      if (arg === 'apply') {
        const file = flags.file as string | undefined;
        if (!file)
          throw new UsageError('peppercorn alerts config apply needs -f FILE (or -f - for standard input)');
        const parsed = parseAlertingYaml(readInput(file));
        if (!parsed.ok) {
          for (const e of parsed.errors) process.stderr.write(`${file}: ${e.field}: ${e.message}\n`);
          process.stderr.write('nothing was stored\n');
          return 2;
        }
        await setAlerting(cluster, parsed.config);
        const names = Object.keys(parsed.config.channels);
        process.stdout.write(
          `alerting config stored: ${names.length} channel(s)${names.length ? ` (${names.join(', ')})` : ''}\n`,
        );
        return 0;
      }
      if (arg !== undefined)
        throw new UsageError(`unknown alerts config command "${arg}"; use apply -f FILE`);
      const { config, stored } = await getAlerting(cluster);
      print(
        global,
        config,
        () => (stored ? '' : '# none applied yet; the built-in config:\n') + stringify(config).trimEnd(),
      );
      return 0;
    }
    case 'test': {
      if (!arg)
        throw new UsageError('peppercorn alerts test needs a channel name (see `peppercorn alerts config`)');
      const { config } = await getAlerting(cluster);
      const channel = config.channels[arg];
      if (!channel)
        throw new UsageError(
          `no channel "${arg}"; channels: ${Object.keys(config.channels).join(', ') || 'none'}`,
        );
      if (arg2 !== undefined) throw new UsageError('peppercorn alerts test takes one channel name');
      const refused = refuseTestHere(arg, channel, !!flags['allow-command']);
      if (refused) throw new UsageError(refused);
      const alert: AlertRecord = newAlert(
        {
          id: `test.${Date.now()}`,
          rule: 'failure',
          summary: `test notice from peppercorn alerts test ${arg}`,
        },
        [arg],
        false,
        Date.now(),
      );
      // No secret from this environment: a test sends only what needs none (see refuseTestHere).
      await send(
        channel,
        noticeOf(alert, 'open', cluster.prefix),
        parseDuration(config.delivery.timeout),
        {},
      );
      process.stdout.write(`sent a test notice through ${arg} (${channel.type})\n`);
      return 0;
    }
    default:
      throw new UsageError(
        `unknown alerts command "${sub}"; use resolve, config or test (or nothing to list)`,
      );
  }
}

/**
 * Why `alerts test` will not send through this channel from here, or undefined. The test runs where
 * the operator is, with whatever the alerting config in etcd says: whoever can write that value must
 * not get a command run on the operator's workstation, nor a variable of the operator's environment
 * (a cloud key named as `passwordEnv`) sent to a host of their choosing. Secrets named by a channel
 * belong to the agents' environment only, so channels that need one are tested by the agents
 * themselves (a real alert), never from here.
 */
export function refuseTestHere(name: string, channel: Channel, allowCommand: boolean): string | undefined {
  if (channel.type === 'command' && !allowCommand)
    return (
      `channel "${name}" runs a command (${JSON.stringify(channel.command)}) on this machine; ` +
      'check it, then run peppercorn alerts test ' +
      `${name} --allow-command (it runs with a minimal environment, none of yours)`
    );
  const named =
    channel.type === 'smtp' && channel.passwordEnv
      ? [`passwordEnv ${channel.passwordEnv}`]
      : channel.type === 'webhook' && channel.headersEnv
        ? Object.entries(channel.headersEnv).map(([h, v]) => `header ${h} from ${v}`)
        : [];
  if (named.length)
    return (
      `channel "${name}" takes a secret from the agents' environment (${named.join(', ')}); ` +
      'alerts test sends from this machine and does not read your environment for a name the ' +
      'alerting config chose. Test it through the agents: a job with alerts: { on: [failure], ' +
      `channels: [${name}] } and command: "exit 1", run with peppercorn job run`
    );
  return undefined;
}

function deliverySummary(a: AlertRecord): string {
  const parts = Object.values(a.deliveries).map((d) => {
    const what = d.event === 'resolved' ? `${d.channel}(resolved)` : d.channel;
    switch (d.state) {
      case 'delivered':
        return `${what} sent`;
      case 'failed':
        return `${what} FAILED after ${d.attempts}: ${d.lastError ?? ''}`;
      case 'sending':
        return `${what} sending (attempt ${d.attempts})`;
      default:
        return d.attempts ? `${what} retry ${iso(d.nextAt)} (${d.lastError ?? ''})` : `${what} pending`;
    }
  });
  return parts.join('; ') || 'no channel';
}
