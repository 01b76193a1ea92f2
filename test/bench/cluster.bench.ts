// The cluster benchmark: a real etcd and three real agent processes on this
// machine (TestCluster), N every-second jobs, and what the commands themselves
// saw. For each job count it reports:
//   - launch delay: the command's own clock at start (date +%s%N) minus its
//     scheduled time, p50 / p99 / max;
//   - etcd writes per launch: etcd revisions spent over the window divided by the
//     launches in it, with a breakdown replayed from etcd's history;
//   - duplicate and unaccounted scheduled times (the ledger check of the tests);
//   - agent memory (VmRSS) and CPU time as a fraction of wall time.
// Then kill -9 failover of an every-second job's owner, three times. Then the overload run:
// the agents restarted with the default lease TTL (5 s; the harness uses 3 s), 500 jobs again,
// reporting lease losses (an agent must never lose its lease because of its own load) and
// the node-overloaded alerts raised.
//
//   node dist/test/bench/cluster.bench.js [--jobs 100,500|none] [--seconds 20] [--warmup 5]
//                                         [--failover-rounds 3] [--overload-jobs 500]
//                                         [--overload-ttl 5] [--json FILE]
//
// Progress goes to stderr, the table to stdout. The exit status is non-zero only
// when the run itself broke (etcd or an agent died, a wait timed out), never
// because a figure missed its target.
import { mkdirSync, readFileSync, existsSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { cpus } from 'node:os';
import type { ChildProcess } from 'node:child_process';
import { TestCluster, waitFor, sleep } from '../harness/cluster';
import { checkLedger } from '../harness/ledger';
import { keys } from '../../agent/core/keys';
import { prepareRun } from '../../agent/runner/exec';
import { StartLine } from '../../agent/runner/start-line';
import { childNamed, cpuTimes, memory, machineCpu, percentile, type CpuTimes } from './proc';

const NODES = ['n1', 'n2', 'n3'];

interface Options {
  jobs: number[];
  seconds: number;
  warmup: number;
  failoverRounds: number;
  /** Jobs of the overload run (0: none), with the agents at this lease TTL. */
  overloadJobs: number;
  overloadTtl: number;
  json: string | undefined;
  /** Extra agent options, e.g. "--priority-boost 0", to compare settings. */
  agentArgs: string[];
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    jobs: [100, 500],
    seconds: 20,
    warmup: 5,
    failoverRounds: 3,
    overloadJobs: 500,
    overloadTtl: 5,
    json: undefined,
    agentArgs: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    const num = (v: string, min: number) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < min) throw new Error(`${a}: expected an integer >= ${min}, got "${v}"`);
      return n;
    };
    if (a === '--jobs') {
      const v = val();
      o.jobs = v === 'none' ? [] : v.split(',').map((s) => num(s.trim(), 1));
    } else if (a === '--seconds') o.seconds = num(val(), 2);
    else if (a === '--warmup') o.warmup = num(val(), 0);
    else if (a === '--failover-rounds') o.failoverRounds = num(val(), 0);
    else if (a === '--overload-jobs') o.overloadJobs = num(val(), 0);
    else if (a === '--overload-ttl') o.overloadTtl = num(val(), 2);
    else if (a === '--json') o.json = val();
    else if (a === '--agent-args') o.agentArgs = val().split(' ').filter(Boolean);
    else if (a === '-h' || a === '--help') {
      process.stdout.write(
        'usage: node dist/test/bench/cluster.bench.js [--jobs 100,500|none] [--seconds 20] [--warmup 5] [--failover-rounds 3] [--overload-jobs 500] [--overload-ttl 5] [--json FILE] [--agent-args "..."]\n',
      );
      process.exit(0);
    } else throw new Error(`unknown argument "${a}"`);
  }
  return o;
}

const progress = (msg: string) =>
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 23)}] ${msg}\n`);

// ---- the cluster, and never leaving it behind ---------------------------------------

let tc: TestCluster | undefined;

function etcdProc(c: TestCluster): ChildProcess | undefined {
  // TestEtcd keeps its process private; the benchmark needs its pid for CPU and liveness.
  return (c.etcd as unknown as { proc?: ChildProcess }).proc;
}

/** Synchronous, so it also works from process.on('exit'). */
function killEverything(): void {
  const c = tc;
  if (!c) return;
  for (const a of c.agents.values()) {
    try {
      if (a.alive) {
        a.resume();
        a.kill9();
      }
    } catch {
      /* already gone */
    }
  }
  try {
    etcdProc(c)?.kill('SIGKILL');
  } catch {
    /* already gone */
  }
  if (!process.env.KEEP_TEST_DIRS) {
    rmSync(c.dir, { recursive: true, force: true });
    rmSync(c.etcd.dir, { recursive: true, force: true });
  }
}

process.on('exit', killEverything);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => {
    progress(`${sig}: stopping etcd and the agents`);
    process.exit(130);
  });
}

function assertHealthy(c: TestCluster, expectDead: string[] = []): void {
  const e = etcdProc(c);
  if (!e || e.exitCode !== null || e.signalCode !== null)
    throw new Error(`etcd died; see ${join(c.etcd.dir, 'etcd.log')}`);
  for (const a of c.agents.values()) {
    if (!a.alive && !expectDead.includes(a.id)) {
      throw new Error(
        `agent ${a.id} died (exit ${a.proc.exitCode ?? a.proc.signalCode}); its log ends:\n${a.log().slice(-3000)}`,
      );
    }
  }
}

/** The harness waits 30 s; a machine shared with other work may need longer to start three agents. */
async function readyPatiently(c: TestCluster): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await c.ready(NODES);
    } catch (err) {
      if (attempt >= 4) throw err;
      progress(`the agents are slow to start (${(err as Error).message}); waiting longer`);
    }
  }
}

async function revision(c: TestCluster): Promise<number> {
  const res = await c.cluster.ns.get(keys.leader).exec();
  return Number(res.header.revision);
}

// ---- the job command ---------------------------------------------------------------

/** Like the harness's ledgerCommand, with nanoseconds: one line per launch, written by the command. */
function benchCommand(file: string): string {
  return `echo "$PEPPERCORN_SCHEDULED_AT $PEPPERCORN_RUN_ID $PEPPERCORN_NODE $(date +%s%N)" >> ${file}`;
}

interface Launch {
  scheduledAt: number;
  node: string;
  /** Launch delay in ms, from the command's own clock. */
  delayMs: number;
  /** Start time, ms since the epoch (fractional). */
  startedAt: number;
}

function readBenchLaunches(file: string): Launch[] {
  if (!existsSync(file)) return [];
  const out: Launch[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const [at, , node, ns] = line.split(' ');
    if (!ns || !/^\d+$/.test(ns)) continue;
    const scheduledAt = Date.parse(at);
    const delayNs = BigInt(ns) - BigInt(scheduledAt) * 1_000_000n;
    out.push({
      scheduledAt,
      node,
      delayMs: Number(delayNs) / 1e6,
      startedAt: Number(BigInt(ns) / 1000n) / 1000,
    });
  }
  return out;
}

function jobYaml(name: string, file: string): string {
  return `name: ${name}\nkind: cron\nschedule: "* * * * * *"\ncommand: ${JSON.stringify(benchCommand(file))}\n`;
}

// ---- etcd's history over the window -------------------------------------------------

interface Breakdown {
  complete: boolean;
  revisions: number;
  claims: number;
  outcomes: number;
  chunks: number;
  prunes: number;
  control: number;
  other: number;
}

/**
 * Replays etcd's history from `fromRev` to `toRev` (the leader keeps 5 minutes of
 * it) and sorts each revision, i.e. each write transaction, by the keys it touched.
 */
async function breakdown(c: TestCluster, fromRev: number, toRev: number): Promise<Breakdown> {
  const byRev = new Map<number, Set<string>>();
  const want = toRev - fromRev + 1;
  const watcher = await c.cluster.client.watch().prefix(c.prefix).startRevision(String(fromRev)).create();
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, 20_000);
      watcher.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      watcher.on('data', (res) => {
        let past = false;
        for (const ev of res.events) {
          const rev = Number(ev.kv.mod_revision);
          if (rev > toRev) {
            past = true;
            continue;
          }
          if (rev < fromRev) continue;
          const key = ev.kv.key.toString().slice(c.prefix.length);
          let s = byRev.get(rev);
          if (!s) byRev.set(rev, (s = new Set()));
          s.add(`${ev.type === 'Delete' ? '-' : '+'}${key.slice(0, key.indexOf('/') + 1) || key}`);
        }
        if (past || byRev.size >= want) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  } finally {
    await watcher.cancel().catch(() => undefined);
  }
  const b: Breakdown = {
    complete: byRev.size >= want,
    revisions: want,
    claims: 0,
    outcomes: 0,
    chunks: 0,
    prunes: 0,
    control: 0,
    other: 0,
  };
  const logs = keys.logs('x').slice(0, -2); // "logs/"
  const control = [keys.nodes, keys.members, keys.assignments, keys.jobs, keys.leader];
  for (const s of byRev.values()) {
    if (s.has(`+${logs}`)) b.chunks++;
    else if (s.has(`+${keys.cursors}`)) b.claims++;
    else if (s.has(`+${keys.runs}`)) b.outcomes++;
    else if (s.has(`-${keys.runs}`) && s.size === 1) b.prunes++;
    else if ([...s].some((k) => control.includes(k.slice(1)))) b.control++;
    else b.other++;
  }
  return b;
}

// ---- one job count -----------------------------------------------------------------

interface LoadResult {
  jobs: number;
  seconds: number;
  expected: number;
  launched: number;
  lateLaunches: number;
  /** "lease lost" lines in the agents' logs from the apply to the removal of the jobs. */
  leaseLosses: number;
  /** Seconds after the window until every job's cursor had passed it. */
  cursorLagS: number;
  /** Scheduled time to the agent opening the gate (run record startedAt, ms resolution). */
  gateDelay: { p50: number; p99: number; max: number };
  delay: { p50: number; p99: number; max: number; mean: number };
  duplicates: number;
  unaccounted: number;
  skipped: number;
  lost: number;
  revisions: number;
  writesPerLaunch: number;
  breakdown: Breakdown | undefined;
  agents: {
    id: string;
    rssMb: number;
    hwmMb: number;
    cpu: number;
    /** Its spawner process (runner/spawner.ts), NaN without one. */
    spawnerCpu: number;
    childCpu: number;
    jobs: number;
  }[];
  etcdCpu: number;
  etcdRssMb: number;
  benchCpu: number;
  machineBusy: number;
}

interface Sample {
  at: number;
  rev: number;
  agents: Map<string, CpuTimes | undefined>;
  spawners: Map<string, CpuTimes | undefined>;
  etcd: CpuTimes | undefined;
  machine: { busy: number; total: number };
  bench: NodeJS.CpuUsage;
}

async function sample(c: TestCluster): Promise<Sample> {
  const at = Date.now();
  const agents = new Map<string, CpuTimes | undefined>();
  const spawners = new Map<string, CpuTimes | undefined>();
  for (const a of c.agents.values()) {
    agents.set(a.id, cpuTimes(a.pid));
    // The agent's spawner forks the runs: its own CPU, and the commands' (its reaped children).
    const sp = childNamed(a.pid, 'perl');
    spawners.set(a.id, sp === undefined ? undefined : cpuTimes(sp));
  }
  const e = etcdProc(c);
  const s: Omit<Sample, 'rev'> = {
    at,
    agents,
    spawners,
    etcd: e?.pid ? cpuTimes(e.pid) : undefined,
    machine: machineCpu(),
    bench: process.cpuUsage(),
  };
  return { ...s, rev: await revision(c) };
}

async function sleepUntil(t: number): Promise<void> {
  const d = t - Date.now();
  if (d > 0) await sleep(d);
}

async function inBatches<T, R>(items: T[], size: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += size)
    out.push(...(await Promise.all(items.slice(i, i + size).map(fn))));
  return out;
}

async function runLoad(c: TestCluster, n: number, opts: Options, tag = String(n)): Promise<LoadResult> {
  const dir = c.path(`jobs-${tag}`);
  mkdirSync(dir, { recursive: true });
  const names = Array.from({ length: n }, (_, i) => `bench-${tag}-${String(i).padStart(4, '0')}`);
  const file = (name: string) => join(dir, `${name}.txt`);

  const leaseLosses = () =>
    [...c.agents.values()].reduce((k, a) => k + (a.log().match(/lease lost/g)?.length ?? 0), 0);
  const lossesBefore = leaseLosses();
  progress(`N=${n}: applying ${n} every-second jobs`);
  c.apply(names.map((name) => jobYaml(name, file(name))).join('---\n'));
  const appliedAt = Date.now();
  try {
    await waitFor(
      `all ${n} jobs to launch at least once`,
      () => names.every((name) => existsSync(file(name))),
      60_000,
    );
    progress(
      `N=${n}: every job has launched (${((Date.now() - appliedAt) / 1000).toFixed(1)} s after the apply)`,
    );
  } catch (err) {
    const started = names.filter((name) => existsSync(file(name))).length;
    progress(
      `N=${n}: WARNING only ${started}/${n} jobs launched within 60 s (${(err as Error).message}); measuring anyway`,
    );
  }
  assertHealthy(c);

  // Window: the scheduled times s0+1s .. s1 of every job. Samples are taken half
  // a second past s0 and s1: by then the previous second's outcomes are written and
  // the next second's claims (400 ms ahead) are not yet, so the writes between the
  // two samples belong to exactly the scheduled times in the window.
  const s0 = Math.ceil((Date.now() + opts.warmup * 1000) / 1000) * 1000;
  const s1 = s0 + opts.seconds * 1000;
  progress(`N=${n}: warm-up until ${new Date(s0).toISOString()}, then measuring ${opts.seconds} s`);
  await sleepUntil(s0 + 500);
  const a = await sample(c);
  await sleepUntil(s1 + 500);
  const b = await sample(c);
  const mem = new Map([...c.agents.values()].map((ag) => [ag.id, memory(ag.pid)]));
  const ePid = etcdProc(c)?.pid;
  const etcdMem = ePid ? memory(ePid) : undefined;
  assertHealthy(c);
  progress(`N=${n}: window done (revision ${a.rev} -> ${b.rev}); letting the last launches land`);
  // Under overload a job's claims can lag behind the clock: wait until every job
  // has accounted for the whole window (cursor at or past s1) before judging it,
  // so that "not yet claimed" is not reported as "missing".
  const windowEnd = Date.now();
  let cursorLagS = 0;
  try {
    await waitFor(
      'every job to account for the whole window',
      async () => {
        const cursors = await inBatches(names, 50, async (name) => (await c.store.getJob(name)).cursor ?? 0);
        return cursors.every((t) => t >= s1);
      },
      90_000,
    );
    cursorLagS = (Date.now() - windowEnd) / 1000;
  } catch (err) {
    cursorLagS = NaN;
    progress(`N=${n}: WARNING ${(err as Error).message}; checking the ledger anyway`);
  }
  await sleep(3000);

  const from = s0 + 1000;
  const delays: number[] = [];
  let lateLaunches = 0;
  const perNode = new Map<string, number>();
  for (const name of names) {
    for (const l of readBenchLaunches(file(name))) {
      if (l.scheduledAt < from || l.scheduledAt > s1) continue;
      delays.push(l.delayMs);
      if (l.delayMs > 1000) lateLaunches++;
      perNode.set(l.node, (perNode.get(l.node) ?? 0) + 1);
    }
  }
  delays.sort((x, y) => x - y);

  // The agent's side of the delay: the runner stamps startedAt as it opens the gate.
  const gateDelays: number[] = [];
  await inBatches(names, 25, async (name) => {
    for (const r of await c.store.listRuns(name, 1000)) {
      if (r.status === 'skipped' || !r.startedAt || r.scheduledAt < from || r.scheduledAt > s1) continue;
      gateDelays.push(r.startedAt - r.scheduledAt);
    }
  });
  gateDelays.sort((x, y) => x - y);

  progress(`N=${n}: checking the ledger of every job`);
  const reports = await inBatches(names, 25, (name) => checkLedger(c.store, name, file(name), from, s1));
  const sum = (f: (r: (typeof reports)[number]) => number) => reports.reduce((acc, r) => acc + f(r), 0);

  progress(`N=${n}: replaying etcd history ${a.rev + 1}..${b.rev}`);
  let bd: Breakdown | undefined;
  try {
    bd = await breakdown(c, a.rev + 1, b.rev);
  } catch (err) {
    progress(`N=${n}: could not replay etcd's history (${(err as Error).message}); reporting the total only`);
  }

  const wall = (b.at - a.at) / 1000;
  const result: LoadResult = {
    jobs: n,
    seconds: opts.seconds,
    expected: n * opts.seconds,
    launched: delays.length,
    lateLaunches,
    cursorLagS,
    leaseLosses: 0,
    gateDelay: {
      p50: percentile(gateDelays, 50),
      p99: percentile(gateDelays, 99),
      max: gateDelays.length ? gateDelays[gateDelays.length - 1] : NaN,
    },
    delay: {
      p50: percentile(delays, 50),
      p99: percentile(delays, 99),
      max: delays.length ? delays[delays.length - 1] : NaN,
      mean: delays.reduce((x, y) => x + y, 0) / (delays.length || 1),
    },
    duplicates: sum((r) => r.duplicates.length),
    unaccounted: sum((r) => r.unaccounted.length),
    skipped: sum((r) => r.skipped),
    lost: sum((r) => r.lost),
    revisions: b.rev - a.rev,
    writesPerLaunch: (b.rev - a.rev) / (delays.length || 1),
    breakdown: bd,
    agents: [...c.agents.values()].map((ag) => {
      const x = a.agents.get(ag.id);
      const y = b.agents.get(ag.id);
      const m = mem.get(ag.id);
      const sx = a.spawners.get(ag.id);
      const sy = b.spawners.get(ag.id);
      const spawner = sx && sy && sy.self >= sx.self ? sy : undefined; // the same one, not restarted
      return {
        id: ag.id,
        rssMb: (m?.rssKb ?? NaN) / 1024,
        hwmMb: (m?.hwmKb ?? NaN) / 1024,
        cpu: x && y ? (y.self - x.self) / wall : NaN,
        spawnerCpu: spawner ? (sy!.self - sx!.self) / wall : NaN,
        childCpu:
          x && y ? (y.children - x.children + (spawner ? sy!.children - sx!.children : 0)) / wall : NaN,
        jobs: perNode.get(ag.id) ?? 0,
      };
    }),
    etcdCpu: a.etcd && b.etcd ? (b.etcd.self - a.etcd.self) / wall : NaN,
    etcdRssMb: (etcdMem?.rssKb ?? NaN) / 1024,
    benchCpu: (b.bench.user + b.bench.system - a.bench.user - a.bench.system) / 1e6 / wall,
    machineBusy: (b.machine.busy - a.machine.busy) / (b.machine.total - a.machine.total),
  };
  for (const ag of result.agents) ag.jobs = Math.round(ag.jobs / opts.seconds); // launches per second on that node
  progress(
    `N=${n}: ${result.launched}/${result.expected} launched, delay p50 ${fmt(result.delay.p50)} p99 ${fmt(result.delay.p99)} ` +
      `max ${fmt(result.delay.max)} ms, ${fmt(result.writesPerLaunch, 2)} revisions/launch, ` +
      `duplicates ${result.duplicates}, unaccounted ${result.unaccounted}`,
  );

  progress(`N=${n}: removing the jobs`);
  await inBatches(names, 25, (name) => c.store.removeJob(name));
  await waitFor('the agents to drop the removed jobs', async () => {
    const jobs = await c.store.listJobs();
    return jobs.every((j) => !j.spec.name.startsWith('bench-'));
  });
  await sleep(3000); // runs claimed just before the removal finish
  assertHealthy(c);
  result.leaseLosses = leaseLosses() - lossesBefore;
  return result;
}

// ---- the cost of a launch without any agent ---------------------------------------------

interface LaunchFloor {
  jobs: number;
  rounds: number;
  /** Release instant to each command's own clock (ms). */
  delayMs: { p50: number; p99: number; max: number };
}

/**
 * The machine's floor for starting N commands at the same instant, with no etcd
 * and no agent running: N gated runs prepared by the runner (the same command
 * as the jobs) on one start line, released together. The cluster cannot beat
 * this; the difference between the two is what the agents and etcd cost.
 */
async function launchFloor(dir: string, jobs: number, rounds = 5): Promise<LaunchFloor> {
  const delays: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const file = join(dir, `floor-${jobs}-${r}.txt`);
    const line = new StartLine(dir);
    const runs = Array.from({ length: jobs }, (_, i) =>
      prepareRun({
        runId: `floor-${i}`,
        command: benchCommand(file),
        env: { PEPPERCORN_SCHEDULED_AT: 'x', PEPPERCORN_RUN_ID: 'x', PEPPERCORN_NODE: 'x' },
        killGraceMs: 1000,
        logFile: join(dir, 'floor.log'),
        logFileCapBytes: 1 << 20,
        tailBytes: 0,
        startLine: line,
      }),
    );
    await sleep(800);
    const releasedAt = Date.now();
    for (const run of runs) run.release();
    line.fire();
    await Promise.all(runs.map((run) => run.done));
    for (const l of readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
      const ns = BigInt(l.split(' ').pop()!);
      delays.push(Number(ns / 1000n) / 1000 - releasedAt);
    }
    await sleep(300);
  }
  delays.sort((x, y) => x - y);
  return {
    jobs,
    rounds,
    delayMs: { p50: percentile(delays, 50), p99: percentile(delays, 99), max: delays[delays.length - 1] },
  };
}

// ---- failover ----------------------------------------------------------------------

interface FailoverRound {
  victim: string;
  victimWasLeader: boolean;
  newNode: string;
  killToFirstS: number;
  lastToFirstS: number;
}

interface FailoverResult {
  leaseTtlS: number;
  rounds: FailoverRound[];
  duplicates: number;
  unaccounted: number;
  skipped: number;
  lost: number;
  launched: number;
}

async function runFailover(c: TestCluster, rounds: number, agentArgs: string[]): Promise<FailoverResult> {
  const name = 'bench-failover';
  const file = c.path('failover.txt');
  c.apply(jobYaml(name, file));
  const start = Date.now();
  const launchesSince = (t: number, not?: string) =>
    readBenchLaunches(file).filter((l) => l.startedAt > t && l.node !== not);
  const out: FailoverRound[] = [];
  for (let r = 1; r <= rounds; r++) {
    const roundStart = Date.now();
    await waitFor(
      `launches of ${name} before round ${r}`,
      () => launchesSince(roundStart).length >= 3,
      30_000,
    );
    const owner: string = await waitFor(
      `an owner for ${name}`,
      async () => (await c.owner(name)) ?? undefined,
    );
    const leader = await c.leader();
    const victim = c.agents.get(owner)!;
    progress(`failover ${r}/${rounds}: kill -9 of ${owner}${leader === owner ? ' (also the leader)' : ''}`);
    victim.kill9();
    const killedAt = Date.now();
    await victim.exited();
    const first = await waitFor(
      `a launch of ${name} on a node other than ${owner}`,
      () => launchesSince(killedAt, owner).sort((x, y) => x.startedAt - y.startedAt)[0],
      60_000,
    );
    const lastOnDead = Math.max(
      ...readBenchLaunches(file)
        .filter((l) => l.node === owner)
        .map((l) => l.startedAt),
    );
    const round: FailoverRound = {
      victim: owner,
      victimWasLeader: leader === owner,
      newNode: first.node,
      killToFirstS: (first.startedAt - killedAt) / 1000,
      lastToFirstS: (first.startedAt - lastOnDead) / 1000,
    };
    out.push(round);
    progress(
      `failover ${r}/${rounds}: first launch on ${first.node} ${fmt(round.killToFirstS, 2)} s after the kill, ` +
        `${fmt(round.lastToFirstS, 2)} s after the last launch on ${owner}`,
    );
    assertHealthy(c, [owner]);
    c.startAgent(owner, agentArgs);
    await readyPatiently(c);
    await sleep(2000);
  }
  await sleep(3000);
  const rep = await checkLedger(c.store, name, file, start + 1000, Date.now() - 2000);
  const leaseLine = /lease TTL (\d+)s/.exec([...c.agents.values()][0]?.log() ?? '');
  await c.store.removeJob(name);
  return {
    leaseTtlS: leaseLine ? Number(leaseLine[1]) : NaN,
    rounds: out,
    duplicates: rep.duplicates.length,
    unaccounted: rep.unaccounted.length,
    skipped: rep.skipped,
    lost: rep.lost,
    launched: rep.launched,
  };
}

// ---- overload: the default lease TTL under saturation ---------------------------------

interface OverloadResult {
  leaseTtlS: number;
  load: LoadResult;
  /** node-overloaded alerts raised during the run, by node. */
  alerts: Record<string, number>;
  /** "node overloaded" episodes in the agents' logs during the run. */
  episodes: number;
}

async function runOverload(c: TestCluster, opts: Options): Promise<OverloadResult> {
  progress(`overload: restarting the agents with --lease-ttl ${opts.overloadTtl}`);
  for (const a of [...c.agents.values()]) {
    a.term();
    await a.exited();
  }
  for (const id of NODES) c.startAgent(id, [...opts.agentArgs, '--lease-ttl', String(opts.overloadTtl)]);
  await readyPatiently(c);
  await sleep(2000);
  const episodes = () =>
    [...c.agents.values()].reduce((k, a) => k + (a.log().match(/node overloaded:/g)?.length ?? 0), 0);
  const since = Date.now();
  const load = await runLoad(c, opts.overloadJobs, opts, `overload-${opts.overloadJobs}`);
  const alerts: Record<string, number> = {};
  for (const a of await c.alerts())
    if ((a.rule as string) === 'node-overloaded' && a.openedAt >= since && a.node)
      alerts[a.node] = (alerts[a.node] ?? 0) + 1;
  return { leaseTtlS: opts.overloadTtl, load, alerts, episodes: episodes() };
}

// ---- the report --------------------------------------------------------------------

function fmt(n: number, digits = 1): string {
  return Number.isFinite(n) ? n.toFixed(digits) : '-';
}

function table(rows: string[][]): string {
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r) => r.map((cell, i) => (i === 0 ? cell.padEnd(w[i]) : cell.padStart(w[i]))).join('  '))
    .join('\n');
}

function report(
  loads: LoadResult[],
  fo: FailoverResult | undefined,
  floors: LaunchFloor[],
  loadavg: string,
  ov?: OverloadResult,
): string {
  const lines: string[] = [];
  const head = ['', ...loads.map((l) => `${l.jobs} jobs`)];
  const row = (label: string, f: (l: LoadResult) => string) => [label, ...loads.map(f)];
  lines.push(`Peppercorn cluster benchmark: etcd + ${NODES.length} agents on one machine`);
  lines.push(`(${cpus().length} CPUs, Node ${process.version}, load average before the run: ${loadavg})`);
  lines.push('');
  if (loads.length) {
    lines.push(
      table([
        head,
        row('window (s)', (l) => String(l.seconds)),
        row('launches / expected', (l) => `${l.launched}/${l.expected}`),
        row('launch delay p50 (ms)', (l) => fmt(l.delay.p50)),
        row('launch delay p99 (ms)', (l) => fmt(l.delay.p99)),
        row('launch delay max (ms)', (l) => fmt(l.delay.max)),
        row('launch delay mean (ms)', (l) => fmt(l.delay.mean)),
        row('  agent opened gate p50 (ms)', (l) => fmt(l.gateDelay.p50)),
        row('  agent opened gate p99 (ms)', (l) => fmt(l.gateDelay.p99)),
        row('  agent opened gate max (ms)', (l) => fmt(l.gateDelay.max)),
        row('claims caught up after (s)', (l) => fmt(l.cursorLagS)),
        row('AGENT LEASES LOST (apply..rm)', (l) => String(l.leaseLosses)),
        row('launches later than 1 s', (l) => String(l.lateLaunches)),
        row('DUPLICATE scheduled times', (l) => String(l.duplicates)),
        row('UNACCOUNTED scheduled times', (l) => String(l.unaccounted)),
        row('skipped (recorded) times', (l) => String(l.skipped)),
        row('lost (recorded) runs', (l) => String(l.lost)),
        row('etcd revisions in window', (l) => String(l.revisions)),
        row('etcd writes per launch', (l) => fmt(l.writesPerLaunch, 2)),
        row('  claims per launch', (l) =>
          l.breakdown ? fmt(l.breakdown.claims / (l.launched || 1), 3) : '-',
        ),
        row('  outcomes per launch', (l) =>
          l.breakdown ? fmt(l.breakdown.outcomes / (l.launched || 1), 3) : '-',
        ),
        row('  history prunes per launch', (l) =>
          l.breakdown ? fmt(l.breakdown.prunes / (l.launched || 1), 3) : '-',
        ),
        row('  output chunks (revisions)', (l) => (l.breakdown ? String(l.breakdown.chunks) : '-')),
        row('  membership/leader/other', (l) =>
          l.breakdown ? String(l.breakdown.control + l.breakdown.other) : '-',
        ),
        row('  history replay complete', (l) => (l.breakdown ? (l.breakdown.complete ? 'yes' : 'NO') : 'no')),
        ...NODES.map((id) =>
          row(`agent ${id} VmRSS (MB)`, (l) => fmt(l.agents.find((a) => a.id === id)?.rssMb ?? NaN)),
        ),
        ...NODES.map((id) =>
          row(`agent ${id} peak RSS (MB)`, (l) => fmt(l.agents.find((a) => a.id === id)?.hwmMb ?? NaN)),
        ),
        ...NODES.map((id) =>
          row(`agent ${id} CPU (% of 1 core)`, (l) =>
            fmt(100 * (l.agents.find((a) => a.id === id)?.cpu ?? NaN)),
          ),
        ),
        ...NODES.map((id) =>
          row(`spawner ${id} CPU (% of 1 core)`, (l) =>
            fmt(100 * (l.agents.find((a) => a.id === id)?.spawnerCpu ?? NaN)),
          ),
        ),
        ...NODES.map((id) =>
          row(`agent ${id} launches/s`, (l) => String(l.agents.find((a) => a.id === id)?.jobs ?? '-')),
        ),
        ...NODES.map((id) =>
          row(`agent ${id} CPU per launch (ms)`, (l) => {
            const ag = l.agents.find((a) => a.id === id);
            return ag?.jobs ? fmt((1000 * ag.cpu) / ag.jobs, 2) : '-';
          }),
        ),
        ...NODES.map((id) =>
          row(`spawner ${id} CPU per launch (ms)`, (l) => {
            const ag = l.agents.find((a) => a.id === id);
            return ag?.jobs ? fmt((1000 * ag.spawnerCpu) / ag.jobs, 2) : '-';
          }),
        ),
        row('agents CPU total (% of 1 core)', (l) => fmt(100 * l.agents.reduce((s, a) => s + a.cpu, 0))),
        row('job commands CPU (% of 1 core)', (l) => fmt(100 * l.agents.reduce((s, a) => s + a.childCpu, 0))),
        row('etcd CPU (% of 1 core)', (l) => fmt(100 * l.etcdCpu)),
        row('etcd VmRSS (MB)', (l) => fmt(l.etcdRssMb)),
        row('benchmark process CPU (% of 1 core)', (l) => fmt(100 * l.benchCpu)),
        row('machine busy (% of all cores)', (l) => fmt(100 * l.machineBusy)),
        row('other processes (% of 1 core)', (l) =>
          fmt(
            100 *
              (l.machineBusy * cpus().length -
                l.agents.reduce((s, a) => s + a.cpu + (a.spawnerCpu || 0) + a.childCpu, 0) -
                (Number.isFinite(l.etcdCpu) ? l.etcdCpu : 0) -
                l.benchCpu),
          ),
        ),
      ]),
    );
  }
  if (floors.length) {
    lines.push('');
    lines.push(
      'The floor: N commands released at one instant with no etcd and no agent running (same command):',
    );
    for (const f of floors)
      lines.push(
        `  ${f.jobs} at once (${f.rounds} rounds): release -> command's clock p50 ${fmt(f.delayMs.p50, 1)} ms, ` +
          `p99 ${fmt(f.delayMs.p99, 1)} ms, max ${fmt(f.delayMs.max, 1)} ms`,
      );
  }
  if (fo) {
    lines.push('');
    lines.push(`Failover: kill -9 of the owner of one every-second job (lease TTL ${fo.leaseTtlS} s)`);
    lines.push(
      table([
        ['round', 'killed', 'was leader', 'new node', 'kill -> first launch (s)', 'last -> first launch (s)'],
        ...fo.rounds.map((r, i) => [
          String(i + 1),
          r.victim,
          r.victimWasLeader ? 'yes' : 'no',
          r.newNode,
          fmt(r.killToFirstS, 2),
          fmt(r.lastToFirstS, 2),
        ]),
      ]),
    );
    lines.push(
      `over the failover runs: ${fo.launched} launched, DUPLICATES ${fo.duplicates}, UNACCOUNTED ${fo.unaccounted}, ` +
        `skipped (recorded) ${fo.skipped}, lost (recorded) ${fo.lost}`,
    );
  }
  if (ov) {
    const l = ov.load;
    const floor = floors.find((f) => f.jobs === l.jobs);
    const ratio = (x: number, f: number | undefined) => (f ? `${fmt(x / f, 2)}x the floor` : '');
    lines.push('');
    lines.push(`Overload: ${l.jobs} every-second jobs, agents at lease TTL ${ov.leaseTtlS} s (the default)`);
    lines.push(
      table([
        ['', `${l.jobs} jobs`],
        ['launches / expected', `${l.launched}/${l.expected}`],
        ['AGENT LEASES LOST (apply..rm)', String(l.leaseLosses)],
        ['launch delay p50 (ms)', `${fmt(l.delay.p50)} ${ratio(l.delay.p50, floor?.delayMs.p50)}`],
        ['launch delay p99 (ms)', `${fmt(l.delay.p99)} ${ratio(l.delay.p99, floor?.delayMs.p99)}`],
        ['launch delay max (ms)', fmt(l.delay.max)],
        ['launches later than 1 s', String(l.lateLaunches)],
        ['skipped (recorded) times', String(l.skipped)],
        ['lost (recorded) runs', String(l.lost)],
        ['DUPLICATE / UNACCOUNTED times', `${l.duplicates} / ${l.unaccounted}`],
        ['claims caught up after (s)', fmt(l.cursorLagS)],
        ["'node overloaded' episodes (logs)", String(ov.episodes)],
        [
          'node-overloaded alerts',
          Object.entries(ov.alerts)
            .map(([n, k]) => `${n}: ${k}`)
            .join(', ') || '0',
        ],
        ['agent VmRSS (MB)', l.agents.map((a) => fmt(a.rssMb, 0)).join(' / ')],
        ['agents CPU total (% of 1 core)', fmt(100 * l.agents.reduce((s, a) => s + a.cpu, 0))],
        ['machine busy (% of all cores)', fmt(100 * l.machineBusy)],
      ]),
    );
  }
  const all = [...loads, ...(ov ? [ov.load] : [])];
  const dup = all.reduce((s, l) => s + l.duplicates, 0) + (fo?.duplicates ?? 0);
  const una = all.reduce((s, l) => s + l.unaccounted, 0) + (fo?.unaccounted ?? 0);
  lines.push('');
  lines.push(`*** duplicate scheduled times: ${dup}; unaccounted scheduled times: ${una} ***`);
  return lines.join('\n') + '\n';
}

// ---- main --------------------------------------------------------------------------

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const loadavg = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  tc = new TestCluster();
  const c = tc;
  progress('measuring the floor: commands released together, no etcd, no agent');
  const floors: LaunchFloor[] = [];
  const floorJobs = [...new Set([...opts.jobs, ...(opts.overloadJobs ? [opts.overloadJobs] : [])])];
  for (const n of floorJobs) floors.push(await launchFloor(c.dir, n));
  progress(`starting etcd and agents ${NODES.join(', ')}`);
  await c.start();
  for (const id of NODES) c.startAgent(id, opts.agentArgs);
  await readyPatiently(c);
  progress(`cluster ready (etcd ${c.etcd.endpoint}, dirs ${c.dir} ${c.etcd.dir})`);

  const loads: LoadResult[] = [];
  for (const n of opts.jobs) loads.push(await runLoad(c, n, opts));
  const fo = opts.failoverRounds > 0 ? await runFailover(c, opts.failoverRounds, opts.agentArgs) : undefined;
  assertHealthy(c);
  const ov = opts.overloadJobs > 0 ? await runOverload(c, opts) : undefined;
  assertHealthy(c);

  const text = report(loads, fo, floors, loadavg, ov);
  process.stdout.write(text);
  if (opts.json)
    writeFileSync(
      opts.json,
      JSON.stringify({ loadavg, floors, loads, failover: fo, overload: ov }, null, 2) + '\n',
    );
  progress('stopping the cluster');
  await c.stop();
  tc = undefined;
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    progress(`the run broke: ${(err as Error).stack ?? String(err)}`);
    process.exit(1);
  },
);
