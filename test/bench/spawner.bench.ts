// What forking a run costs the agent, with and without the spawner (runner/spawner.ts), in one
// process and one run of the benchmark: rounds of N runs prepared on a start line, released
// together and awaited, alternating between the agent forking them itself and the spawner forking
// them. Per run: the CPU of this process (standing in for the agent: a ballast makes it as large
// as an agent, since a fork's cost grows with the size of the process that forks), the CPU of the
// spawner, and the launch delay (release to the command's own clock). No etcd, no agent.
//
//   node dist/test/bench/spawner.bench.js [--runs 100] [--rounds 6] [--ballast-mb 80] [--lead-ms 1000]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { prepareRun } from '../../agent/runner/exec';
import { StartLine } from '../../agent/runner/start-line';
import { raiseAgentPriority } from '../../agent/runner/priority';
import { spawnerPid, startSpawner, stopSpawner, whenSpawnerReady } from '../../agent/runner/spawner';
import { cpuTimes, memory, percentile } from './proc';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}

interface Round {
  mode: 'agent forks' | 'spawner forks';
  selfMs: number;
  spawnerMs: number;
  delays: number[];
  /** From the last prepareRun returning to the last pid known. */
  forkedMs: number;
  /** The N prepareRun calls: how long they held the event loop. */
  prepareMs: number;
}

async function round(dir: string, n: number, mode: Round['mode'], r: number, lead: number): Promise<Round> {
  if (mode === 'spawner forks') {
    startSpawner();
    await whenSpawnerReady();
  } else stopSpawner();
  await sleep(300); // a new spawner is up (or the old one gone) before counting
  const sp = spawnerPid();
  const file = join(dir, `out-${r}.txt`);
  const c0 = process.cpuUsage();
  const s0 = sp ? cpuTimes(sp) : undefined;
  const line = new StartLine(dir);
  const p0 = Date.now();
  const runs = Array.from({ length: n }, (_, i) =>
    prepareRun({
      runId: `b-${r}-${i}`,
      command: `echo $(date +%s%N) >> ${file}`,
      env: { PEPPERCORN_RUN_ID: `b-${r}-${i}` },
      killGraceMs: 1000,
      logFile: join(dir, 'bench.log'),
      logFileCapBytes: 1 << 20,
      tailBytes: 0,
      startLine: line,
    }),
  );
  // The agent's event loop is held for this long (its own forks are synchronous).
  const prepareMs = Date.now() - p0;
  // Every pid known (the agent's own forks are done when prepareRun returns; the spawner's report
  // in), then the same lead in both modes for the shells to reach their gate.
  const t0 = Date.now();
  while (runs.some((run) => run.pid === undefined)) await sleep(5);
  const forkedMs = Date.now() - t0;
  await sleep(lead);
  const releasedAt = Date.now();
  for (const run of runs) run.release();
  line.fire();
  await Promise.all(runs.map((run) => run.done));
  const c = process.cpuUsage(c0);
  const s1 = sp ? cpuTimes(sp) : undefined;
  const delays = readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => Number(BigInt(l) / 1000n) / 1000 - releasedAt);
  return {
    mode,
    selfMs: (c.user + c.system) / 1000 / n,
    spawnerMs: s0 && s1 ? ((s1.self - s0.self) * 1000) / n : 0,
    delays,
    forkedMs,
    prepareMs,
  };
}

async function main(): Promise<void> {
  const n = arg('runs', 100);
  const rounds = arg('rounds', 6);
  const lead = arg('lead-ms', 1000);
  const ballastMb = arg('ballast-mb', 80);
  // As the agent does (agent.ts): above its jobs, and so is the spawner it starts.
  raiseAgentPriority(10);
  // Live objects, as an agent's heap holds: a fork copies the page tables of all of it.
  const ballast: number[][] = [];
  for (let i = 0; i < ballastMb * 16; i++) ballast.push(Array.from({ length: 8192 }, (_, j) => j + i));
  const dir = mkdtempSync(join(tmpdir(), 'pc-bench-spawner-'));
  const rss = memory(process.pid)?.rssKb ?? NaN;
  const results: Round[] = [];
  try {
    for (let r = 0; r < rounds * 2; r++) {
      const mode = r % 2 === 0 ? 'agent forks' : 'spawner forks';
      const res = await round(dir, n, mode, r, lead);
      process.stderr.write(
        `round ${r + 1}: ${mode}: ${res.selfMs.toFixed(2)} ms/run here, ${res.spawnerMs.toFixed(2)} in the spawner, prepareRun x${n} held the event loop ${res.prepareMs} ms, pids ${res.forkedMs} ms after\n`,
      );
      // The first round of each kind warms up (the code's first run, the spawner's start).
      if (r >= 2) results.push(res);
    }
  } finally {
    stopSpawner();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(
    `${n} runs per round, ${rounds - 1} measured rounds each way, alternating; this process's RSS ${(rss / 1024).toFixed(0)} MB (ballast ${ballastMb} MB; ${ballast.length} arrays)`,
  );
  for (const mode of ['agent forks', 'spawner forks'] as const) {
    const rs = results.filter((x) => x.mode === mode);
    const med = (xs: number[]) =>
      percentile(
        [...xs].sort((a, b) => a - b),
        50,
      );
    const delays = rs.flatMap((x) => x.delays).sort((a, b) => a - b);
    console.log(
      `${mode.padEnd(14)} CPU per run: agent ${med(rs.map((x) => x.selfMs)).toFixed(2)} ms, spawner ${med(rs.map((x) => x.spawnerMs)).toFixed(2)} ms` +
        ` (rounds: ${rs.map((x) => x.selfMs.toFixed(2)).join(', ')});` +
        ` event loop held by the ${n} prepareRun calls ${med(rs.map((x) => x.prepareMs)).toFixed(0)} ms;` +
        ` release -> command's clock p50 ${percentile(delays, 50).toFixed(1)} ms, p99 ${percentile(delays, 99).toFixed(1)} ms`,
    );
  }
}

void main().catch((err) => {
  console.error(err);
  process.exit(1);
});
