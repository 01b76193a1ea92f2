// Months of operation must not fill etcd: run history is pruned per job.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { TestCluster, waitFor } from '../harness/cluster';

const tc = new TestCluster();
before(async () => {
  await tc.start();
  tc.startAgent('h1', ['--keep-runs', '5', '--history-window', '2s']);
  await tc.ready(['h1']);
});
after(() => tc.stop());

test('run history is bounded by --keep-runs', async () => {
  const applied = Date.now();
  tc.apply(`name: busy\nkind: cron\nschedule: "* * * * * *"\ncommand: "true"\n`);
  // keep-runs 5 prunes after every outcome; once 10 times have run, at most 5
  // records (plus the one whose pruning is under way) may remain.
  await waitFor('10 launches', async () => {
    const [newest] = await tc.store.listRuns('busy', 1);
    return newest && newest.status === 'succeeded' && newest.scheduledAt >= applied + 10_000;
  });
  const kept = await waitFor('the history pruned to 5 or 6', async () => {
    const runs = await tc.store.listRuns('busy', 100);
    return runs.length <= 6 ? runs : undefined;
  });
  assert.ok(kept.length >= 5, `only ${kept.length} runs kept`);
  assert.ok(kept[kept.length - 1].scheduledAt >= applied + 4000, 'the oldest runs are the ones removed');
});

test('the leader compacts etcd history older than --history-window', async () => {
  const before = await tc.cluster.ns.get('probe').exec();
  const oldRev = Number(before.header.revision);
  // Reading at an old revision works until the leader compacts past it.
  await tc.cluster.ns.get('probe').revision(oldRev).exec();
  await waitFor('etcd to report the old revision compacted', async () => {
    try {
      await tc.cluster.ns.get('probe').revision(oldRev).exec();
      return false;
    } catch (err) {
      return /compacted/.test(String(err));
    }
  });
  assert.match(tc.agents.get('h1')!.log(), /compacted etcd history up to revision \d+/);
});
