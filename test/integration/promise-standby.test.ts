// Issue 13, failover without waiting for the lease: each eligible job has a standby node
// that claims a time its owner left unclaimed a moment after it was due. After kill -9 of
// the owner, every following time launches (on the standby, saying why) instead of being
// recorded as skipped while the dead owner's lease runs out, and none launches twice.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { TestCluster, waitFor } from '../harness/cluster';
import { ledgerCommand, checkLedger, readLaunches } from '../harness/ledger';
import { keys } from '../../agent/core/keys';
import type { Assignment } from '../../agent/core/records';

const tc = new TestCluster();
const NODES = ['s1', 's2', 's3'];
before(async () => {
  await tc.start();
  for (const id of NODES) tc.startAgent(id);
  await tc.ready(NODES);
});
after(() => tc.stop());

async function assignment(job: string): Promise<Assignment | undefined> {
  const raw = await tc.cluster.ns.get(keys.assignment(job)).string();
  return raw ? (JSON.parse(raw) as Assignment) : undefined;
}

test('kill -9 of an owner: its standby launches every following time; none skipped, none twice', async () => {
  const file = tc.path('sb.txt');
  tc.apply(
    `name: sb\nkind: cron\nschedule: "* * * * * *"\ncommand: ${JSON.stringify(ledgerCommand(file))}\n`,
  );
  const start = Date.now();
  await waitFor('3 launches', () => readLaunches(file).filter((l) => l.startedAt > start).length >= 3);
  const a = await waitFor('an owner and a standby', async () => {
    const a = await assignment('sb');
    return a?.standby ? a : undefined;
  });
  assert.notEqual(a.standby!.node, a.node);
  tc.agents.get(a.node)!.kill9();
  const killedAt = Date.now();
  // The dead owner's lease (3 s here) runs out and the leader moves the job.
  await waitFor('the job to move off the dead owner', async () => {
    const now = await assignment('sb');
    return now && now.node !== a.node;
  });
  const movedAt = Date.now();
  await waitFor(
    '2 launches after the move',
    () => readLaunches(file).filter((l) => l.startedAt > movedAt && l.node !== a.node).length >= 2,
  );
  const report = await checkLedger(tc.store, 'sb', file, start + 1000, Date.now() - 2000);
  assert.deepEqual(report.duplicates, [], 'scheduled times launched twice');
  assert.deepEqual(report.unaccounted, [], 'scheduled times neither launched nor recorded');
  const runs = await tc.store.listRuns('sb', 1000);
  const skipped = runs.filter((r) => r.status === 'skipped' && (r.until ?? r.scheduledAt) > killedAt + 1000);
  assert.deepEqual(
    skipped.map((r) => `${r.id}: ${r.reason}`),
    [],
    'times after the kill were skipped instead of launched by the standby',
  );
  const byStandby = runs.filter((r) => r.node === a.standby!.node && /standing by for/.test(r.reason ?? ''));
  assert.ok(byStandby.length >= 1, 'the standby launched the times the dead owner left, and said why');
});
