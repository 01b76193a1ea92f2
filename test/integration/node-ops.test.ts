// Node operations: cordon, drain, and rebalancing when nodes join — without a
// scheduled time launched twice or lost, and without moving a job mid-run.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { TestCluster, waitFor, sleep } from '../harness/cluster';
import { checkLedger, ledgerCommand, readLaunches } from '../harness/ledger';

const tc = new TestCluster();
before(async () => {
  await tc.start();
  tc.startAgent('o1');
  await tc.ready(['o1']);
});
after(() => tc.stop());

async function owners(prefix: string): Promise<Map<string, string | null>> {
  const jobs = (await tc.store.listJobs()).filter((j) => j.spec.name.startsWith(prefix));
  return new Map(jobs.map((j) => [j.spec.name, j.owner]));
}

function countBy(m: Map<string, string | null>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const o of m.values()) out[o ?? '-'] = (out[o ?? '-'] ?? 0) + 1;
  return out;
}

test('jobs rebalance when nodes join, with no time launched twice', async () => {
  const yaml = ['a', 'b', 'c', 'd', 'e', 'f']
    .map(
      (s) =>
        `name: bal-${s}\nkind: cron\nschedule: "* * * * * *"\ncommand: ${JSON.stringify(ledgerCommand(tc.path(`bal-${s}.txt`)))}\n`,
    )
    .join('---\n');
  tc.apply(yaml);
  const start = Date.now();
  await waitFor('all six on o1', async () => countBy(await owners('bal-')).o1 === 6);
  tc.startAgent('o2');
  tc.startAgent('o3');
  await tc.ready(['o1', 'o2', 'o3']);
  await waitFor('two jobs per node', async () => {
    const c = countBy(await owners('bal-'));
    return c.o1 === 2 && c.o2 === 2 && c.o3 === 2;
  });
  await sleep(3000);
  for (const s of ['a', 'b', 'c', 'd', 'e', 'f']) {
    const report = await checkLedger(
      tc.store,
      `bal-${s}`,
      tc.path(`bal-${s}.txt`),
      start + 1000,
      Date.now() - 2000,
    );
    assert.deepEqual(report.duplicates, [], `bal-${s}: launched twice`);
    assert.deepEqual(report.unaccounted, [], `bal-${s}: neither launched nor recorded`);
  }
  for (const s of ['a', 'b', 'c', 'd', 'e', 'f']) await tc.store.removeJob(`bal-${s}`);
});

test('a cordoned node keeps its jobs and takes no new ones; uncordon lets it take them again', async () => {
  assert.equal(tc.cli(['node', 'cordon', 'o1']).status, 0);
  const yaml = ['a', 'b', 'c', 'd']
    .map((s) => `name: cord-${s}\nkind: cron\nschedule: "0 0 1 1 *"\ncommand: "true"\n`)
    .join('---\n');
  tc.apply(yaml);
  await waitFor(
    'the new jobs placed',
    async () => [...(await owners('cord-')).values()].every(Boolean) && (await owners('cord-')).size === 4,
  );
  assert.equal(countBy(await owners('cord-')).o1, undefined, 'nothing placed on the cordoned node');
  const nodes = JSON.parse(tc.cli(['nodes', '--json']).stdout) as { id: string; cordon: string | null }[];
  assert.equal(nodes.find((n) => n.id === 'o1')?.cordon, 'cordon');
  assert.equal(tc.cli(['node', 'uncordon', 'o1']).status, 0);
  await waitFor(
    'o1 takes jobs again after uncordon',
    async () => (countBy(await owners('cord-')).o1 ?? 0) >= 1,
  );
  const bad = tc.cli(['node', 'cordon', 'no-such-node']);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /no node named "no-such-node"/);
  for (const s of ['a', 'b', 'c', 'd']) await tc.store.removeJob(`cord-${s}`);
});

test('drain lets the running run finish, then moves the job; no time launched twice', async () => {
  tc.apply(
    `name: drain-long\nkind: cron\nschedule: "*/4 * * * * *"\ncommand: ${JSON.stringify(`${ledgerCommand(tc.path('drain-long.txt'))}; sleep 2.5`)}\n---\n` +
      `name: drain-tick\nkind: cron\nschedule: "* * * * * *"\ncommand: ${JSON.stringify(ledgerCommand(tc.path('drain-tick.txt')))}\n`,
  );
  const start = Date.now();
  const victim = await waitFor('drain-long running', async () => {
    const [latest] = await tc.store.listRuns('drain-long', 1);
    return latest?.status === 'running' ? latest.node : undefined;
  });
  const running = (await tc.store.listRuns('drain-long', 1))[0];
  assert.equal(tc.cli(['node', 'drain', victim]).status, 0);
  await waitFor('both jobs moved off the drained node', async () => {
    const o = await owners('drain-');
    return o.get('drain-long') !== victim && o.get('drain-tick') !== victim && [...o.values()].every(Boolean);
  });
  // The move is recorded with its reason, the drained node in the history.
  const moved = (await tc.store.getJob('drain-long')).assignment!;
  assert.match(moved.reason!, new RegExp(`node ${victim} is drained`));
  assert.equal(moved.history!.at(-1)!.node, victim);
  // The run in flight when the drain began finished where it was.
  const finished = await waitFor('the in-flight run to finish', async () => {
    const r = await tc.store.getRun(running.id);
    return r && r.status !== 'running' ? r : undefined;
  });
  assert.equal(finished.status, 'succeeded');
  assert.equal(finished.node, victim);
  await waitFor('drain-long launched elsewhere', () =>
    readLaunches(tc.path('drain-long.txt')).some(
      (l) => l.node !== victim && l.startedAt > Date.now() - 10_000,
    ),
  );
  await sleep(2000);
  for (const [job, step] of [
    ['drain-long', 4000],
    ['drain-tick', 1000],
  ] as const) {
    const report = await checkLedger(
      tc.store,
      job,
      tc.path(`${job}.txt`),
      start + step,
      Date.now() - 3000,
      step,
    );
    assert.deepEqual(report.duplicates, [], `${job}: launched twice`);
    assert.deepEqual(report.unaccounted, [], `${job}: neither launched nor recorded`);
  }
  assert.equal(tc.cli(['node', 'uncordon', victim]).status, 0);
});
