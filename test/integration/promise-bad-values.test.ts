// Issue 8, also found: a job spec that decodes but lacks optional fields (written by
// hand or by another tool straight into etcd) made the leader's reconcile throw on
// every pass, so one value stopped assignment for the whole cluster. Each value below
// decodes (name, kind and command are there); after writing it raw into etcd, a new
// job must still be assigned and launched.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { TestCluster, waitFor } from '../harness/cluster';
import { ledgerCommand, readLaunches } from '../harness/ledger';
import { keys } from '../../agent/core/keys';
import { parseJobFile } from '../../agent/core/job/files';

const tc = new TestCluster();
const NODES = ['b1', 'b2'];
before(async () => {
  await tc.start();
  for (const id of NODES) tc.startAgent(id);
  await tc.ready(NODES);
});
after(() => tc.stop());

const base = { kind: 'cron', schedule: '* * * * * *', command: 'true' };
/** Values missing optional fields, or holding them in another shape than the code relies on. */
const RAW: Record<string, Record<string, unknown>> = {
  minimal: { ...base },
  'selector-null': { ...base, selector: null },
  'selector-string': { ...base, selector: 'zone=eu' },
  'env-null': { ...base, env: null },
  'after-object': { kind: 'once', command: 'true', after: { job: 'minimal' } },
  'after-strings': { kind: 'once', command: 'true', after: ['minimal'] },
  'alerts-number': { ...base, alerts: 5 },
  'retries-string': { ...base, retries: 'three' },
  'mutex-number': { ...base, mutex: 7 },
  'resources-list': { ...base, resources: ['db'] },
  'loop-no-times': { kind: 'loop', command: 'true' },
  'no-schedule': { kind: 'cron', command: 'true' },
  'paused-string': { ...base, paused: 'yes' },
  'timezone-bad': { ...base, timezone: 'Mars/Olympus' },
};

test('raw job values without (or with odd) optional fields never stop the cluster taking and assigning jobs', async () => {
  const file = tc.path('canary.txt');
  const stuck: string[] = [];
  for (const [name, value] of Object.entries(RAW)) {
    const raw = `raw-${name}`;
    await tc.cluster.ns
      .put(keys.job(raw))
      .value(JSON.stringify({ name: raw, ...value }))
      .exec();
    const canary = `after-${name}`;
    const spec = `name: ${canary}\nkind: cron\nschedule: "* * * * * *"\ncommand: ${JSON.stringify(ledgerCommand(file))}\n`;
    const applied = tc.cli(['job', 'apply', '-f', '-'], spec);
    if (applied.status !== 0) {
      stuck.push(
        `after writing ${JSON.stringify(value)} raw at jobs/${raw}, job apply failed: ${applied.stderr.trim()}`,
      );
      // Stored raw, as the apply would have: the leader must still assign it.
      const parsed = parseJobFile(spec, canary);
      if (!parsed.ok) throw new Error(`bad canary spec: ${JSON.stringify(parsed.problems)}`);
      await tc.cluster.ns.put(keys.job(canary)).value(JSON.stringify(parsed.jobs[0])).exec();
    }
    try {
      await waitFor(
        `${canary} assigned and launched`,
        async () =>
          (await tc.owner(canary)) && readLaunches(file).some((l) => l.runId.startsWith(`${canary}.`)),
        15_000,
      );
    } catch {
      stuck.push(
        `after writing ${JSON.stringify(value)} raw at jobs/${raw}, job ${canary} was never launched`,
      );
    }
    await tc.store.setPaused(canary, true);
    await tc.cluster.ns.delete().key(keys.job(raw)).exec(); // each value judged on its own
  }
  assert.deepEqual(stuck, [], 'a raw job value stopped the cluster');
});
