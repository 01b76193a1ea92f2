// Loop and once jobs, manual runs, timeouts and the run's environment, on real agents.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { TestCluster, waitFor } from '../harness/cluster';
import { processRunning } from '../../agent/runner/procgroup';

const tc = new TestCluster();
before(async () => {
  await tc.start();
  for (const id of ['k1', 'k2']) tc.startAgent(id);
  await tc.ready(['k1', 'k2']);
});
after(() => tc.stop());

const lines = (name: string) =>
  existsSync(tc.path(name)) ? readFileSync(tc.path(name), 'utf8').split('\n').filter(Boolean) : [];

test('a loop job with times: 3 runs exactly three times, one after another', async () => {
  const file = tc.path('loop3.txt');
  tc.apply(
    `name: loop3\nkind: loop\ntimes: 3\ndelay: 200ms\ncommand: echo "$PEPPERCORN_RUN_ID" >> ${file}; sleep 0.2\n`,
  );
  await waitFor('three loop runs recorded', async () => {
    const runs = await tc.store.listRuns('loop3', 10);
    return runs.filter((r) => r.status === 'succeeded').length === 3;
  });
  const runs = await tc.store.listRuns('loop3', 10);
  assert.equal(runs.length, 3);
  assert.equal(new Set(lines('loop3.txt')).size, 3);
  // Sequential: each run starts after the previous one ended.
  const sorted = runs.sort((a, b) => a.scheduledAt - b.scheduledAt);
  for (let i = 1; i < sorted.length; i++)
    assert.ok(sorted[i].startedAt! >= sorted[i - 1].endedAt!, 'loop runs overlapped');
});

test('a forever loop is supervised: when its node dies it continues elsewhere', async () => {
  const file = tc.path('forever.txt');
  tc.apply(
    `name: forever\nkind: loop\ndelay: 100ms\ncommand: echo "$PEPPERCORN_NODE" >> ${file}; sleep 0.3\n`,
  );
  await waitFor('the loop running', () => lines('forever.txt').length >= 2);
  const owner = (await tc.owner('forever'))!;
  tc.agents.get(owner)!.kill9();
  await waitFor(
    'the loop running on the survivor',
    () =>
      lines('forever.txt')
        .slice(-2)
        .every((n) => n !== owner) && lines('forever.txt').length > 3,
  );
  tc.startAgent(owner);
  await tc.ready(['k1', 'k2']);
  await tc.store.removeJob('forever');
});

test('a once job with `at` runs once at that time; without `at` only when triggered', async () => {
  const at = new Date(Math.ceil((Date.now() + 2500) / 1000) * 1000).toISOString();
  // Applied in this process: a CLI that starts slowly on a busy machine could store the job
  // after `at`, and a time before the job existed is not the job's to run.
  await tc.applyNow(
    `name: once-at\nkind: once\nat: ${at}\ncommand: echo "$PEPPERCORN_SCHEDULED_AT" >> ${tc.path('once-at.txt')}\n---\nname: once-manual\nkind: once\ncommand: echo "$PEPPERCORN_RUN_ID $PEPPERCORN_ATTEMPT" >> ${tc.path('once-manual.txt')}\n`,
  );
  await waitFor('the once job to run', () => lines('once-at.txt').length === 1);
  assert.deepEqual(lines('once-at.txt'), [at]);
  assert.deepEqual(lines('once-manual.txt'), [], 'a once job without `at` must not run by itself');
  const r = tc.cli(['job', 'run', 'once-manual']);
  assert.equal(r.status, 0, r.stderr);
  const runId = r.stdout.trim();
  await waitFor(
    'the triggered run to succeed',
    async () => (await tc.store.getRun(runId))?.status === 'succeeded',
  );
  assert.deepEqual(lines('once-manual.txt'), [`${runId} 1`], 'the command sees its own run id and attempt');
  const runs = await tc.store.listRuns('once-at', 10);
  assert.equal(runs.length, 1);
  assert.equal(runs[0].status, 'succeeded');
});

test('a timeout kills the whole process group, even a command that ignores SIGTERM', async () => {
  const pidFile = tc.path('bg.pid');
  tc.apply(
    `name: slow\nkind: once\ntimeout: 1s\ncommand: trap "" TERM; sleep 60 & echo $! > ${pidFile}; sleep 60\n`,
  );
  const id = tc.cli(['job', 'run', 'slow']).stdout.trim();
  const run = await waitFor(
    'the run to time out',
    async () => {
      const r = await tc.store.getRun(id);
      return r && r.status !== 'running' ? r : undefined;
    },
    60_000,
  );
  assert.equal(run.status, 'timeout');
  const bg = Number(readFileSync(pidFile, 'utf8'));
  await waitFor('the background child to be gone', () => !processRunning(bg));
});

test('run records carry exit codes, output tails and the job environment', async () => {
  tc.apply(
    `name: env-check\nkind: once\nenv:\n  GREETING: hello\ncommand: echo "$GREETING from $PEPPERCORN_JOB"; exit 3\n`,
  );
  const id = tc.cli(['job', 'run', 'env-check']).stdout.trim();
  const run = await waitFor('the run to end', async () => {
    const r = await tc.store.getRun(id);
    return r && r.status !== 'running' ? r : undefined;
  });
  assert.equal(run.status, 'failed');
  assert.equal(run.exitCode, 3);
  assert.equal(run.tail, 'hello from env-check\n');
  const logs = tc.cli(['logs', id]);
  assert.equal(logs.stdout, 'hello from env-check\n');
  const json = JSON.parse(tc.cli(['runs', 'env-check', '--json']).stdout);
  assert.equal(json[0].id, id);
  assert.equal(json[0].exitCode, 3);
});

test('logs --follow streams a running job’s output and ends with the run', async () => {
  tc.apply(`name: chatty\nkind: once\ncommand: for i in 1 2 3 4 5; do echo line $i; sleep 0.3; done\n`);
  const id = tc.cli(['job', 'run', 'chatty']).stdout.trim();
  await waitFor('the run to start', async () => (await tc.store.getRun(id)) !== null);
  const r = tc.cli(['logs', id, '--follow']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'line 1\nline 2\nline 3\nline 4\nline 5\n');
  assert.match(r.stderr, /succeeded/);
});

test('paused jobs do not run; resuming records the paused times as skipped', async () => {
  tc.apply(
    `name: pausable\nkind: cron\nschedule: "@every 1s"\npaused: true\ncommand: echo x >> ${tc.path('pausable.txt')}\n`,
  );
  await new Promise((r) => setTimeout(r, 2500));
  assert.deepEqual(lines('pausable.txt'), []);
  assert.equal(tc.cli(['job', 'resume', 'pausable']).status, 0);
  await waitFor('runs after resume', () => lines('pausable.txt').length >= 2);
  const skipped = (await tc.store.listRuns('pausable', 50)).filter((r) => r.status === 'skipped');
  assert.equal(skipped.length, 1);
  assert.match(skipped[0].reason!, /paused/);
  assert.ok(skipped[0].count! >= 2);
});

test('a job that floods output: the node keeps a capped file, etcd gets a capped copy, the record counts it all', async () => {
  tc.apply(
    `name: flood\nkind: once\ncommand: head -c 30000000 /dev/zero | tr '\\\\0' x; echo; echo tail-marker\n`,
  );
  const id = tc.cli(['job', 'run', 'flood']).stdout.trim();
  const run = await waitFor(
    'the flood to end',
    async () => {
      const r = await tc.store.getRun(id);
      return r && r.status !== 'running' ? r : undefined;
    },
    60_000,
  );
  assert.equal(run.status, 'succeeded');
  assert.equal(run.outputBytes, 30_000_000 + 1 + 'tail-marker\n'.length);
  assert.ok(run.tail!.endsWith('tail-marker\n'));
  const { chunks } = await tc.store.readLogs(id);
  const shipped = chunks.reduce((n, c) => n + c.data.length, 0);
  assert.ok(shipped <= (1 << 20) + 200, `shipped ${shipped} bytes into etcd`);
  assert.match(
    chunks[chunks.length - 1].data.toString(),
    /output beyond \d+ bytes is in the node's log file/,
  );
  for (const a of tc.agents.values()) assert.ok(a.alive);
});

test('job get prints YAML that applies back unchanged', () => {
  tc.apply(
    `name: roundtrip\nkind: cron\nschedule: "H 3 * * 1-5"\ntimezone: America/New_York\nenv:\n  A: "1"\nselector:\n  zone: a\ntimeout: 90s\ncommand: echo hi\n`,
  );
  const got = tc.cli(['job', 'get', 'roundtrip']);
  assert.equal(got.status, 0, got.stderr);
  const again = tc.cli(['job', 'apply', '-f', '-'], got.stdout);
  assert.equal(again.stdout.trim(), 'job/roundtrip unchanged');
});
