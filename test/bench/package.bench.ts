// The agent as shipped: artifact sizes, time from start to "joined", and idle memory, for the
// packaged build (tarball: esbuild bundle + Node 24 beside it) next to the lean npm package
// (installed with npm install --omit=dev, run on the same Node). The floor, measured in the same
// run: the bare Node runtime starting and exiting (`node -e 0`).
//
//   npm run bench:package [-- --runs 5 --idle 10]
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestEtcd } from '../harness/etcd';
import { ROOT } from '../harness/cluster';
import { memory, percentile } from './proc';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const RUNS = arg('runs', 5);
const IDLE_S = arg('idle', 10);
const VERSION = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version as string;
const mib = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MiB`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function sh(cmd: string, args: string[], cwd?: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}
const du = (path: string) => Number(sh('du', ['-sb', path]).split('\t')[0]);

interface Build {
  name: string;
  argv: string[];
}

/** Starts an agent, returns ms from spawn to its "joined" line and its RSS after IDLE_S idle. */
async function measure(
  b: Build,
  etcd: TestEtcd,
  dir: string,
  i: number,
): Promise<{ joinMs: number; rssKb: number }> {
  const id = `${b.name}-${i}`;
  const log = join(dir, `${id}.log`);
  const t0 = Date.now();
  const p = spawn(
    b.argv[0],
    [...b.argv.slice(1), 'agent', '--etcd', etcd.endpoint, '--prefix', `/bench-${id}/`, '--node-id', id],
    {
      env: { PATH: '/usr/bin:/bin', HOME: dir, PEPPERCORN_LOG_FORMAT: 'json' },
      stdio: ['ignore', openSync(log, 'a'), openSync(log, 'a')],
    },
  );
  try {
    for (let waited = 0; waited < 60_000; waited += 20) {
      const line = readFileSync(log, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { msg: string; time: string })
        .find((o) => o.msg.startsWith('joined as'));
      if (line) {
        const joinMs = Date.parse(line.time) - t0;
        await sleep(IDLE_S * 1000);
        return { joinMs, rssKb: memory(p.pid!)?.rssKb ?? NaN };
      }
      await sleep(20);
    }
    throw new Error(`${id} did not join: ${readFileSync(log, 'utf8').slice(-2000)}`);
  } finally {
    p.kill('SIGKILL');
  }
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'peppercorn-bench-pkg-'));
  const etcd = new TestEtcd();
  try {
    process.stderr.write('building the tarball, the .deb and the npm package…\n');
    const out = join(dir, 'release');
    sh(process.execPath, [join(ROOT, 'scripts', 'package-agent.js'), '--arch', 'x64', '--out', out]);
    sh(process.execPath, [join(ROOT, 'scripts', 'package-npm.js'), '--out', out]);
    const tarball = join(out, `peppercorn-${VERSION}-linux-x64.tar.gz`);
    const deb = join(out, `peppercorn_${VERSION}_amd64.deb`);
    const tgz = join(out, `peppercorn-agent-${VERSION}.tgz`);
    mkdirSync(join(dir, 'tar'));
    sh('tar', ['-xzf', tarball, '-C', join(dir, 'tar')]);
    const packaged = join(dir, 'tar', `peppercorn-${VERSION}-linux-x64`);
    const project = join(dir, 'npm');
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), '{"name":"bench","private":true}');
    process.stderr.write('npm install --omit=dev of the npm package…\n');
    sh('npm', ['install', '--omit=dev', '--no-audit', '--no-fund', tgz], project);

    const sizes = [
      ['tarball (linux-x64)', mib(statSync(tarball).size), `${mib(du(packaged))} extracted`],
      ['.deb (amd64)', mib(statSync(deb).size), ''],
      [
        'npm package (.tgz)',
        mib(statSync(tgz).size),
        `${mib(du(join(project, 'node_modules')))} node_modules, plus a Node`,
      ],
    ];
    await etcd.start();
    const builds: Build[] = [
      { name: 'packaged', argv: [join(packaged, 'peppercorn')] },
      { name: 'npm', argv: [process.execPath, join(project, 'node_modules', '.bin', 'peppercorn')] },
    ];
    // The floor: the same Node starting and exiting, nothing loaded.
    const floor: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t = process.hrtime.bigint();
      sh(join(packaged, 'lib', 'node'), ['-e', '0']);
      floor.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    const results = new Map<string, { join: number[]; rss: number[] }>();
    for (let i = 0; i < RUNS; i++)
      for (const b of builds) {
        process.stderr.write(`${b.name} run ${i + 1}/${RUNS}…\n`);
        const r = await measure(b, etcd, dir, i);
        const acc = results.get(b.name) ?? { join: [], rss: [] };
        acc.join.push(r.joinMs);
        acc.rss.push(r.rssKb);
        results.set(b.name, acc);
      }
    const med = (xs: number[]) =>
      percentile(
        [...xs].sort((a, b) => a - b),
        50,
      );
    console.log(`\nNode ${process.version}, ${RUNS} runs each, RSS after ${IDLE_S} s idle (median)\n`);
    console.log('| artifact | size | installed |\n|---|---|---|');
    for (const s of sizes) console.log(`| ${s.join(' | ')} |`);
    console.log('\n| build | start → joined (median, max) | idle RSS (median) |\n|---|---|---|');
    console.log(
      `| floor: \`node -e 0\` | ${med(floor).toFixed(0)} ms, ${Math.max(...floor).toFixed(0)} ms | – |`,
    );
    for (const [name, r] of results)
      console.log(
        `| ${name} | ${med(r.join).toFixed(0)} ms, ${Math.max(...r.join).toFixed(0)} ms | ${(med(r.rss) / 1024).toFixed(1)} MiB |`,
      );
  } finally {
    await etcd.destroy();
    if (!process.env.KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
