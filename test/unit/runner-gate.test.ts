import { test } from 'node:test';
import { runnerFixture } from './runner-fixture';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { prepareRun } from '../../agent/runner/exec';
import { processRunning } from '../../agent/runner/procgroup';

const { dir, spec } = runnerFixture('gate');

test('the command waits for release, then runs in the same pid', async () => {
  const marker = join(dir, 'ran-1');
  const run = prepareRun(spec(`echo $$ > ${marker}`));
  assert.ok(run.pid);
  await sleep(300);
  assert.equal(existsSync(marker), false);
  run.release();
  run.release(); // idempotent
  const o = await run.done;
  assert.equal(o.status, 'succeeded');
  assert.ok(o.startedAt > 0);
  assert.ok(existsSync(marker));
});

test('cancel: the command never runs, the waiting process is gone', async () => {
  const marker = join(dir, 'ran-2');
  const s = spec(`touch ${marker}`);
  const run = prepareRun(s);
  const pid = run.pid!;
  await sleep(100);
  run.cancel();
  const o = await run.done;
  assert.equal(o.status, 'killed');
  assert.equal(o.startedAt, 0);
  assert.match(o.error ?? '', /cancelled before start/);
  run.release(); // too late: nothing happens
  await sleep(200);
  assert.equal(existsSync(marker), false);
  assert.equal(processRunning(pid), false);
  // No log file for a run that never started.
  assert.equal(existsSync(s.logFile), false);
});

test('cancel right after prepare (same tick) never runs the command', async () => {
  const marker = join(dir, 'ran-3');
  const run = prepareRun(spec(`touch ${marker}`));
  run.cancel();
  const o = await run.done;
  assert.equal(o.status, 'killed');
  await sleep(100);
  assert.equal(existsSync(marker), false);
});

test(
  'cancel while the user lookup is pending: nothing is spawned',
  { skip: process.getuid?.() !== 0 },
  async () => {
    const marker = join(dir, 'ran-6');
    // First use of 'sys' in this process: the spawn waits for getent, so release() cannot open a gate yet.
    const run = prepareRun(spec(`touch ${marker}`, { user: 'sys' }));
    assert.equal(run.pid, undefined);
    run.release();
    run.cancel();
    const o = await run.done;
    assert.equal(o.status, 'killed');
    assert.equal(o.startedAt, 0);
    await sleep(200);
    assert.equal(run.pid, undefined);
    assert.equal(existsSync(marker), false);
  },
);

test('stop before release behaves like cancel', async () => {
  const marker = join(dir, 'ran-4');
  const run = prepareRun(spec(`touch ${marker}`));
  run.stop('shutdown');
  const o = await run.done;
  assert.equal(o.status, 'killed');
  assert.match(o.error ?? '', /shutdown/);
  assert.equal(existsSync(marker), false);
});

test('if the agent dies before release, the gate exits without running the command', async () => {
  const marker = join(dir, 'ran-5');
  const pidFile = join(dir, 'gate-pid');
  // A throwaway agent process prepares a run, reports the pid, and exits without releasing.
  const script = `
    const { prepareRun } = require(${JSON.stringify(join(__dirname, '../../agent/runner/exec'))});
    const r = prepareRun({ runId: 'x', command: 'touch ${marker}', env: {}, killGraceMs: 100,
      logFile: ${JSON.stringify(join(dir, 'x.log'))}, logFileCapBytes: 1000, tailBytes: 10 });
    require('fs').writeFileSync(${JSON.stringify(pidFile)}, String(r.pid));
    process.exit(0);
  `;
  await new Promise<void>((resolve, reject) => {
    const p = spawn(process.execPath, ['-e', script], { stdio: 'inherit' });
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`agent exited ${code}`))));
  });
  const { readFileSync } = await import('node:fs');
  const gatePid = Number(readFileSync(pidFile, 'utf8'));
  for (let i = 0; i < 50 && processRunning(gatePid); i++) await sleep(20);
  assert.equal(processRunning(gatePid), false);
  await sleep(100);
  assert.equal(existsSync(marker), false);
});

test('stop after release kills the command: status killed', async () => {
  const run = prepareRun(spec('trap "" TERM; sleep 30', { killGraceMs: 200 }));
  run.release();
  await sleep(100);
  run.stop('operator asked');
  const o = await run.done;
  assert.equal(o.status, 'killed');
  assert.equal(o.signal, 'SIGKILL');
  assert.match(o.error ?? '', /operator asked/);
});

test('cancel after release acts as stop', async () => {
  const run = prepareRun(spec('sleep 30'));
  run.release();
  await sleep(50);
  run.cancel();
  const o = await run.done;
  assert.equal(o.status, 'killed');
  assert.ok(o.startedAt > 0);
});

test('the command sees what `sh -c` would give it: no positional parameters, no gate variables', async () => {
  const run = prepareRun(spec('echo "[$#][$1][${_pc_go-unset}]"; exit 4'));
  run.release();
  const o = await run.done;
  assert.equal(o.tail, '[0][][unset]\n');
  assert.equal(o.exitCode, 4);
});

test('a run gets the niceness the agent had before raising its own priority', async (t) => {
  const { raiseAgentPriority } = await import('../../agent/runner/priority');
  const { getPriority } = await import('node:os');
  const before = getPriority();
  const raised = raiseAgentPriority(5);
  // Without a raise the run inherits our niceness whatever the runner does: nothing to check.
  if (!raised) return t.skip('raising the priority needs root (CAP_SYS_NICE): nothing to check here');
  if (raised.to === raised.from) return t.skip(`the agent already runs at the highest priority (${before})`);
  assert.equal(getPriority(), raised.to);
  const run = prepareRun(spec('nice'));
  run.release();
  const o = await run.done;
  // The run is back at the agent's original niceness, not the raised one it would inherit.
  assert.equal(o.tail.trim(), String(raised.from));
  assert.notEqual(o.tail.trim(), String(raised.to));
});
