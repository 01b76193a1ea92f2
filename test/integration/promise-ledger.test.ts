// Issue 8, bugs 2-4: the claim ledger across a job's life. Pruning must never delete
// a `running` record (bug 2); every outcome releases the run's slots, even when the
// job was removed meanwhile (bug 3); a job removed and re-created just before T must
// not launch T twice (bug 4). Oracle: the commands' own lines and etcd.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { processRunning } from '../../agent/runner/procgroup';
import { TestCluster, waitFor, sleep } from '../harness/cluster';
import { spanCommand, readSpans, launchedTwice, describeSpan } from '../harness/spans';
import { keys } from '../../agent/core/keys';

const tc = new TestCluster();
const NODES = ['l1', 'l2'];
before(async () => {
  await tc.start();
  for (const id of NODES) tc.startAgent(id, ['--keep-runs', '3']);
  await tc.ready(NODES);
});
after(() => tc.stop());

test('pruning with --keep-runs 3 keeps the record of a long run in flight, and its outcome', async () => {
  const file = tc.path('prune.txt');
  const lock = tc.path('prune.lock');
  // The first run to take the lock lasts 15 s; every other run ends at once and prunes.
  const cmd = `if mkdir ${lock} 2>/dev/null; then ${spanCommand(file, 15)}; else ${spanCommand(file, 0)}; fi`;
  tc.apply(
    `name: prune\nkind: cron\nschedule: "* * * * * *"\noverlap: allow\ncommand: ${JSON.stringify(cmd)}\n`,
  );
  const long = await waitFor('the long run to start', () => readSpans(file).find((s) => !s.ended), 30_000);
  await waitFor(
    'six short runs after it',
    () => readSpans(file).filter((s) => s.start > long.start && s.ended).length >= 6,
    30_000,
  );
  const problems: string[] = [];
  const during = await tc.store.getRun(long.runId);
  if (during?.status !== 'running')
    problems.push(`while ${long.runId} ran, its record was ${during ? during.status : 'deleted'}`);
  await waitFor('the long run to end', () => readSpans(file).find((s) => s.pid === long.pid)?.ended, 30_000);
  const active = keys.activeRun(long.node, long.runId);
  try {
    await waitFor(
      'its in-flight entry released',
      async () => !(await tc.cluster.ns.get(active).exists()),
      10_000,
    );
  } catch {
    problems.push(`${active} is still there after ${long.runId} ended`);
  }
  await tc.store.setPaused('prune', true);
  assert.deepEqual(problems, [], 'pruning lost a run in flight');
});

// `job rm` stops a single-copy run (a semaphore holder) on its node; however it ends, its
// slot must be released, or every job on that mutex stalls.
test('job rm of a mutex holder: the holder stops, the mutex is released, the siblings go on', async () => {
  const file = tc.path('mutex-rm.txt');
  tc.apply(
    [
      `name: rm-holder\nkind: once\nmutex: db-rm\ncommand: ${JSON.stringify(spanCommand(file, 3))}\n`,
      `name: rm-waiter\nkind: cron\nschedule: "*/2 * * * * *"\nmutex: db-rm\ncommand: ${JSON.stringify(spanCommand(file, 0))}\n`,
    ].join('---\n'),
  );
  await waitFor('rm-holder assigned', async () => (await tc.owner('rm-holder')) ?? undefined);
  await waitFor('rm-waiter ran', () => readSpans(file).some((s) => s.job === 'rm-waiter' && s.ended), 30_000);
  tc.cli(['job', 'run', 'rm-holder']);
  const holder = await waitFor('the holder started', () =>
    readSpans(file).find((s) => s.job === 'rm-holder'),
  );
  await tc.store.removeJob('rm-holder');
  await waitFor('the holder to end', () => !processRunning(holder.pid), 30_000);
  const ended = readSpans(file).find((s) => s.pid === holder.pid)!;
  try {
    await waitFor(
      'rm-waiter to run twice after the holder ended',
      () => readSpans(file).filter((s) => s.job === 'rm-waiter' && s.start > ended.lastSeen).length >= 2,
      20_000,
    );
  } finally {
    await tc.store.setPaused('rm-waiter', true);
  }
  const slots = await tc.cluster.ns.getAll().prefix(keys.semaphore('mutex.db-rm')).keys();
  assert.ok(slots.length <= 1, `slots of mutex db-rm: ${slots.join(', ')}`);
});

test('job rm and job apply of the same job just before T: T launches at most once', async () => {
  const file = tc.path('reapply.txt');
  const spec = `name: reapply\nkind: cron\nschedule: "* * * * * *"\ncommand: ${JSON.stringify(spanCommand(file, 0))}\n`;
  await tc.applyNow(spec);
  await waitFor('reapply ran', () => readSpans(file).some((s) => s.ended), 30_000);
  // Eight rounds, each ~250 ms before a whole second: the old incarnation has claimed T and
  // spawned its process (claims are made ~400 ms ahead); the new one must not claim T again.
  for (let round = 0; round < 8; round++) {
    // To a moment ~250 ms before a whole second (a position on the clock, not a condition).
    await sleep((1750 - (Date.now() % 1000)) % 1000);
    await tc.store.removeJob('reapply');
    await tc.applyNow(spec);
    const t = Math.ceil(Date.now() / 1000) * 1000;
    await waitFor('T to pass', () => Date.now() > t + 1500, 5000);
  }
  await tc.store.setPaused('reapply', true);
  const twice = launchedTwice(readSpans(file));
  assert.deepEqual(
    twice.map((d) => `${d.runId}: ${d.spans.map(describeSpan).join(' and ')}`),
    [],
    'a scheduled time was launched twice',
  );
});
