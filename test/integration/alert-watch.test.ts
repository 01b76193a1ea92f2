// The leader's alert judging on its own, against a real etcd: resolution by a later
// success (judged by revisions), a job failing on every run capped at 100 open alerts,
// resolved alerts pruned only once their notices are done. The fence here is "always
// leader": the election is tested with real agents in alerts.test.ts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { IOperation } from 'etcd3';
import { TestEtcd } from '../harness/etcd';
import { waitFor } from '../harness/cluster';
import { connect, type Cluster } from '../../agent/core/etcd';
import { keys } from '../../agent/core/keys';
import { PrefixMirror } from '../../agent/core/mirror';
import { newAlert } from '../../agent/core/alerting';
import { listAlerts } from '../../agent/api/alert-store';
import type { AlertRecord, DepRecord } from '../../agent/core/records';
import { AlertingView } from '../../agent/alert/config-view';
import { AlertWriter, type LeaderFence } from '../../agent/alert/writer';
import { AlertWatch, KEEP_RESOLVED_MS, MAX_OPEN_PER_JOB } from '../../agent/alert/watch';
import { AlertSender } from '../../agent/alert/sender';
import { WebhookReceiver } from '../harness/receivers';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const etcd = new TestEtcd();
let cluster: Cluster;
let watch: AlertWatch;
let sender: AlertSender;
let alerting: AlertingView;
const logs: string[] = [];
const mirrors: PrefixMirror[] = [];

before(async () => {
  await etcd.start();
  cluster = connect({ endpoints: [etcd.endpoint], prefix: '/pc-watch/' });
  const fence: LeaderFence = {
    isLeader: true,
    nodeId: 'test',
    async txn(ops: IOperation[], compares: [string, number][]) {
      let txn = cluster.ns.if(keys.leader, 'Create', '==', 0); // no leader key in this test: always true
      for (const [k, rev] of compares) txn = txn.and(k, 'Mod', '==', rev);
      return (await txn.then(...ops).commit()).succeeded;
    },
  };
  const m = (prefix: string) => {
    const mirror = new PrefixMirror(cluster.ns, prefix);
    mirrors.push(mirror);
    return mirror;
  };
  alerting = new AlertingView(m(keys.alerting), (msg) => logs.push(msg));
  const wm = {
    alerts: m(keys.alerts),
    completions: m(keys.completions),
    jobs: m(keys.jobs),
    nodes: m(keys.nodes),
    members: m(keys.members),
  };
  await Promise.all(mirrors.map((x) => x.start()));
  const writer = new AlertWriter(cluster, fence, () => undefined);
  watch = new AlertWatch(writer, wm, alerting, () => undefined);
  sender = new AlertSender(writer, wm.alerts, alerting, '/pc-watch/', () => undefined);
});
after(async () => {
  watch?.stop();
  sender?.stop();
  for (const x of mirrors) x.close();
  cluster?.close();
  await etcd.destroy();
});

const put = (key: string, value: unknown) => cluster.ns.put(key).value(JSON.stringify(value)).exec();
const job = (name: string) =>
  put(keys.job(name), { name, kind: 'cron', schedule: '0 0 1 1 *', command: 'true' });
const failure = (jobName: string, t: number): AlertRecord =>
  newAlert(
    {
      id: `${jobName}.${t}.1.failure`,
      rule: 'failure',
      job: jobName,
      run: `${jobName}.${t}.1`,
      summary: 'x',
    },
    ['ops'],
    true,
    t,
  );
const all = () => listAlerts(cluster, {}, () => undefined);

test('a success written after the alerts resolves them; one written before does not', async () => {
  await job('flaky');
  const done: DepRecord = {
    run: 'flaky.500.1',
    status: 'succeeded',
    endedAt: 500,
    failures: 0,
    lastSuccessAt: 500,
  };
  await put(keys.completion('flaky'), done); // before the alert: must not resolve it
  await put(keys.alert('flaky.1000.1.failure'), failure('flaky', 1000));
  watch.start();
  await new Promise((r) => setTimeout(r, 2500)); // two judgements
  assert.equal((await all()).find((a) => a.job === 'flaky')!.state, 'open');
  await put(keys.completion('flaky'), { ...done, run: 'flaky.2000.1', endedAt: 2000 });
  const resolved = await waitFor('the alert resolved', async () =>
    (await all()).find((a) => a.job === 'flaky' && a.state === 'resolved'),
  );
  assert.equal(resolved.resolution, 'flaky succeeded again: run flaky.2000.1');
  assert.deepEqual(Object.keys(resolved.deliveries).sort(), ['open:ops', 'resolved:ops']);
});

test(`a job failing on every run keeps at most ${MAX_OPEN_PER_JOB} open alerts; the oldest are superseded quietly`, async () => {
  await job('broken');
  const extra = 7;
  for (let i = 0; i < MAX_OPEN_PER_JOB + extra; i++)
    await put(keys.alert(`broken.${1000 + i}.1.failure`), failure('broken', 1000 + i));
  const mine = await waitFor('the oldest superseded', async () => {
    const a = (await all()).filter((x) => x.job === 'broken');
    return a.filter((x) => x.state === 'resolved').length === extra ? a : undefined;
  });
  const superseded = mine
    .filter((x) => x.state === 'resolved')
    .map((x) => x.id)
    .sort();
  assert.deepEqual(
    superseded,
    Array.from({ length: extra }, (_, i) => `broken.${1000 + i}.1.failure`).sort(),
  );
  for (const a of mine.filter((x) => x.state === 'resolved')) {
    assert.match(a.resolution!, /superseded/);
    assert.deepEqual(Object.keys(a.deliveries), ['open:ops'], 'no resolution notice for a superseded alert');
  }
  assert.equal(mine.filter((x) => x.state === 'open').length, MAX_OPEN_PER_JOB);
});

test('resolved alerts are pruned after the keep window, but not while a notice is still to be sent', async () => {
  await job('old');
  const old = Date.now() - KEEP_RESOLVED_MS - 60_000;
  const base = { ...failure('old', 1), state: 'resolved' as const, resolvedAt: old, resolution: 'long ago' };
  const sent = {
    channel: 'ops',
    event: 'open' as const,
    state: 'delivered' as const,
    attempts: 1,
    doneAt: old,
  };
  await put(keys.alert('old.1.1.failure'), { ...base, deliveries: { 'open:ops': sent } });
  await put(keys.alert('old.2.1.failure'), {
    ...base,
    id: 'old.2.1.failure',
    deliveries: { 'open:ops': { ...sent, state: 'pending', doneAt: undefined } },
  });
  await waitFor(
    'the delivered one pruned',
    async () => !(await all()).some((a) => a.id === 'old.1.1.failure'),
  );
  assert.ok(
    (await all()).some((a) => a.id === 'old.2.1.failure'),
    'an alert with a notice pending is kept',
  );
});

test('alerts of a removed job are resolved', async () => {
  await cluster.ns.delete().key(keys.job('broken')).exec();
  await waitFor('every open alert of the removed job resolved', async () =>
    (await all())
      .filter((a) => a.job === 'broken')
      .every((a) => a.state === 'resolved' && /was removed|superseded/.test(a.resolution!)),
  );
});

test('a member gone without leaving raises node-down once; forgetting it resolves the alert', async () => {
  await put(keys.alerting, {
    channels: {},
    cluster: { nodeDown: '1s' },
    delivery: { attempts: 3, backoff: '1s', timeout: '5s' },
  });
  const member = { id: 'ghost', hostname: 'h', pid: 1, labels: {}, capacity: 0, startedAt: 1, version: 'x' };
  await put(keys.member('ghost'), member);
  await put(keys.member('retired'), { ...member, id: 'retired', leftAt: 2 });
  const down = await waitFor('a node-down alert', async () =>
    (await all()).find((a) => a.rule === 'node-down'),
  );
  assert.equal(down.node, 'ghost', 'a node that left on purpose raises nothing');
  assert.match(down.id, /^node-down\.ghost\.\d+$/);
  await new Promise((r) => setTimeout(r, 2000));
  assert.equal((await all()).filter((a) => a.rule === 'node-down').length, 1, 'raised once');
  await cluster.ns.delete().key(keys.member('ghost')).exec();
  await waitFor('resolved as forgotten', async () =>
    (await all()).find((a) => a.id === down.id && a.state === 'resolved' && /forgotten/.test(a.resolution!)),
  );
});

test('a corrupt alerting config is reported once and the last good one stays in force', async () => {
  const good = alerting.current;
  assert.equal(good.cluster.nodeDown, '1s');
  await cluster.ns.put(keys.alerting).value('{"channels": {"x": {"type": "pager"}}}').exec();
  await waitFor('the corrupt value reported', () => {
    void alerting.current; // reading the config is what decodes a new value
    return logs.some((l) => l.includes('corrupt value at alerting'));
  });
  const line = logs.find((l) => l.includes('corrupt value at alerting'))!;
  assert.match(line, /channels\.x\.type: "pager": use webhook, command or smtp/);
  assert.match(line, /keeping the previous alerting config; fix it with peppercorn alerts config apply FILE/);
  assert.equal(alerting.current, good);
  assert.equal(logs.filter((l) => l.includes('corrupt value at alerting')).length, 1, 'reported once');
});

test('one alert, two channels: both notices sent once and both recorded, in one record', async () => {
  const hook = new WebhookReceiver();
  await hook.start();
  const dir = mkdtempSync(join(tmpdir(), 'pc-sender-'));
  const file = join(dir, 'notices.jsonl');
  try {
    await put(keys.alerting, {
      channels: {
        hook: { type: 'webhook', url: hook.url, format: 'json' },
        file: { type: 'command', command: `cat >> ${file}` },
      },
      cluster: {},
      delivery: { attempts: 3, backoff: '1s', timeout: '5s' },
    });
    await waitFor('the new config', () => Object.keys(alerting.current.channels).length === 2);
    const alert = newAlert(
      { id: 'two.1.1.failure', rule: 'failure', job: 'two', summary: 'x' },
      ['hook', 'file'],
      true,
      1,
    );
    await job('two'); // else the watch resolves its alert as belonging to a removed job
    await put(keys.alert(alert.id), alert);
    sender.start();
    const done = await waitFor('both notices recorded delivered', async () => {
      const a = (await all()).find((x) => x.id === alert.id);
      return a && Object.values(a.deliveries).every((d) => d.state === 'delivered') ? a : undefined;
    });
    assert.deepEqual(Object.keys(done.deliveries).sort(), ['open:file', 'open:hook']);
    for (const d of Object.values(done.deliveries)) assert.equal(d.attempts, 1);
    await new Promise((r) => setTimeout(r, 1500)); // nothing more is sent
    assert.deepEqual(
      hook.requests.map((r) => r.key),
      ['two.1.1.failure:open'],
    );
    assert.ok(existsSync(file));
    assert.equal(readFileSync(file, 'utf8').trim().split('\n').length, 1);
  } finally {
    sender.stop();
    await hook.stop();
  }
});
