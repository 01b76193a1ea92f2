// `npm test`: etcd present, TypeScript built, lint clean, then every test (unit first, then the
// console's views in Chromium, integration with real etcd and agent processes, the console's UI).
const { spawnSync } = require('node:child_process');
const { readdirSync, existsSync } = require('node:fs');
const { join } = require('node:path');
const { ensureProjectNode } = require('./project-node');

ensureProjectNode();
const { ensureEtcd } = require('./ensure-etcd');
const { ensureChromium } = require('./ensure-chromium');
const { ensureTools } = require('./ensure-tools');
const { ensurePodman } = require('./ensure-podman');

const root = join(__dirname, '..');
console.error(`node ${process.version} (${process.execPath})`);
const bin = (name) => join(root, 'node_modules', '.bin', name);

function step(what, cmd, args) {
  console.error(`\n== ${what}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root });
  if (r.status !== 0) {
    console.error(`${what} failed`);
    process.exit(r.status || 1);
  }
}

ensureEtcd();
ensureChromium();
ensureTools();
ensurePodman();
step('build', bin('tsc'), ['-p', 'tsconfig.json']);
step('typecheck renderer', bin('tsc'), ['-p', 'renderer/tsconfig.json']);
step('typecheck electron', bin('tsc'), ['-p', 'electron/tsconfig.json']);
step('typecheck component fixture', bin('tsc'), ['-p', 'test/component/fixture/tsconfig.json']);
step('bundle renderer and electron', process.execPath, [join(__dirname, 'build-renderer.js')]);
if (!process.argv.includes('--no-lint')) {
  step('lint', bin('eslint'), ['.']);
  step('format', bin('prettier'), ['--check', '.']);
}
const files = [];
// component: the real views in headless Chromium against an in-memory cluster (no etcd);
// ui: the web console in headless Chromium against real etcd and agents.
for (const dir of ['unit', 'component', 'integration', 'ui']) {
  const d = join(root, 'dist', 'test', dir);
  if (!existsSync(d)) continue;
  for (const f of readdirSync(d).sort()) if (f.endsWith('.test.js')) files.push(join(d, f));
}
const only = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const selected = only.length ? files.filter((f) => only.some((o) => f.includes(o))) : files;
// One file at a time: the integration tests start etcd and agents, and this is a 2-core machine.
step('tests', process.execPath, ['--test', '--test-concurrency=1', ...selected]);
