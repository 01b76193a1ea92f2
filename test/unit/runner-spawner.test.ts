// The spawner (runner/spawner.ts): runs are forked by it, not by the agent; nothing of the agent's
// environment reaches it; a kill -9 of it alone ends the runs it held with a record saying why,
// never silently and never twice, and a new one takes over; a kill -9 of the agent (or of its
// process group) leaves none of its processes behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { prepareRun, runNow } from '../../agent/runner/exec';
import { StartLine } from '../../agent/runner/start-line';
import { processRunning } from '../../agent/runner/procgroup';
import { spawnerPid, startSpawner, stopSpawner, whenSpawnerReady } from '../../agent/runner/spawner';
import { runnerFixture } from './runner-fixture';

const { dir, spec } = runnerFixture('spawner');

function parentOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 100 && processRunning(pid); i++) await sleep(20);
  return !processRunning(pid);
}

async function fileText(path: string): Promise<string> {
  for (let i = 0; i < 250 && !existsSync(path); i++) await sleep(20);
  return readFileSync(path, 'utf8').trim();
}

test('runs are forked by the spawner, which holds none of the agent’s environment', async () => {
  process.env.PC_TEST_AGENT_SECRET = 'agent-only-s3cret';
  assert.equal(startSpawner(), true);
  assert.equal(await whenSpawnerReady(), true);
  const spawner = spawnerPid()!;
  const environ = readFileSync(`/proc/${spawner}/environ`, 'utf8');
  assert.doesNotMatch(environ, /s3cret/);
  const run = prepareRun(
    spec('echo "ppid=$PPID token=$JOB_TOKEN"; env; echo to-stderr >&2; exit 7', {
      env: { JOB_TOKEN: 'job-t0ken\nwith a newline' },
    }),
  );
  for (let i = 0; i < 100 && run.pid === undefined; i++) await sleep(10);
  assert.equal(parentOf(run.pid!), spawner, 'the waiting shell is the spawner’s child');
  // The job's env travels through the pipe: not on any command line.
  assert.doesNotMatch(readFileSync(`/proc/${spawner}/cmdline`, 'utf8'), /t0ken/);
  assert.doesNotMatch(readFileSync(`/proc/${run.pid}/cmdline`, 'utf8'), /t0ken/);
  run.release();
  const o = await run.done;
  assert.equal(o.status, 'failed');
  assert.equal(o.exitCode, 7);
  assert.match(o.tail, /token=job-t0ken\nwith a newline/);
  assert.match(o.tail, /to-stderr/);
  assert.doesNotMatch(o.tail, /s3cret/);
  delete process.env.PC_TEST_AGENT_SECRET;
});

test('a run killed by a signal reports the signal; a bad workdir says what to fix', async () => {
  assert.equal(startSpawner(), true);
  assert.equal(await whenSpawnerReady(), true);
  const killed = await runNow(spec('kill -USR1 $$')).done;
  assert.equal(killed.signal, 'SIGUSR1');
  assert.equal(killed.status, 'failed');
  const bad = await runNow(spec('true', { workdir: join(dir, 'missing') })).done;
  assert.equal(bad.status, 'failed');
  assert.match(bad.error!, /working directory .*missing does not exist/);
});

test('kill -9 of the spawner: its started and waiting runs are recorded as killed with it, nothing runs twice, a new spawner takes over', async () => {
  assert.equal(startSpawner(), true);
  assert.equal(await whenSpawnerReady(), true);
  const old = spawnerPid()!;
  const pidFile = join(dir, 'started.pid');
  const ran = join(dir, 'waiting-ran');
  const started = runNow(spec(`sleep 30 & echo $! > ${pidFile}; sleep 30`));
  const line = new StartLine(dir);
  assert.ok(line.remote, 'the line is held by the spawner');
  const waiting = prepareRun(spec(`touch ${ran}`, { startLine: line }));
  const bg = Number(await fileText(pidFile));
  const main = started.pid!;
  process.kill(old, 'SIGKILL');
  const [a, b] = await Promise.all([started.done, waiting.done]);
  assert.equal(a.status, 'failed');
  assert.ok(a.startedAt > 0);
  assert.equal(a.signal, 'SIGKILL');
  assert.match(a.error!, /killed: the agent's spawner process ended \(signal SIGKILL\)/);
  assert.equal(b.status, 'failed');
  assert.equal(b.startedAt, 0);
  assert.match(b.error!, /spawner process ended .* before its time; the command never ran/);
  assert.equal(await gone(main), true, 'the run’s process died with the spawner');
  assert.equal(await gone(bg), true, 'its background child too (the group is killed)');
  // The line can no longer be joined or fired into a run: the waiting run was never released.
  waiting.release();
  line.fire();
  await sleep(200);
  assert.equal(existsSync(ran), false, 'the waiting run never ran');
  // A new spawner: the next run goes through it.
  for (let i = 0; i < 100 && (spawnerPid() === undefined || spawnerPid() === old); i++) await sleep(20);
  const next = spawnerPid();
  assert.ok(next !== undefined && next !== old, 'a new spawner was started');
  const after = prepareRun(spec('echo after'));
  for (let i = 0; i < 100 && after.pid === undefined; i++) await sleep(10);
  assert.equal(parentOf(after.pid!), next);
  after.release();
  const o = await after.done;
  assert.equal(o.status, 'succeeded');
  assert.equal(o.tail, 'after\n');
});

test('a run cancelled the moment it is forked (before its setsid) never runs', async () => {
  assert.equal(startSpawner(), true);
  assert.equal(await whenSpawnerReady(), true);
  const ran = join(dir, 'cancelled-ran');
  for (let round = 0; round < 20; round++) {
    const line = new StartLine(dir);
    const released = prepareRun(spec('true', { startLine: line }));
    const cancelled = Array.from({ length: 5 }, () => prepareRun(spec(`touch ${ran}`, { startLine: line })));
    // The kill follows the spawn in the same write: the child has most likely not reached its setsid.
    for (const c of cancelled) c.cancel();
    released.release();
    line.fire();
    const outcomes = await Promise.all(cancelled.map((c) => c.done));
    assert.equal((await released.done).status, 'succeeded');
    for (const o of outcomes) assert.equal(o.startedAt, 0);
  }
  await sleep(200);
  assert.equal(existsSync(ran), false, 'no cancelled run ran');
});

// A stand-in agent: reaper and spawner as in agent.ts, one run released (with a background
// child), one waiting on a line; prints the pids, then waits to be killed.
function standIn(marker: string, detached: boolean) {
  const req = (m: string) => JSON.stringify(require.resolve(`../../agent/runner/${m}`));
  const script = `
    const { prepareRun, runNow } = require(${req('exec')});
    const { StartLine } = require(${req('start-line')});
    const { startReaper } = require(${req('reaper')});
    const { startSpawner, spawnerPid, whenSpawnerReady } = require(${req('spawner')});
    startReaper();
    startSpawner();
    whenSpawnerReady().then(() => {
    const base = { env: {}, killGraceMs: 100, logFile: ${JSON.stringify(join(dir, 'x.log'))}, logFileCapBytes: 1000, tailBytes: 10 };
    const running = runNow({ ...base, runId: 'a', command: 'sleep 30 & echo $! > ${marker}.bg; sleep 30' });
    const line = new StartLine(${JSON.stringify(dir)});
    const waiting = prepareRun({ ...base, runId: 'b', command: 'touch ${marker}.ran', startLine: line });
    setTimeout(() => console.log(JSON.stringify([spawnerPid(), running.pid, waiting.pid])), 500);
    });
    setInterval(() => {}, 1000);
  `;
  return spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'], detached });
}

for (const how of ['the agent', "the agent's process group"]) {
  test(`kill -9 of ${how}: the spawner and every run are gone, the waiting run never starts`, async () => {
    const marker = join(dir, how.length > 10 ? 'group' : 'agent');
    const agent = standIn(marker, true);
    const pids = await new Promise<number[]>((resolve) =>
      agent.stdout.once('data', (d) => resolve(JSON.parse(String(d)))),
    );
    assert.equal(pids.length, 3);
    assert.ok(
      pids.every((p) => processRunning(p)),
      'spawner and runs are up',
    );
    const bg = Number(await fileText(`${marker}.bg`));
    if (how === 'the agent') agent.kill('SIGKILL');
    else process.kill(-agent.pid!, 'SIGKILL');
    for (const p of [...pids, bg]) assert.equal(await gone(p), true, `process ${p} is gone`);
    assert.equal(existsSync(`${marker}.ran`), false, 'the waiting run never ran');
  });
}

test('stopSpawner: runs are forked by the agent again', async () => {
  stopSpawner();
  const o = await runNow(spec('echo $PPID')).done;
  assert.equal(Number(o.tail.trim()), process.pid);
});
