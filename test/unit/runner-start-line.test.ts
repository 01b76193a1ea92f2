// Start lines: one write releases every run due at the same instant; a run not
// released never runs; if the agent dies, no waiting run ever starts.
import { test } from 'node:test';
import { runnerFixture } from './runner-fixture';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { prepareRun } from '../../agent/runner/exec';
import { StartLine } from '../../agent/runner/start-line';
import { processRunning } from '../../agent/runner/procgroup';

const { dir, spec: baseSpec } = runnerFixture('start-line');
const spec = (command: string, line: StartLine, user?: string) =>
  baseSpec(command, { startLine: line, ...(user ? { user } : {}) });

test('one fire starts every released run, each exactly once; an unreleased one never runs', async () => {
  const line = new StartLine(dir);
  const runs = Array.from({ length: 20 }, (_, i) =>
    prepareRun(spec(`echo ${i} >> ${join(dir, 'ran.txt')}`, line)),
  );
  const skipped = prepareRun(spec(`echo skipped >> ${join(dir, 'ran.txt')}`, line));
  const cancelled = prepareRun(spec(`echo cancelled >> ${join(dir, 'ran.txt')}`, line));
  await sleep(300);
  assert.equal(existsSync(join(dir, 'ran.txt')), false, 'nothing runs before the line fires');
  for (const r of runs) r.release();
  cancelled.cancel();
  line.fire();
  const outcomes = await Promise.all(runs.map((r) => r.done));
  assert.ok(outcomes.every((o) => o.status === 'succeeded' && o.startedAt > 0));
  const never = await Promise.all([skipped.done, cancelled.done]);
  for (const o of never) {
    assert.equal(o.startedAt, 0);
    assert.match(o.error!, /never ran/);
  }
  const lines = readFileSync(join(dir, 'ran.txt'), 'utf8')
    .trim()
    .split('\n')
    .sort((a, b) => +a - +b);
  assert.deepEqual(
    lines,
    Array.from({ length: 20 }, (_, i) => String(i)),
  );
});

test('if the agent dies before the line fires, no waiting run starts and no process is left', async () => {
  const markers = join(dir, 'after-death');
  // A stand-in agent: prepares three runs on a line, prints their pids, then is killed -9.
  const script = `
    const { prepareRun } = require(${JSON.stringify(require.resolve('../../agent/runner/exec'))});
    const { StartLine } = require(${JSON.stringify(require.resolve('../../agent/runner/start-line'))});
    const line = new StartLine(${JSON.stringify(dir)});
    const runs = [0, 1, 2].map((i) => prepareRun({ runId: 'r' + i, command: 'touch ${markers}-' + i, env: {},
      killGraceMs: 100, logFile: ${JSON.stringify(join(dir, 'x.log'))}, logFileCapBytes: 1000, tailBytes: 10, startLine: line }));
    setTimeout(() => console.log(JSON.stringify(runs.map((r) => r.pid))), 200);
    setInterval(() => {}, 1000);
  `;
  const agent = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const pids = await new Promise<number[]>((resolve) =>
    agent.stdout.once('data', (d) => resolve(JSON.parse(String(d)))),
  );
  assert.equal(pids.length, 3);
  assert.ok(
    pids.every((p) => processRunning(p)),
    'the runs wait at the line',
  );
  agent.kill('SIGKILL');
  for (let i = 0; i < 50 && pids.some((p) => processRunning(p)); i++) await sleep(100);
  assert.ok(
    pids.every((p) => !processRunning(p)),
    'every waiting process exited',
  );
  for (const i of [0, 1, 2]) assert.equal(existsSync(`${markers}-${i}`), false, `run ${i} must not have run`);
});

test(
  'a run-as user released by a line in a private (0700) directory runs: the line is a descriptor, not a path',
  { skip: process.getuid?.() !== 0 && 'needs root' },
  async () => {
    const privateDir = join(dir, 'private');
    mkdirSync(privateDir, { mode: 0o700 });
    chmodSync(privateDir, 0o700);
    const line = new StartLine(privateDir);
    const runs = [0, 1, 2].map((i) => prepareRun(spec(`echo ran-$(id -un)-${i}`, line, 'nobody')));
    await sleep(200);
    for (const r of runs) r.release();
    line.fire();
    const outcomes = await Promise.all(runs.map((r) => r.done));
    assert.deepEqual(
      outcomes.map((o) => [o.status, o.exitCode, o.tail.trim()]),
      [0, 1, 2].map((i) => ['succeeded', 0, `ran-nobody-${i}`]),
    );
  },
);
