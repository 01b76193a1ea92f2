// The scale benchmark (issue 13's "10,000 jobs"): a real etcd and three real agents on
// this machine, N daily jobs (`H H * * *`: a time of day hashed from each job's name, so few
// share a parsed expression; about N/1440 of them fire each minute), and what an operator
// waits for:
//   - apply: `peppercorn job apply -f FILE` of the N jobs, from the CLI's start to its exit;
//     floor: the same values put into etcd by this process in 128-operation transactions
//     (no reads, no audit, no checks), into a scratch prefix;
//   - assignment: from apply's return to every job having an assignment;
//   - the leader's CPU time from the apply's start until every job is assigned;
//   - `job ls`: the CLI's start to exit, output to a pipe, median of 3; floors: the CLI's own
//     start-up (`peppercorn --version`) and one range read of the N job keys in this process;
//   - agent memory (VmRSS): idle (no jobs) and with the N jobs defined, after a settle.
//
//   node dist/test/bench/scale.bench.js [--jobs 10000] [--settle 5] [--json FILE]
//
// Progress goes to stderr, the table to stdout. Figures are printed, never asserted.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { TestCluster, CLI, waitFor, sleep } from '../harness/cluster';
import { keys } from '../../agent/core/keys';
import { cpuTimes, memory, percentile } from './proc';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}
const jsonOut = (() => {
  const i = process.argv.indexOf('--json');
  return i > 0 ? process.argv[i + 1] : undefined;
})();

const progress = (msg: string) => process.stderr.write(`[scale] ${msg}\n`);
const NODES = ['n1', 'n2', 'n3'];

export function scaleJobsYaml(n: number, prefix = 'scale'): string {
  const out: string[] = [];
  for (let i = 0; i < n; i++)
    out.push(
      `name: ${prefix}-${String(i).padStart(5, '0')}\nkind: cron\nschedule: "H H * * *"\ncommand: "echo ${i}"\nlabels: {tier: bench}\n`,
    );
  return out.join('---\n');
}

/** Runs the CLI; resolves with its wall time and exit status (stdout counted, not kept). */
function timedCli(
  c: TestCluster,
  args: string[],
): Promise<{ ms: number; cpuS: number; status: number | null; stderr: string; bytes: number }> {
  const t0 = performance.now();
  // The CLI's CPU time: what a waited-for child adds to our children's time (the agents and
  // etcd are not waited for while they run). Wall time suffers when the machine is shared.
  const c0 = cpuTimes(process.pid)!.children;
  const p = spawn(process.execPath, [CLI, ...args], { env: c.env(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let bytes = 0;
  p.stdout.on('data', (d: Buffer) => (bytes += d.length));
  p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) =>
    p.on('close', (status) =>
      resolve({
        ms: performance.now() - t0,
        cpuS: cpuTimes(process.pid)!.children - c0,
        status,
        stderr,
        bytes,
      }),
    ),
  );
}

const mb = (kb: number | undefined) => (kb === undefined ? NaN : kb / 1024);

function rss(c: TestCluster): Map<string, number> {
  return new Map([...c.agents.values()].map((a) => [a.id, mb(memory(a.pid)?.rssKb)]));
}

async function main(): Promise<void> {
  const n = arg('jobs', 10_000);
  const settleMs = arg('settle', 5) * 1000;
  const c = new TestCluster();
  const stop = () => void c.stop().finally(() => process.exit(1));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    await c.start();
    for (const id of NODES) c.startAgent(id);
    await c.ready(NODES);
    await sleep(settleMs);
    const rssIdle = rss(c);
    progress(`idle RSS: ${[...rssIdle].map(([id, m]) => `${id} ${m.toFixed(0)} MB`).join(', ')}`);

    const file = c.write('jobs.yaml', scaleJobsYaml(n));

    // Floor: the same values put by one process, 128 per transaction, 4 in flight.
    const { ns } = c.cluster;
    const values = Array.from({ length: n }, (_, i) =>
      JSON.stringify({ name: `floor-${i}`, kind: 'cron', schedule: '0 0 1 1 *', command: `echo ${i}` }),
    );
    const tf = performance.now();
    const chunks: number[] = [];
    for (let i = 0; i < n; i += 128) chunks.push(i);
    for (let i = 0; i < chunks.length; i += 4)
      await Promise.all(
        chunks.slice(i, i + 4).map((s) =>
          ns
            .if('scratch/x', 'Create', '==', 0)
            .then(...values.slice(s, s + 128).map((v, j) => ns.put(`scratch/${s + j}`).value(v)))
            .commit(),
        ),
      );
    const floorApplyMs = performance.now() - tf;
    await ns.delete().prefix('scratch/').exec();

    const leaderId = await waitFor('a leader', () => c.leader());
    const leaderPid = c.agents.get(leaderId)!.pid;
    const cpu0 = cpuTimes(leaderPid)!;
    progress(`applying ${n} jobs`);
    const apply = await timedCli(c, ['job', 'apply', '-f', file, '-o', 'name']);
    if (apply.status !== 0)
      throw new Error(`job apply failed (${apply.status}): ${apply.stderr.slice(0, 1500)}`);
    const appliedAt = performance.now();
    progress(`applied in ${(apply.ms / 1000).toFixed(1)} s; waiting for every assignment`);
    let assigned = 0;
    await waitFor(
      `all ${n} jobs assigned`,
      async () => {
        assigned = Number(await ns.getAll().prefix(keys.assignments).count());
        return assigned >= n;
      },
      300_000,
    );
    const assignMs = performance.now() - appliedAt;
    const cpu1 = cpuTimes(leaderPid)!;
    const leaderCpuS = cpu1.self - cpu0.self;
    progress(`assigned ${(assignMs / 1000).toFixed(1)} s after the apply returned`);

    const lsRuns: number[] = [];
    const lsCpu: number[] = [];
    let lsBytes = 0;
    for (let i = 0; i < 3; i++) {
      const r = await timedCli(c, ['job', 'ls']);
      if (r.status !== 0) throw new Error(`job ls failed: ${r.stderr}`);
      lsRuns.push(r.ms);
      lsCpu.push(r.cpuS);
      lsBytes = r.bytes;
    }
    const startupRuns: number[] = [];
    const startupCpu: number[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await timedCli(c, ['--version']);
      startupRuns.push(r.ms);
      startupCpu.push(r.cpuS);
    }
    const tr = performance.now();
    const read = await ns.getAll().prefix(keys.jobs).exec();
    const rangeMs = performance.now() - tr;
    progress(`job ls: ${lsRuns.map((m) => m.toFixed(0)).join(', ')} ms (${lsBytes} bytes)`);

    await sleep(settleMs);
    const rssJobs = rss(c);

    const med = (xs: number[]) =>
      percentile(
        [...xs].sort((a, b) => a - b),
        50,
      );
    const maxOf = (m: Map<string, number>) => Math.max(...m.values());
    const result = {
      jobs: n,
      applyMs: apply.ms,
      applyCpuS: apply.cpuS,
      floorApplyMs,
      assignAfterApplyMs: assignMs,
      leaderCpuS,
      jobLsMs: med(lsRuns),
      jobLsRunsMs: lsRuns,
      jobLsCpuS: med(lsCpu),
      cliStartupMs: med(startupRuns),
      cliStartupCpuS: med(startupCpu),
      rangeReadMs: rangeMs,
      rangeReadKeys: read.kvs.length,
      rssIdleMb: Object.fromEntries(rssIdle),
      rssJobsMb: Object.fromEntries(rssJobs),
    };
    const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
    const rows: [string, string, string][] = [
      [`job apply of ${n} jobs`, s(apply.ms), `${s(floorApplyMs)} (bare puts, 128/txn)`],
      ['  its CPU time', `${apply.cpuS.toFixed(2)} s`, '-'],
      ['every job assigned, after apply returned', s(assignMs), '-'],
      ['leader CPU, apply start .. all assigned', `${leaderCpuS.toFixed(2)} s`, '-'],
      [
        'job ls (median of 3)',
        s(med(lsRuns)),
        `${s(med(startupRuns))} CLI start-up + ${s(rangeMs)} one range read`,
      ],
      ['  its CPU time (median)', `${med(lsCpu).toFixed(2)} s`, '-'],
      [
        'agent RSS idle (max of 3)',
        `${maxOf(rssIdle).toFixed(0)} MB`,
        [...rssIdle.values()].map((m) => m.toFixed(0)).join(' / '),
      ],
      [
        `agent RSS with ${n} jobs (max of 3)`,
        `${maxOf(rssJobs).toFixed(0)} MB`,
        [...rssJobs.values()].map((m) => m.toFixed(0)).join(' / '),
      ],
    ];
    const w0 = Math.max(...rows.map((r) => r[0].length));
    const w1 = Math.max(...rows.map((r) => r[1].length));
    process.stdout.write(
      `\n${'measure'.padEnd(w0)}  ${'figure'.padEnd(w1)}  floor / detail\n` +
        rows.map((r) => `${r[0].padEnd(w0)}  ${r[1].padEnd(w1)}  ${r[2]}`).join('\n') +
        '\n',
    );
    if (jsonOut) writeFileSync(jsonOut, JSON.stringify(result, null, 2));
  } finally {
    await c.stop();
  }
}

if (require.main === module)
  main().catch((err) => {
    process.stderr.write(`scale bench failed: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  });
