// The lean npm package (npm run package:npm): installed into an empty project with
// `npm install --omit=dev` and again with `npm ci --omit=dev`, it brings the `peppercorn`
// command and its runtime dependencies only, and works against a real etcd.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestEtcd } from '../harness/etcd';
import { ROOT } from '../harness/cluster';

const VERSION = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version as string;
const tmp = mkdtempSync(join(tmpdir(), 'peppercorn-npm-'));
const project = join(tmp, 'project');
const etcd = new TestEtcd();
let tgz = '';

function run(cmd: string, args: string[], cwd = tmp) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 600_000 });
  if (r.error) throw r.error;
  return r;
}

before(async () => {
  const built = run(process.execPath, [join(ROOT, 'scripts', 'package-npm.js'), '--out', tmp]);
  assert.equal(built.status, 0, built.stderr);
  tgz = join(tmp, `peppercorn-agent-${VERSION}.tgz`);
  await etcd.start();
});

after(async () => {
  await etcd.destroy();
  if (!process.env.KEEP_TEST_DIRS) rmSync(tmp, { recursive: true, force: true });
});

test('npm install --omit=dev, then npm ci --omit=dev: peppercorn runs, without dev tooling', () => {
  run('mkdir', ['-p', project]);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'server', private: true }));
  const npm = (args: string[]) => {
    const r = run('npm', [...args, '--no-audit', '--no-fund'], project);
    assert.equal(r.status, 0, `npm ${args.join(' ')}: ${r.stderr}`);
  };
  const peppercorn = (args: string[]) =>
    run(process.execPath, [join(project, 'node_modules/.bin/peppercorn'), ...args], project);
  npm(['install', '--omit=dev', tgz]);
  assert.equal(peppercorn(['--version']).stdout.trim(), VERSION);
  rmSync(join(project, 'node_modules'), { recursive: true });
  npm(['ci', '--omit=dev']);
  assert.equal(peppercorn(['--version']).stdout.trim(), VERSION);
  const installed = readdirSync(join(project, 'node_modules'));
  for (const heavy of ['typescript', 'electron', 'playwright-core', 'esbuild', 'react', '@xterm'])
    assert.equal(installed.includes(heavy), false, `${heavy} is not installed`);
  assert.ok(existsSync(join(project, 'node_modules/peppercorn-agent/lib/renderer/index.html')));
  // etcd3 stays a package of its own (its .proto files found where it is installed).
  const nodes = peppercorn(['--etcd', etcd.endpoint, '--prefix', '/npm-test/', 'nodes', '--json']);
  assert.equal(nodes.status, 0, nodes.stderr);
  assert.deepEqual(JSON.parse(nodes.stdout), []);
});
