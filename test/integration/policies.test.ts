// Run policies on real agents: retries, overlap, misfire after a whole-cluster outage.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { TestCluster, waitFor, sleep } from '../harness/cluster';
import { checkLedger, ledgerCommand, readLaunches } from '../harness/ledger';

const tc = new TestCluster();
const NODES = ['p1', 'p2'];
const agentArgs = ['--misfire-threshold', '1s'];
before(async () => {
  await tc.start();
  for (const id of NODES) tc.startAgent(id, agentArgs);
  await tc.ready(NODES);
});
after(() => tc.stop());

const lines = (name: string) =>
  existsSync(tc.path(name)) ? readFileSync(tc.path(name), 'utf8').split('\n').filter(Boolean) : [];

test('retries make exactly count + 1 attempts, each its own run, even when the node dies between them', async () => {
  const file = tc.path('retry.txt');
  tc.apply(
    `name: flaky\nkind: once\nretries: { count: 2, backoff: 1s }\ncommand: echo "$PEPPERCORN_ATTEMPT $PEPPERCORN_NODE" >> ${file}; exit 1\n`,
  );
  const id = tc.cli(['job', 'run', 'flaky']).stdout.trim();
  await waitFor('the first attempt to fail', async () => (await tc.store.getRun(id))?.status === 'failed');
  // Kill the owner during the backoff: the retry is in etcd, another node takes it.
  const owner = (await tc.owner('flaky'))!;
  tc.agents.get(owner)!.kill9();
  const third = id.replace(/\.1$/, '.3');
  const last = await waitFor(
    'the third attempt to end',
    async () => {
      const r = await tc.store.getRun(third);
      return r && r.status !== 'running' ? r : undefined;
    },
    60_000,
  );
  assert.equal(last.status, 'failed');
  assert.doesNotMatch(last.reason ?? '', /retrying/, 'no retry after the last attempt');
  assert.deepEqual(await tc.store.pendingTriggers('flaky'), []);
  const attempts = lines('retry.txt').map((l) => l.split(' ')[0]);
  assert.deepEqual(attempts, ['1', '2', '3']);
  const runs = await tc.store.listRuns('flaky', 10);
  assert.deepEqual(runs.map((r) => [r.attempt, r.status]).sort(), [
    [1, 'failed'],
    [2, 'failed'],
    [3, 'failed'],
  ]);
  assert.match(runs.find((r) => r.attempt === 1)!.reason!, /retrying as flaky\.\d+\.2/);
  tc.startAgent(owner, agentArgs);
  await tc.ready(NODES);
});

test('overlap skip: a firing that meets its previous run still going is recorded, not launched', async () => {
  const file = tc.path('overlap-skip.txt');
  tc.apply(
    `name: overlap-skip\nkind: cron\nschedule: "* * * * * *"\ncommand: echo "$PEPPERCORN_SCHEDULED_AT $(date +%s%3N)" >> ${file}; sleep 2.2; date +%s%3N >> ${file}.end\n`,
  );
  await waitFor('four runs', () => lines('overlap-skip.txt').length >= 4, 60_000);
  await tc.store.setPaused('overlap-skip', true);
  await sleep(3000);
  const runs = (await tc.store.listRuns('overlap-skip', 100)).filter(
    (r) => r.status !== 'skipped' && r.startedAt,
  );
  runs.sort((a, b) => a.startedAt! - b.startedAt!);
  for (let i = 1; i < runs.length; i++)
    assert.ok(
      runs[i].startedAt! >= runs[i - 1].endedAt!,
      `${runs[i].id} started while ${runs[i - 1].id} ran`,
    );
  const skipped = (await tc.store.listRuns('overlap-skip', 100)).filter((r) => r.status === 'skipped');
  assert.ok(skipped.some((r) => /still running \(overlap: skip\)/.test(r.reason!)));
});

test('overlap replace: a new firing stops the run still going', async () => {
  const file = tc.path('replace.txt');
  tc.apply(
    `name: overlap-replace\nkind: cron\nschedule: "*/2 * * * * *"\noverlap: replace\ncommand: trap 'echo stopped >> ${file}; exit 0' TERM; sleep 30 & wait\n`,
  );
  await waitFor(
    'a run replaced by the next one',
    async () => {
      const runs = await tc.store.listRuns('overlap-replace', 10);
      return runs.some((r) =>
        /replaced by overlap-replace\.\d+\.1 \(overlap: replace\)/.test(r.reason ?? ''),
      );
    },
    60_000,
  );
  await tc.store.setPaused('overlap-replace', true);
  assert.ok(lines('replace.txt').includes('stopped'));
});

test('overlap queue: a firing waits for the run in flight, then runs', async () => {
  const file = tc.path('queue.txt');
  tc.apply(
    `name: overlap-queue\nkind: cron\nschedule: "*/2 * * * * *"\noverlap: queue\ncommand: echo "$PEPPERCORN_SCHEDULED_AT $(date +%s%3N)" >> ${file}; sleep 3\n`,
  );
  await waitFor(
    'three queued runs',
    async () => {
      const runs = await tc.store.listRuns('overlap-queue', 20);
      return runs.filter((r) => r.status === 'succeeded').length >= 3;
    },
    60_000,
  );
  await tc.store.setPaused('overlap-queue', true);
  const runs = (await tc.store.listRuns('overlap-queue', 20))
    .filter((r) => r.startedAt)
    .sort((a, b) => a.startedAt! - b.startedAt!);
  for (let i = 1; i < runs.length; i++) {
    if (!runs[i - 1].endedAt) continue;
    assert.ok(runs[i].startedAt! >= runs[i - 1].endedAt!, 'queued runs never overlap');
  }
  // Queued runs start late, right after the previous one: later than their time, not skipped.
  assert.ok(
    runs.slice(1).some((r) => r.startedAt! - r.scheduledAt > 500),
    'a queued run waited',
  );
});

test('after a whole-cluster outage each misfire policy produces exactly the runs it promises', async () => {
  // Every 5 s, so that when the cluster is back the latest missed time is seconds late
  // (a misfire, past the 1 s threshold), not merely late.
  const policies = { skip: 'skip', once: 'once', all: '{ policy: all, maxCatchUp: 2 }' } as const;
  tc.apply(
    Object.entries(policies)
      .map(
        ([p, spec]) =>
          `name: misfire-${p}\nkind: cron\nschedule: "*/5 * * * * *"\nmisfire: ${spec}\ncommand: ${JSON.stringify(ledgerCommand(tc.path(`misfire-${p}.txt`)))}\n`,
      )
      .join('---\n'),
  );
  const start = Date.now();
  await waitFor(
    'all three launched once',
    () => Object.keys(policies).every((p) => readLaunches(tc.path(`misfire-${p}.txt`)).length >= 1),
    60_000,
  );
  for (const id of NODES) tc.agents.get(id)!.kill9();
  const killedAt = Date.now();
  // Stay down over at least three firing times, and come back 1.5-2.5 s after one.
  await waitFor(
    'the restart moment',
    () => Date.now() - killedAt > 15_000 && Date.now() % 5000 >= 1500 && Date.now() % 5000 < 2500,
    30_000,
  );
  for (const id of NODES) tc.startAgent(id, agentArgs);
  await tc.ready(NODES);
  await sleep(6000);
  const catchUps: Record<string, number> = {};
  for (const p of Object.keys(policies)) {
    const file = tc.path(`misfire-${p}.txt`);
    const report = await checkLedger(tc.store, `misfire-${p}`, file, start, Date.now() - 2000, 5000);
    assert.deepEqual(report.duplicates, [], `${p}: launched twice`);
    assert.deepEqual(report.unaccounted, [], `${p}: neither launched nor recorded`);
    // A catch-up is a launch claimed well after its time (the misfire threshold is 1 s).
    const runs = await tc.store.listRuns(`misfire-${p}`, 100);
    catchUps[p] = runs.filter((r) => r.status !== 'skipped' && r.claimedAt - r.scheduledAt > 1000).length;
  }
  assert.deepEqual(catchUps, { skip: 0, once: 1, all: 2 });
});
