// Rolling upgrades: a record written in a newer format (by a newer agent) is left alone by
// this one, which says so in its log and with one alert; everything else goes on.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { TestCluster, waitFor } from '../harness/cluster';
import { keys } from '../../agent/core/keys';
import { listAlerts } from '../../agent/api/alert-store';

const tc = new TestCluster();
before(async () => {
  await tc.start();
  tc.startAgent('u1');
  await tc.ready(['u1']);
});
after(() => tc.stop());

test('a job in a newer format is not run nor rewritten; the agent logs it and raises one alert', async () => {
  const future = JSON.stringify({
    v: 2,
    name: 'from-the-future',
    kind: 'cron',
    schedule: '* * * * * *',
    command: `echo ran >> ${tc.path('future.out')}`,
    runsOn: { meaning: 'unknown to v1' },
  });
  await tc.cluster.ns.put(keys.job('from-the-future')).value(future);
  tc.apply(
    `name: today\nkind: cron\nschedule: "* * * * * *"\ncommand: "echo ok >> ${tc.path('today.out')}"\n`,
  );

  const alert = await waitFor('the newer-format alert', async () =>
    (await listAlerts(tc.cluster, { open: true }, () => undefined)).find((a) => a.rule === 'newer-format'),
  );
  assert.equal(alert.id, 'newer-format.u1.v2');
  assert.equal(alert.node, 'u1');
  assert.match(alert.summary, /format v2, newer than it reads \(first at jobs\/from-the-future\)/);
  await waitFor('the other job to run', () => {
    try {
      return readFileSync(tc.path('today.out'), 'utf8').includes('ok');
    } catch {
      return false;
    }
  });
  const agentLog = tc.agents.get('u1')!.log();
  const line = agentLog
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))
    .find((o) => /has format v2, newer than this agent understands/.test(o.msg));
  assert.equal(line?.level, 40, 'logged as a warning');
  // Left alone: not launched, and the value is byte for byte what the newer agent wrote.
  assert.equal(existsSync(tc.path('future.out')), false);
  const stored = await tc.cluster.ns.get(keys.job('from-the-future')).string();
  assert.equal(stored, future);
  // One alert per node and format, however often the record is met.
  const all = await listAlerts(tc.cluster, { open: true }, () => undefined);
  assert.equal(all.filter((a) => a.rule === 'newer-format').length, 1);
});
