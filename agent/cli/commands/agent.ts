// `peppercorn agent`: run this machine as a node. Settings: flags, then PEPPERCORN_*
// variables, then the config file (validated strictly as a whole, see core/agent-config.ts).
import type { Command } from 'commander';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { connect } from '../../core/etcd';
import { parseDuration } from '../../core/job/duration';
import { Agent, type AgentOptions } from '../../agent';
import { createLogger, chooseFormat, parseLevel } from '../../logger/logger';
import { applyTestClockOffset, CLOCK_OFFSET_ENV } from '../../node/clock-offset';
import { installTestStall } from '../../node/test-stall';
import { UsageError, parseInteger, parseLabels } from '../args';
import { act, type CliContext } from '../context';
import { out } from '../output';
import { agentTrust } from '../agent-trust';

interface AgentFlags {
  nodeId?: string;
  labels?: string;
  capacity?: string;
  dataDir?: string;
  leaseTtl?: string;
  keepRuns?: string;
  historyWindow?: string;
  priorityBoost?: string;
  misfireThreshold?: string;
  metricsPort?: string;
  metricsHost?: string;
  logFormat?: string;
  containerRuntime?: string;
  outputBudgetMib?: string;
  clockSkew?: string;
  overloadLag?: string;
  overloadLate?: string;
  overloadAlertAfter?: string;
  checkConfig?: boolean;
  trustedKeys?: string;
  allowUsers?: string;
  denyUsers?: string;
}

/** --log-format (or PEPPERCORN_LOG_FORMAT) and PEPPERCORN_LOG_LEVEL; see agent/logger. */
function agentLog(node: string, format: string | undefined) {
  try {
    return createLogger({
      node,
      format: chooseFormat(format ?? process.env.PEPPERCORN_LOG_FORMAT, process.stdout.isTTY === true),
      level: parseLevel(process.env.PEPPERCORN_LOG_LEVEL),
    }).log;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** The agent's settings from flags and the validated config; pure but for the environment. */
export function agentSettings(
  flags: AgentFlags,
  config: import('../../core/agent-config').ConfigFile,
  env: NodeJS.ProcessEnv = process.env,
): Omit<AgentOptions, 'log'> {
  const nodeId = flags.nodeId ?? env.PEPPERCORN_NODE_ID ?? config.nodeId ?? hostname();
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(nodeId))
    throw new UsageError(`bad node id "${nodeId}": use letters, digits, . _ -`);
  const int = (flag: string | undefined, cfg: number | undefined, name: string, min: number, dflt: number) =>
    flag !== undefined ? parseInteger(flag, name, min) : (cfg ?? dflt);
  const dur = (flag: string | undefined, cfg: string | undefined, name: string) => {
    const text = flag ?? cfg;
    if (text === undefined) return undefined;
    try {
      return parseDuration(text);
    } catch (err) {
      throw new UsageError(`${name}: ${(err as Error).message}`);
    }
  };
  const leaseTtlSec = int(flags.leaseTtl, config.leaseTtl, '--lease-ttl', 2, 5);
  const defaultDir =
    process.getuid?.() === 0 ? '/var/lib/peppercorn' : join(env.HOME ?? '.', '.local/state/peppercorn');
  const metricsPort =
    flags.metricsPort !== undefined
      ? parseInteger(flags.metricsPort, '--metrics-port', 0)
      : config.metricsPort;
  if (metricsPort !== undefined && metricsPort > 65535)
    throw new UsageError(`--metrics-port must be a port number (0-65535), got ${metricsPort}`);
  const lateLimitMs = dur(flags.misfireThreshold, config.misfireThreshold, '--misfire-threshold');
  const clockSkewMs = dur(flags.clockSkew, config.clockSkew, '--clock-skew');
  const overload = Object.fromEntries(
    Object.entries({
      lagMs: dur(flags.overloadLag, config.overloadLag, '--overload-lag'),
      lateMs: dur(flags.overloadLate, config.overloadLate, '--overload-late'),
      alertAfterMs: dur(flags.overloadAlertAfter, config.overloadAlertAfter, '--overload-alert-after'),
    }).filter(([, v]) => v !== undefined),
  );
  return {
    nodeId,
    labels: flags.labels !== undefined ? parseLabels(flags.labels) : (config.labels ?? {}),
    capacity: int(flags.capacity, config.capacity, '--capacity', 0, 0),
    dataDir: flags.dataDir ?? config.dataDir ?? join(defaultDir, nodeId),
    leaseTtlSec,
    historyWindowMs: dur(flags.historyWindow, config.historyWindow, '--history-window'),
    metrics:
      metricsPort === undefined
        ? undefined
        : { port: metricsPort, host: flags.metricsHost ?? config.metricsHost ?? '127.0.0.1' },
    priorityBoost: int(flags.priorityBoost, config.priorityBoost, '--priority-boost', 0, 10),
    scheduler: {
      keepRuns: int(flags.keepRuns, config.keepRuns, '--keep-runs', 1, 200),
      outputBudgetBytes:
        int(flags.outputBudgetMib, config.outputBudgetMiB, '--output-budget-mib', 1, 256) << 20,
      ...(lateLimitMs !== undefined ? { lateLimitMs } : {}),
    },
    ...(clockSkewMs !== undefined ? { clockSkewMs } : {}),
    ...(Object.keys(overload).length ? { overload } : {}),
    containerRuntime: flags.containerRuntime ?? config.containerRuntime,
    ...agentTrust(flags, config),
  };
}

export function registerAgent(program: Command, ctx: CliContext): void {
  program
    .command('agent')
    .description('run this machine as a node of the cluster (until SIGTERM / Ctrl-C)')
    .option('--node-id <id>', "the node's name (default: hostname; PEPPERCORN_NODE_ID)")
    .option('--labels <k=v,...>', 'labels that job selectors match')
    .option('--capacity <n>', 'most jobs this node will own (0: no limit)')
    .option('--data-dir <dir>', 'run output files and the lease record')
    .option('--lease-ttl <seconds>', "the node's lease; failover happens after it (default 5)")
    .option('--keep-runs <n>', 'run records kept per job in etcd (default 200)')
    .option('--history-window <duration>', 'etcd history kept before compaction (default 5m)')
    .option('--priority-boost <n>', 'niceness the agent takes above its jobs (root only; default 10)')
    .option('--misfire-threshold <duration>', 'a time later than this has misfired (default 60s)')
    .option('--metrics-port <n>', 'serve Prometheus metrics at /metrics and /healthz (0: any free port)')
    .option('--metrics-host <host>', 'address of the metrics server (default 127.0.0.1)')
    .option(
      '--container-runtime <command>',
      'the container runtime and its fixed arguments, or "none" (default: podman or docker, found on PATH)',
    )
    .option(
      '--output-budget-mib <n>',
      'run output kept in etcd by the whole cluster, in MiB; each node keeps to its share (default 256)',
    )
    .option(
      '--clock-skew <duration>',
      'a node whose clock is off by more than this claims nothing (default 1s)',
    )
    .option(
      '--overload-lag <duration>',
      'the node is overloaded while its event loop runs this late (default 500ms)',
    )
    .option(
      '--overload-late <duration>',
      'the node is overloaded while its launches start this late, 90th percentile (default 1s)',
    )
    .option(
      '--overload-alert-after <duration>',
      'overloaded this long raises a node-overloaded alert (default 10s)',
    )
    .option(
      '--trusted-keys <files-or-keys>',
      'run only specs signed by one of these public keys (comma-separated .pub files or base64 keys)',
    )
    .option(
      '--allow-users <users>',
      'node policy: users jobs may run as (comma-separated; root only if listed)',
    )
    .option('--deny-users <users>', 'node policy: users jobs may never run as (comma-separated)')
    .option(
      '--check-config',
      'validate the config file and flags, print the settings, and exit (0 ok, 2 refused)',
    )
    .addHelpText(
      'after',
      `
The config file (--config FILE or PEPPERCORN_CONFIG) takes the same settings in camelCase
and the connection (etcd, prefix, user, passwordFile, cacert, cert, key); unknown keys and
wrong types are refused with the key named. Fields: \`peppercorn explain config\`.
Schema: schemas/agent-config.schema.json.

Examples:
  $ peppercorn agent --etcd https://etcd1:2379,https://etcd2:2379 --labels zone=eu,disk=ssd
  $ peppercorn agent --config /etc/peppercorn/agent.yaml --check-config`,
    )
    .action(
      act(ctx, async (flags: AgentFlags) => {
        const conn = ctx.connection();
        const settings = agentSettings(flags, conn.config);
        if (flags.checkConfig) {
          agentLog(settings.nodeId, flags.logFormat);
          out(
            `${conn.configPath ? `config file ${conn.configPath}: valid` : 'no config file'}\n` +
              `etcd: ${conn.connect.endpoints.join(', ')}\nprefix: ${conn.connect.prefix ?? '/peppercorn/'}\n` +
              `user: ${conn.connect.user ?? '-'}${conn.connect.password !== undefined ? ' (password set)' : ''}\n` +
              `node: ${settings.nodeId}  labels: ${JSON.stringify(settings.labels)}  capacity: ${settings.capacity || 'no limit'}\n` +
              `data dir: ${settings.dataDir}  lease TTL: ${settings.leaseTtlSec}s\n`,
          );
          return 0;
        }
        const log = agentLog(settings.nodeId, flags.logFormat);
        const skew = applyTestClockOffset();
        if (skew) process.stderr.write(`peppercorn: test clock offset ${skew} ms (${CLOCK_OFFSET_ENV})\n`);
        installTestStall();
        const cluster = connect({
          ...conn.connect,
          callTimeoutMs: Math.min(5000, settings.leaseTtlSec * 1000),
        });
        const agent = new Agent(cluster, { ...settings, log });
        try {
          await agent.start();
        } catch (err) {
          cluster.close();
          throw err;
        }
        await new Promise<void>((resolve) => {
          let stopping = false;
          const stop = (sig: string) => {
            if (stopping) {
              process.stderr.write(`second ${sig}: exiting now\n`);
              process.exit(1);
            }
            stopping = true;
            void agent.stop().finally(resolve);
          };
          process.on('SIGTERM', () => stop('SIGTERM'));
          process.on('SIGINT', () => stop('SIGINT'));
        });
        cluster.close();
        return 0;
      }),
    );
}
