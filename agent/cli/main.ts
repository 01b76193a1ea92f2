// The `peppercorn` command: run an agent, manage jobs, read runs and logs.
// Errors end with a non-zero status and one readable line.
import { hostname } from 'node:os';
import { join } from 'node:path';
import { connect, describeEtcdError, type Cluster } from '../core/etcd';
import { Store, NotFoundError, SpecConflictError, setCordon, forgetNode } from '../core/store';
import { parseJobFile, jobsToYaml } from '../core/job/files';
import { crontabToJobs } from '../core/job/crontab';
import { renderGraph } from '../core/job/deps';
import { nextTimes } from '../core/job/schedule';
import { parseDuration } from '../core/job/duration';
import { CorruptValueError } from '../core/records';
import { Agent } from '../agent';
import { applyTestClockOffset, CLOCK_OFFSET_ENV } from '../node/clock-offset';
import { DuplicateNodeError } from '../node/membership';
import { parseGlobal, parseFlags, parseLabels, parseInteger, UsageError, type GlobalOptions } from './args';
import { table, iso, seconds, labels } from './format';
import { print, readInput } from './io';
import { alertsCommand } from './alerts';
import { keysCommand, signingKeyFrom, jobHistoryCommand, jobComments } from './keys';
import { agentTrust, AGENT_TRUST_FLAGS } from './agent-trust';
import { permissionMessage } from '../core/roles';
import { etcdRolesCommand } from './roles';
import { redactKnown } from '../core/redact';

const HELP = `peppercorn — distributed cron on etcd

Usage: peppercorn [global options] <command> [options]

Commands:
  agent [--node-id ID] [--labels k=v,...] [--capacity N] [--data-dir DIR] [--lease-ttl SECONDS]
        [--keep-runs N] [--history-window 5m] [--priority-boost 10] [--misfire-threshold 60s]
        [--metrics-port N [--metrics-host 127.0.0.1]]
        [--trusted-keys FILE|KEY,...] [--allow-users U,...] [--deny-users U,...]
  job apply -f FILE|- [--sign-key KEY]   store job specs (YAML/JSON); all or nothing;
                               signed with KEY (or PEPPERCORN_SIGN_KEY) when given
  job ls                       list jobs
  job get NAME                 show a job (YAML; --json)
  job rm NAME                  delete a job and its history
  job pause NAME | job resume NAME
  job run NAME                 run now; prints the run id
  job next NAME [-n 5]         next firing times
  job graph [NAME]             the dependency graph (jobs with after:)
  job history NAME             who changed the job, when, and what
  keys generate [--out FILE]   a key pair for signing job specs (FILE, FILE.pub)
  etcd-roles                   etcdctl commands for least-privilege roles (agent, operator, viewer)
  runs JOB [--limit N]         run history, newest first
  logs RUN_ID [--follow]       a run's output
  nodes                        nodes, leader, running runs
  node cordon|uncordon|drain NODE   stop new jobs / move jobs away as they go idle
  node forget NODE             drop a dead node for good (a retired machine)
  alerts [--open|--all]        open and recent alerts, with their delivery
  alerts resolve ID [--reason TEXT]   resolve an alert by hand
  alerts config [apply -f FILE]       show or replace channels and cluster alert rules
  alerts test CHANNEL [--allow-command]  send a test notice through a channel, from here
  import-crontab FILE          crontab → job specs (YAML on stdout)
  console [--port N] [--no-open]   the console in a browser (127.0.0.1, token in the URL)

Global options (and environment):
  --etcd URLS        comma-separated endpoints (PEPPERCORN_ETCD, default http://127.0.0.1:2379)
  --prefix PREFIX    key prefix (PEPPERCORN_PREFIX, default /peppercorn/)
  --user U --password P   (PEPPERCORN_USER, PEPPERCORN_PASSWORD)
  --cacert F --cert F --key F   TLS (PEPPERCORN_CACERT, PEPPERCORN_CERT, PEPPERCORN_KEY)
  --config FILE      agent config file, YAML (PEPPERCORN_CONFIG)
  --json             machine-readable output for listings
`;

async function main(argv: string[]): Promise<number> {
  const { global, rest } = parseGlobal(argv);
  const [cmd, ...args] = rest;
  if (!cmd || cmd === 'help' || cmd === '--help' || cmd === '-h') {
    process.stdout.write(HELP);
    return cmd ? 0 : 2;
  }
  if (cmd === 'import-crontab') return importCrontab(args);
  if (cmd === 'keys') return keysCommand(global, args);
  if (cmd === 'etcd-roles') return etcdRolesCommand(global);
  if (cmd === 'agent') return runAgent(global, args);
  if (cmd === 'console') {
    // Loaded only here: agents and other commands do not pay for the web server.
    const { runConsoleCommand } = await import('../../electron/services/console-command');
    return runConsoleCommand(args, global.connect);
  }
  const cluster = connect(global.connect);
  const store = new Store(cluster);
  try {
    switch (cmd) {
      case 'job':
        return await jobCommand(store, global, args);
      case 'runs':
        return await runsCommand(store, global, args);
      case 'logs':
        return await logsCommand(store, args);
      case 'nodes':
        return await nodesCommand(store, global);
      case 'node':
        return await nodeCommand(store, args);
      case 'alerts':
        return await alertsCommand(cluster, global, args, (err) => store.warnings.push(err.message));
      default:
        throw new UsageError(`unknown command "${cmd}"; see \`peppercorn help\``);
    }
  } finally {
    for (const w of store.warnings) process.stderr.write(`warning: ${w}\n`);
    cluster.close();
  }
}

async function jobCommand(store: Store, global: GlobalOptions, args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const { flags, positionals } = parseFlags(rest, {
    file: { type: 'string', short: 'f' },
    n: { type: 'string', short: 'n' },
    yaml: { type: 'boolean' },
    'sign-key': { type: 'string' },
  });
  const name = positionals[0];
  const needName = () => {
    if (!name) throw new UsageError(`peppercorn job ${sub} needs a job name`);
    return name;
  };
  switch (sub) {
    case 'apply': {
      const file = flags.file as string | undefined;
      if (!file) throw new UsageError('peppercorn job apply needs -f FILE (or -f - for standard input)');
      const signWith = signingKeyFrom(flags['sign-key'] as string | undefined);
      const parsed = parseJobFile(readInput(file), file === '-' ? 'stdin' : file);
      if (!parsed.ok) {
        for (const p of parsed.problems)
          for (const e of p.errors)
            process.stderr.write(`${p.where}: ${e.field ? e.field + ': ' : ''}${e.message}\n`);
        process.stderr.write('nothing was stored\n');
        return 2;
      }
      let results;
      try {
        results = await store.applyJobs(parsed.jobs, { signWith });
      } catch (err) {
        if (!(err instanceof SpecConflictError)) throw err;
        process.stderr.write(`${err.message}\nnothing was stored\n`);
        return 2;
      }
      print(global, results, () => results.map((r) => `job/${r.name} ${r.result}`).join('\n'));
      return 0;
    }
    case 'ls': {
      const jobs = await store.listJobs();
      const now = Date.now();
      const rows = jobs.map((j) => {
        let next: number | undefined;
        try {
          next = j.spec.paused ? undefined : nextTimes(j.spec, now, 1)[0];
        } catch {
          next = undefined;
        }
        return { ...j, next };
      });
      print(
        global,
        rows.map((r) => ({
          name: r.spec.name,
          kind: r.spec.kind,
          schedule: r.spec.schedule ?? null,
          timezone: r.spec.timezone,
          paused: r.spec.paused,
          owner: r.owner,
          next: r.next ? iso(r.next) : null,
        })),
        () =>
          table(
            ['NAME', 'KIND', 'SCHEDULE', 'NEXT', 'OWNER', 'PAUSED'],
            rows.map((r) => [
              r.spec.name,
              r.spec.kind,
              r.spec.schedule ?? (r.spec.at ? `at ${r.spec.at}` : '-'),
              iso(r.next),
              r.owner ?? '-',
              r.spec.paused ? 'yes' : 'no',
            ]),
          ),
      );
      return 0;
    }
    case 'get': {
      const j = await store.getJob(needName());
      if (global.json)
        print(
          global,
          {
            ...j.spec,
            owner: j.owner,
            cursor: j.cursor ? iso(j.cursor) : null,
            assignment: j.assignment,
            signedBy: j.signedBy,
            refusedBy: j.refusedBy,
          },
          () => '',
        );
      else process.stdout.write(`${jobComments(j)}${jobsToYaml([j.spec])}`);
      return 0;
    }
    case 'rm':
      await store.removeJob(needName());
      process.stdout.write(`job/${name} deleted\n`);
      return 0;
    case 'pause':
    case 'resume': {
      const changed = await store.setPaused(needName(), sub === 'pause');
      process.stdout.write(
        `job/${name} ${changed ? (sub === 'pause' ? 'paused' : 'resumed') : `already ${sub === 'pause' ? 'paused' : 'running'}`}\n`,
      );
      return 0;
    }
    case 'run': {
      const id = await store.trigger(needName(), `${process.env.USER ?? 'cli'}@${hostname()}`);
      print(global, { run: id }, () => id);
      return 0;
    }
    case 'next': {
      const j = await store.getJob(needName());
      const n = flags.n ? parseInteger(flags.n as string, '-n', 1) : 5;
      const times = j.spec.kind === 'loop' ? [] : nextTimes(j.spec, Date.now(), n);
      print(global, times.map(iso), () =>
        times.length
          ? times.map(iso).join('\n')
          : j.spec.kind === 'loop'
            ? 'loop jobs run one after another, not by the clock'
            : 'no future firing times (runs only when triggered, or already done)',
      );
      return 0;
    }
    case 'history':
      return jobHistoryCommand(store, global, needName());
    case 'graph': {
      const jobs = (await store.listJobs()).map((j) => j.spec);
      if (name && !jobs.some((j) => j.name === name)) throw new NotFoundError(`no job named "${name}"`);
      const text = renderGraph(jobs, name);
      print(
        global,
        jobs.filter((j) => j.after?.length).map((j) => ({ name: j.name, after: j.after })),
        () => text || 'no dependencies between jobs (use `after:` in a job spec)',
      );
      return 0;
    }
    default:
      throw new UsageError(
        `unknown job command "${sub ?? ''}"; use apply, ls, get, rm, pause, resume, run, next, graph or history`,
      );
  }
}

async function runsCommand(store: Store, global: GlobalOptions, args: string[]): Promise<number> {
  const { flags, positionals } = parseFlags(args, { limit: { type: 'string' } });
  if (!positionals[0]) throw new UsageError('peppercorn runs needs a job name');
  await store.getJob(positionals[0]);
  const limit = flags.limit ? parseInteger(flags.limit as string, '--limit', 1) : 20;
  const runs = await store.listRuns(positionals[0], limit);
  print(global, runs, () =>
    table(
      ['RUN', 'STATUS', 'NODE', 'SCHEDULED', 'STARTED', 'DURATION', 'EXIT', 'REASON'],
      runs.map((r) => [
        r.id,
        r.status + (r.count !== undefined && r.status === 'skipped' ? ` ×${r.count}` : ''),
        r.node || '-',
        iso(r.scheduledAt),
        iso(r.startedAt),
        r.startedAt && r.endedAt ? seconds(r.endedAt - r.startedAt) : '-',
        r.signal ?? (r.exitCode ?? '-').toString(),
        r.reason ?? '',
      ]),
    ),
  );
  return 0;
}

async function logsCommand(store: Store, args: string[]): Promise<number> {
  const { flags, positionals } = parseFlags(args, { follow: { type: 'boolean', short: 'f' } });
  const runId = positionals[0];
  if (!runId) throw new UsageError('peppercorn logs needs a run id (see `peppercorn runs JOB`)');
  const run = await store.getRun(runId);
  if (!run) throw new NotFoundError(`no run ${runId}; it may have been pruned from the history`);
  if (flags.follow) {
    const final = await store.followLogs(runId, (d) => process.stdout.write(d));
    if (final)
      process.stderr.write(
        `[run ${final.id} ${final.status}${final.exitCode != null ? `, exit ${final.exitCode}` : ''}]\n`,
      );
    return 0;
  }
  const { chunks } = await store.readLogs(runId);
  if (chunks.length) for (const c of chunks) process.stdout.write(c.data);
  else if (run.tail) {
    process.stderr.write(
      `[the shipped output has expired; the last ${run.tail.length} bytes kept in the run record follow. Full output: ${join('<data dir of ' + run.node + '>', 'logs', run.job, run.id + '.log')}]\n`,
    );
    process.stdout.write(run.tail);
  } else process.stderr.write(`[no output${run.status === 'running' ? ' yet' : ''}]\n`);
  return 0;
}

async function nodesCommand(store: Store, global: GlobalOptions): Promise<number> {
  const nodes = await store.listNodes();
  print(global, nodes, () =>
    table(
      ['NODE', 'ALIVE', 'LEADER', 'JOBS', 'RUNNING', 'LABELS', 'HOST'],
      nodes.map((n) => [
        n.id,
        n.alive
          ? n.draining
            ? 'shutting down'
            : n.cordon
              ? `yes (${n.cordon === 'drain' ? 'draining' : 'cordoned'})`
              : 'yes'
          : 'no',
        n.leader ? 'yes' : '',
        String(n.jobs),
        String(n.running),
        labels(n.labels),
        n.hostname,
      ]),
    ),
  );
  return 0;
}

async function nodeCommand(store: Store, args: string[]): Promise<number> {
  const [sub, node] = args;
  if (sub === 'forget') {
    if (!node) throw new UsageError('peppercorn node forget needs a node id (see `peppercorn nodes`)');
    await forgetNode(store, node);
    process.stdout.write(`node/${node} forgotten: no longer listed; its node-down alert resolves\n`);
    return 0;
  }
  const modes: Record<string, 'cordon' | 'drain' | null> = {
    cordon: 'cordon',
    drain: 'drain',
    uncordon: null,
  };
  if (!(sub in modes))
    throw new UsageError(`unknown node command "${sub ?? ''}"; use cordon, uncordon, drain or forget`);
  if (!node) throw new UsageError(`peppercorn node ${sub} needs a node id (see \`peppercorn nodes\`)`);
  await setCordon(store, node, modes[sub], `${process.env.USER ?? 'cli'}@${hostname()}`);
  const what = {
    cordon: 'cordoned: it keeps its jobs and takes no new ones',
    drain: 'draining: its jobs move to other nodes as their runs finish',
    uncordon: 'uncordoned: it takes jobs again',
  }[sub as 'cordon' | 'drain' | 'uncordon'];
  process.stdout.write(`node/${node} ${what}\n`);
  return 0;
}

function importCrontab(args: string[]): number {
  const file = args[0];
  if (!file) throw new UsageError('peppercorn import-crontab needs a crontab file (or - for standard input)');
  const { jobs, warnings } = crontabToJobs(readInput(file), file);
  for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
  process.stdout.write(jobsToYaml(jobs));
  return 0;
}

async function runAgent(global: GlobalOptions, args: string[]): Promise<number> {
  const { flags } = parseFlags(args, {
    'node-id': { type: 'string' },
    labels: { type: 'string' },
    capacity: { type: 'string' },
    'data-dir': { type: 'string' },
    'lease-ttl': { type: 'string' },
    'keep-runs': { type: 'string' },
    'history-window': { type: 'string' },
    'priority-boost': { type: 'string' },
    'misfire-threshold': { type: 'string' },
    'metrics-port': { type: 'string' },
    'metrics-host': { type: 'string' },
    ...AGENT_TRUST_FLAGS,
  });
  const cfg = global.config;
  const str = (flag: string, key: string) =>
    (flags[flag] as string | undefined) ?? (cfg[key] !== undefined ? String(cfg[key]) : undefined);
  const nodeId = str('node-id', 'nodeId') ?? process.env.PEPPERCORN_NODE_ID ?? hostname();
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(nodeId))
    throw new UsageError(`bad node id "${nodeId}": use letters, digits, . _ -`);
  const labelText = flags.labels as string | undefined;
  const labelsOut =
    labelText !== undefined
      ? parseLabels(labelText)
      : typeof cfg.labels === 'object' && cfg.labels
        ? (cfg.labels as Record<string, string>)
        : {};
  const capacity = parseInteger(str('capacity', 'capacity') ?? '0', '--capacity', 0);
  const leaseTtlSec = parseInteger(str('lease-ttl', 'leaseTtl') ?? '5', '--lease-ttl', 2);
  const defaultDir =
    process.getuid?.() === 0
      ? '/var/lib/peppercorn'
      : join(process.env.HOME ?? '.', '.local/state/peppercorn');
  const dataDir = str('data-dir', 'dataDir') ?? join(defaultDir, nodeId);

  const skew = applyTestClockOffset();
  if (skew) process.stderr.write(`peppercorn: test clock offset ${skew} ms (${CLOCK_OFFSET_ENV})\n`);
  const trust = agentTrust(flags, cfg);
  const cluster = connect({ ...global.connect, callTimeoutMs: Math.min(5000, leaseTtlSec * 1000) });
  const keepRuns = parseInteger(str('keep-runs', 'keepRuns') ?? '200', '--keep-runs', 1);
  const durationFlag = (flag: string, key: string): number | undefined => {
    const text = str(flag, key);
    if (text === undefined) return undefined;
    try {
      return parseDuration(text);
    } catch (err) {
      throw new UsageError(`--${flag}: ${(err as Error).message}`);
    }
  };
  const historyWindowMs = durationFlag('history-window', 'historyWindow');
  const metricsText = str('metrics-port', 'metricsPort');
  const metricsPort = metricsText === undefined ? undefined : parseInteger(metricsText, '--metrics-port', 0);
  const lateLimitMs = durationFlag('misfire-threshold', 'misfireThreshold');
  const agent = new Agent(cluster, {
    nodeId,
    labels: labelsOut,
    capacity,
    dataDir,
    leaseTtlSec,
    historyWindowMs,
    metrics:
      metricsPort === undefined
        ? undefined
        : { port: metricsPort, host: str('metrics-host', 'metricsHost') ?? '127.0.0.1' },
    priorityBoost: parseInteger(str('priority-boost', 'priorityBoost') ?? '10', '--priority-boost', 0),
    scheduler: { keepRuns, ...(lateLimitMs !== undefined ? { lateLimitMs } : {}) },
    ...trust,
  });
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
}

function fail(err: unknown): number {
  if (err instanceof UsageError) {
    process.stderr.write(`peppercorn: ${err.message}\n`);
    return 2;
  }
  if (
    err instanceof NotFoundError ||
    err instanceof DuplicateNodeError ||
    err instanceof CorruptValueError ||
    (err instanceof Error && err.message.startsWith('cannot serve metrics'))
  ) {
    process.stderr.write(`peppercorn: ${redactKnown(err.message)}\n`);
    return 1;
  }
  const connectOpts = (() => {
    try {
      return parseGlobal(process.argv.slice(2)).global.connect;
    } catch {
      return { endpoints: [] as string[], user: undefined };
    }
  })();
  const endpoints = connectOpts.endpoints;
  const denied = permissionMessage(err, connectOpts.user ?? null, 'make this change');
  if (denied) {
    process.stderr.write(`peppercorn: ${denied}\n`);
    return 1;
  }
  const msg =
    err instanceof Error &&
    /etcd|grpc|Unavailable|deadline|ECONNREFUSED|circuit/i.test(`${err.constructor.name} ${err.message}`)
      ? describeEtcdError(err, endpoints)
      : ((err as Error)?.message ?? String(err));
  process.stderr.write(`peppercorn: ${redactKnown(msg)}\n`);
  return 1;
}

// An unhandled 'error' anywhere must not kill an agent silently.
process.on('unhandledRejection', (err) =>
  process.stderr.write(`peppercorn: unexpected: ${redactKnown(String((err as Error)?.stack ?? err))}\n`),
);

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => process.exit(fail(err)),
);

export type { Cluster };
