// When the agent dies (kill -9), its runs die with it: nothing keeps running unseen.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runnerFixture } from './runner-fixture';
import { processRunning } from '../../agent/runner/procgroup';

const { dir } = runnerFixture('reaper');

test('kill -9 of the agent kills its running runs, background children included', async () => {
  const marker = join(dir, 'survived');
  const script = `
    const { runNow } = require(${JSON.stringify(require.resolve('../../agent/runner/exec'))});
    const { startReaper } = require(${JSON.stringify(require.resolve('../../agent/runner/reaper'))});
    startReaper();
    const mk = (cmd) => runNow({ runId: 'r', command: cmd, env: {}, killGraceMs: 100,
      logFile: ${JSON.stringify(join(dir, 'x.log'))}, logFileCapBytes: 1000, tailBytes: 10 });
    const a = mk('sleep 3 & echo $! > ${join(dir, 'bg.pid')}; sleep 3; touch ${marker}');
    const b = mk('sleep 30');
    const done = mk('true'); // ended before the kill: its group must not matter
    setTimeout(() => console.log(JSON.stringify([a.pid, b.pid])), 500);
    setInterval(() => {}, 1000);
  `;
  const agent = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const pids = await new Promise<number[]>((resolve) =>
    agent.stdout.once('data', (d) => resolve(JSON.parse(String(d)))),
  );
  assert.ok(
    pids.every((p) => processRunning(p)),
    'the runs are running',
  );
  agent.kill('SIGKILL');
  for (let i = 0; i < 50 && pids.some((p) => processRunning(p)); i++) await sleep(100);
  assert.ok(
    pids.every((p) => !processRunning(p)),
    'every run was killed with the agent',
  );
  await sleep(3500);
  assert.equal(existsSync(marker), false, 'the run never got to finish');
});
