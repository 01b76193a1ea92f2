import { test } from 'node:test';
import { runnerFixture } from './runner-fixture';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runNow } from '../../agent/runner/exec';
import { processRunning } from '../../agent/runner/procgroup';

const { dir, spec } = runnerFixture('kill');

async function gone(pid: number): Promise<boolean> {
  // SIGKILL delivery is asynchronous; allow a moment before the process is dead (or a zombie of init).
  for (let i = 0; i < 50 && processRunning(pid); i++) await sleep(20);
  return !processRunning(pid);
}

test('timeout: a command ignoring SIGTERM still ends, status timeout', { timeout: 10_000 }, async () => {
  const o = await runNow(spec('trap "" TERM; sleep 30', { timeoutMs: 300, killGraceMs: 300 })).done;
  assert.equal(o.status, 'timeout');
  assert.match(o.error ?? '', /timed out/);
});

test('timeout kills the whole process group, background jobs included', { timeout: 10_000 }, async () => {
  const pidFile = join(dir, 'bg-1');
  const o = await runNow(spec(`sleep 30 & echo $! > ${pidFile}; sleep 30`, { timeoutMs: 300 })).done;
  assert.equal(o.status, 'timeout');
  assert.equal(await gone(Number(readFileSync(pidFile, 'utf8'))), true);
});

test('a background job left behind is killed when the main process exits', { timeout: 5_000 }, async () => {
  const pidFile = join(dir, 'bg-2');
  const o = await runNow(spec(`sleep 30 & echo $! > ${pidFile}; exit 0`)).done;
  assert.equal(o.status, 'succeeded');
  assert.equal(await gone(Number(readFileSync(pidFile, 'utf8'))), true);
});

test('plain `sleep 30 &` finishes promptly', { timeout: 5_000 }, async () => {
  const t0 = Date.now();
  const o = await runNow(spec('sleep 30 & exit 0')).done;
  assert.equal(o.status, 'succeeded');
  assert.ok(Date.now() - t0 < 2_000);
});

test(
  'a grandchild in its own session holding the pipes does not hang the run',
  { timeout: 5_000 },
  async () => {
    const pidFile = join(dir, 'bg-3');
    const o = await runNow(spec(`setsid sh -c 'echo $$ > ${pidFile}; exec sleep 3' & sleep 0.2; echo done`))
      .done;
    assert.equal(o.status, 'succeeded');
    assert.match(o.tail, /done/);
    // Escaped our group (setsid): clean up ourselves.
    try {
      process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGKILL');
    } catch {
      // already gone
    }
  },
);
