// The server artifacts of `npm run package:agent`, as a server gets them: the tarball and the
// .deb are built once (x64), extracted into temporary roots (never installed on this machine),
// and the extracted `peppercorn` runs with a PATH that has no `node` against a real etcd.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  mkdtempSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
  openSync,
  cpSync,
  lstatSync,
  readlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestCluster, waitFor, ROOT } from '../harness/cluster';

const VERSION = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version as string;
const tmp = mkdtempSync(join(tmpdir(), 'peppercorn-pkg-'));
const out = join(tmp, 'release');
const tarRoot = join(tmp, 'tar');
const debRoot = join(tmp, 'deb');
const noNodeBin = join(tmp, 'bin');
const tc = new TestCluster();
let tarball = '';
let debFile = '';

function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string } = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 600_000, maxBuffer: 1 << 26, ...opts });
  if (r.error) throw r.error;
  return r;
}

/** Every command of /usr/bin and /bin except node, npm and npx: a server without Node. */
function pathWithoutNode(): string {
  mkdirSync(noNodeBin);
  for (const dir of ['/usr/local/bin', '/usr/bin', '/bin', '/usr/sbin', '/sbin']) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const n of names) {
      if (/^(node|nodejs|npm|npx|corepack)$/.test(n)) continue;
      try {
        symlinkSync(join(dir, n), join(noNodeBin, n));
      } catch {
        /* the same name from an earlier directory wins, as on PATH */
      }
    }
  }
  return noNodeBin;
}

function serverEnv(): NodeJS.ProcessEnv {
  // Nothing of the test's environment (npm's PATH has the project's node first).
  return { PATH: noNodeBin, HOME: tmp, LANG: 'C.UTF-8' };
}

before(async () => {
  const built = run(process.execPath, [
    join(ROOT, 'scripts', 'package-agent.js'),
    '--arch',
    'x64',
    '--out',
    out,
  ]);
  assert.equal(built.status, 0, `package:agent failed:\n${built.stderr}`);
  tarball = join(out, `peppercorn-${VERSION}-linux-x64.tar.gz`);
  debFile = join(out, `peppercorn_${VERSION}_amd64.deb`);
  mkdirSync(tarRoot);
  assert.equal(run('tar', ['-xzf', tarball, '-C', tarRoot]).status, 0);
  mkdirSync(debRoot);
  assert.equal(run('dpkg-deb', ['-x', debFile, debRoot]).status, 0);
  pathWithoutNode();
  await tc.start();
});

after(async () => {
  await tc.stop();
  if (!process.env.KEEP_TEST_DIRS) rmSync(tmp, { recursive: true, force: true });
});

test('the tarball holds a runnable peppercorn, its Node runtime, the unit, a config and INSTALL', () => {
  const dir = join(tarRoot, `peppercorn-${VERSION}-linux-x64`);
  for (const f of [
    'peppercorn',
    'lib/node',
    'lib/peppercorn.js',
    'lib/lease-worker.js',
    'lib/proto/rpc.proto',
    'lib/renderer/index.html',
  ])
    assert.ok(statSync(join(dir, f)).isFile(), `${f} is in the tarball`);
  for (const f of ['peppercorn-agent.service', 'agent.yaml', 'agent.env', 'INSTALL'])
    assert.ok(statSync(join(dir, f)).isFile(), `${f} is in the tarball`);
  assert.equal(statSync(join(dir, 'agent.env')).mode & 0o777, 0o600);
  assert.equal(run(join(dir, 'lib', 'node'), ['--version']).stdout.trim(), `v${process.versions.node}`);
  const v = run(join(dir, 'peppercorn'), ['--version'], { env: serverEnv() });
  assert.equal(v.status, 0, v.stderr);
  assert.equal(v.stdout.trim(), VERSION);
  // `node` really is absent from that PATH: the launcher does not depend on it.
  assert.notEqual(run('sh', ['-c', 'command -v node'], { env: serverEnv() }).status, 0);
});

test('the .deb installs the command, the unit, the config (conffiles) and private directories', () => {
  const listing = run('dpkg-deb', ['-c', debFile]).stdout;
  const mode = (path: string) =>
    new RegExp(`^(\\S+) .* \\./${path.replace(/\./g, '\\.')}/?( ->.*)?$`, 'm').exec(listing)?.[1];
  assert.equal(mode('etc/peppercorn/agent.env'), '-rw-------');
  assert.equal(mode('etc/peppercorn/agent.yaml'), '-rw-r--r--');
  assert.equal(mode('var/lib/peppercorn'), 'drwx------');
  assert.equal(mode('lib/systemd/system/peppercorn-agent.service'), '-rw-r--r--');
  assert.equal(mode('usr/lib/peppercorn/lib/node'), '-rwxr-xr-x');
  assert.ok(lstatSync(join(debRoot, 'usr/bin/peppercorn')).isSymbolicLink());
  assert.equal(readlinkSync(join(debRoot, 'usr/bin/peppercorn')), '../lib/peppercorn/peppercorn');
  const conffiles = run('dpkg-deb', ['-I', debFile, 'conffiles']).stdout.trim().split('\n');
  assert.deepEqual(conffiles.sort(), ['/etc/peppercorn/agent.env', '/etc/peppercorn/agent.yaml']);
  const control = run('dpkg-deb', ['-f', debFile]).stdout;
  assert.match(control, /^Package: peppercorn$/m);
  assert.match(control, new RegExp(`^Version: ${VERSION.replace(/\./g, '\\.')}$`, 'm'));
  assert.match(control, /^Architecture: amd64$/m);
});

test('systemd-analyze verify finds nothing wrong with the unit', (t) => {
  if (run('sh', ['-c', 'command -v systemd-analyze']).status !== 0) {
    // Not a silent pass: the skip is reported with what to install.
    t.skip('systemd-analyze is missing: apt-get install systemd');
    return;
  }
  // A root holding the .deb's files and the host's own units (sysinit.target & co.).
  const root = join(tmp, 'verify-root');
  cpSync(debRoot, root, { recursive: true, verbatimSymlinks: true });
  cpSync('/lib/systemd/system', join(root, 'lib/systemd/system'), { recursive: true, force: false });
  const r = run('systemd-analyze', [
    'verify',
    `--root=${root}`,
    '/lib/systemd/system/peppercorn-agent.service',
  ]);
  assert.equal(r.stderr.trim(), '');
  assert.equal(r.status, 0);
  const unit = readFileSync(join(debRoot, 'lib/systemd/system/peppercorn-agent.service'), 'utf8');
  const setting = (k: string) => new RegExp(`^${k}=(.*)$`, 'm').exec(unit)?.[1];
  assert.equal(setting('Restart'), 'always');
  assert.equal(setting('KillMode'), 'mixed');
  assert.equal(setting('EnvironmentFile'), '-/etc/peppercorn/agent.env');
  assert.equal(setting('OOMPolicy'), 'continue');
  // Longer than the agent's graceful stop: 30 s for runs, 5 s kill grace, hand-over and leave.
  assert.ok(parseInt(setting('TimeoutStopSec') ?? '0', 10) >= 60);
  // Jobs run as other users (setuid) and may use sudo: nothing that forbids either.
  assert.equal(setting('NoNewPrivileges'), undefined);
  assert.equal(setting('ProtectSystem'), undefined);
});

let agent: ChildProcess | undefined;
test('the extracted .deb runs an agent without Node on PATH: joins, runs a job, metrics, clean SIGTERM', async () => {
  const cmd = join(debRoot, 'usr/bin/peppercorn');
  const config = join(tmp, 'agent.yaml');
  writeFileSync(
    config,
    `etcd: ${tc.etcd.endpoint}\nprefix: ${tc.prefix}\nmetricsPort: 0\nlabels: { from: deb }\n`,
  );
  const logFile = join(tmp, 'agent.log');
  // Launch lines are at debug: they carry the run.
  const env = { ...serverEnv(), PEPPERCORN_LOG_LEVEL: 'debug' };
  agent = spawn(
    cmd,
    [
      'agent',
      '--config',
      config,
      '--node-id',
      'packaged',
      '--data-dir',
      join(tmp, 'data'),
      '--lease-ttl',
      '3',
    ],
    {
      env,
      stdio: ['ignore', openSync(logFile, 'a'), openSync(logFile, 'a')],
    },
  );
  const log = () => readFileSync(logFile, 'utf8');
  await tc.ready(['packaged']);
  const node = (await tc.store.listNodes()).find((n) => n.id === 'packaged');
  // The config's labels, beside those the agent finds itself (container runtime, cgroups).
  assert.equal(node?.labels.from, 'deb', JSON.stringify(node?.labels));

  const marker = join(tmp, 'ran');
  const apply = run(cmd, ['--etcd', tc.etcd.endpoint, '--prefix', tc.prefix, 'job', 'apply', '-f', '-'], {
    env,
    input: `name: packaged-job\nkind: cron\nschedule: "* * * * * *"\ncommand: "echo $PEPPERCORN_RUN_ID >> ${marker}"\n`,
  });
  assert.equal(apply.status, 0, apply.stderr);
  await waitFor('the job to run', () => {
    try {
      return readFileSync(marker, 'utf8').includes('packaged-job.');
    } catch {
      return false;
    }
  });
  const url = await waitFor(
    'the metrics address in the log',
    () => /serving metrics on (http:\/\/[^\s"]+)\/metrics/.exec(log())?.[1],
  );
  const metrics = await (await fetch(`${url}/metrics`)).text();
  assert.match(metrics, /^peppercorn_launches_total\{job="packaged-job"\} [1-9]\d*$/m);
  const health = await fetch(`${url}/healthz`);
  assert.equal(health.status, 200);
  assert.deepEqual(await health.json(), { status: 'ok', version: VERSION, node: 'packaged' });

  const exited = new Promise<number | null>((r) => agent!.once('exit', (code) => r(code)));
  agent.kill('SIGTERM');
  assert.equal(await exited, 0);
  // Not a terminal: JSON, one object per line, every line; job and run fields on run lines.
  const lines = log().trimEnd().split('\n');
  const parsed = lines.map((l, i) => {
    try {
      return JSON.parse(l) as Record<string, unknown>;
    } catch {
      throw new Error(`log line ${i + 1} is not JSON: ${l}`);
    }
  });
  assert.ok(
    parsed.every((o) => o.node === 'packaged' && typeof o.level === 'number' && typeof o.msg === 'string'),
  );
  assert.ok(parsed.some((o) => /^joined as packaged/.test(o.msg as string)));
  const launched = parsed.find((o) => /^run \S+ launched$/.test(o.msg as string));
  assert.equal(launched?.job, 'packaged-job');
  assert.match(String(launched?.run), /^packaged-job\.\d+\.1$/);
  assert.equal(parsed.at(-1)?.msg, 'stopped');
  assert.equal((await tc.store.listNodes()).find((n) => n.id === 'packaged')?.alive ?? false, false);
  await tc.store.removeJob('packaged-job');
});

after(() => {
  if (agent && agent.exitCode === null && agent.signalCode === null) agent.kill('SIGKILL');
});
