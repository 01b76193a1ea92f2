// Reading a run's whole log from its node, through etcd: MB/s beside two floors measured in the
// same run on the same etcd — reading the file from disk, and etcd itself carrying the same bytes
// as 1 MiB transactions of 256 KiB values read back by a watch (what a window costs without the
// agent, the lease or the request). One real agent, a real etcd, a run of ~20 MB.
//
//   npx tsc -p tsconfig.json && node dist/test/bench/logs.bench.js [-- --mb 20 --rounds 3]
//
// Figures go to stdout. Timings only; nothing here passes or fails on a figure.
import { readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { TestCluster, waitFor, CLI } from '../harness/cluster';
import { readRunOutput } from '../../agent/api/run-output';
import { LOG_CHUNK_BYTES, LOG_WINDOW_BYTES } from '../../agent/core/log-requests';
import { runLogPath } from '../../agent/runner/logfiles';

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

const MB = option('mb', 20);
const ROUNDS = option('rounds', 3);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rate = (bytes: number, ms: number) => bytes / 1e6 / (ms / 1000);

async function timed(fn: () => Promise<number>): Promise<{ ms: number; bytes: number }> {
  const t0 = performance.now();
  const bytes = await fn();
  return { ms: performance.now() - t0, bytes };
}

async function main(): Promise<void> {
  const tc = new TestCluster();
  const stop = () => void tc.stop().finally(() => process.exit(1));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  try {
    await tc.start();
    tc.startAgent('holder');
    await tc.ready(['holder']);
    // Lines of digits: ~7 bytes each.
    const lines = Math.round((MB * 1e6) / 7);
    tc.apply(`name: chatty\nkind: once\ncommand: 'seq 1 ${lines}'\n`);
    await waitFor('chatty to be assigned', async () => (await tc.owner('chatty')) !== null);
    const run = await tc.store.trigger('chatty', 'bench');
    await waitFor(
      'the run to end',
      async () => (await tc.store.getRun(run))?.status === 'succeeded',
      120_000,
    );
    const file = runLogPath(tc.path('holder'), 'chatty', run);
    const size = readFileSync(file).length;
    process.stderr.write(`run ${run}: ${size} bytes\n`);

    const disk: number[] = [];
    const etcd: number[] = [];
    const reader: number[] = [];
    const cli: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const d = await timed(async () => readFileSync(file).length);
      disk.push(rate(d.bytes, d.ms));

      // The etcd floor: the same bytes as the node's windows, without the node.
      const data = readFileSync(file);
      const e = await timed(async () => {
        const ns = tc.cluster.ns;
        let got = 0;
        for (let off = 0; off < data.length; off += LOG_WINDOW_BYTES) {
          const w = await ns.watch().prefix('bench/').create();
          const window = data.subarray(off, off + LOG_WINDOW_BYTES);
          const n = Math.ceil(window.length / LOG_CHUNK_BYTES);
          const seen = new Promise<void>((resolve) => {
            let left = n;
            w.on('put', (kv) => {
              got += kv.value.length;
              if (--left === 0) resolve();
            });
          });
          const ops = [];
          for (let i = 0; i < n; i++)
            ops.push(
              ns.put(`bench/${i}`).value(window.subarray(i * LOG_CHUNK_BYTES, (i + 1) * LOG_CHUNK_BYTES)),
            );
          await ns
            .if('bench/none', 'Version', '==', 0)
            .then(...ops)
            .commit();
          await seen;
          await Promise.all([w.cancel(), ns.delete().prefix('bench/').exec()]);
        }
        return got;
      });
      etcd.push(rate(e.bytes, e.ms));

      const n = await timed(async () => {
        let got = 0;
        await readRunOutput(tc.cluster, run, {
          onData: (d) => {
            got += d.length;
          },
        });
        return got;
      });
      if (n.bytes !== size) throw new Error(`the reader got ${n.bytes} of ${size} bytes`);
      reader.push(rate(n.bytes, n.ms));

      const c = await timed(
        () =>
          new Promise<number>((resolve, reject) => {
            const p = spawn(process.execPath, [CLI, 'logs', run], {
              env: tc.env(),
              stdio: ['ignore', 'pipe', 'inherit'],
            });
            let got = 0;
            p.stdout.on('data', (b: Buffer) => (got += b.length));
            p.on('close', (code) => (code === 0 ? resolve(got) : reject(new Error(`logs exited ${code}`))));
          }),
      );
      if (c.bytes !== size) throw new Error(`peppercorn logs printed ${c.bytes} of ${size} bytes`);
      cli.push(rate(c.bytes, c.ms));
    }
    const f = (xs: number[]) =>
      `${median(xs).toFixed(1)} MB/s (runs: ${xs.map((x) => x.toFixed(1)).join(', ')})`;
    console.log(
      `machine: ${cpus().length} cores, load ${loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')}`,
    );
    console.log(`log of ${(size / 1e6).toFixed(1)} MB, ${ROUNDS} rounds, medians:`);
    console.log(`  floor, the file from disk:                      ${f(disk)}`);
    console.log(`  floor, etcd carrying the same windows (no node): ${f(etcd)}`);
    console.log(`  readRunOutput from the node, through etcd:      ${f(reader)}`);
    console.log(`  peppercorn logs RUN (process start included):   ${f(cli)}`);
  } finally {
    await tc.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
