// Issue 8, bug 6: exhaustion is loud and bounded. Chatty jobs fill etcd up to its quota
// (NOSPACE: etcd refuses writes). While it refuses them the agents must say so (/healthz
// unhealthy), their lease keepalives must go on (etcd3's circuit breaker used to block
// them), and once an operator frees space every scheduled time of a canary job is
// either launched or recorded as `skipped` with the reason.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { TestCluster, waitFor } from '../harness/cluster';
import { freePort, etcdctl, etcdFull, relieveQuota } from '../harness/etcd';
import { ledgerCommand, checkLedger, readLaunches } from '../harness/ledger';
import { keys } from '../../agent/core/keys';

const QUOTA = 16 << 20;
const tc = new TestCluster({ etcd: { args: ['--quota-backend-bytes', String(QUOTA)] } });
const NODES = ['f1', 'f2'];
const ports = new Map<string, number>();
before(async () => {
  await tc.start();
  for (const id of NODES) {
    ports.set(id, await freePort());
    tc.startAgent(id, ['--metrics-port', String(ports.get(id))]);
  }
  await tc.ready(NODES);
});
after(() => tc.stop());

async function healthz(id: string): Promise<number> {
  try {
    return (await fetch(`http://127.0.0.1:${ports.get(id)}/healthz`)).status;
  } catch {
    return 0; // not answering at all counts as unhealthy too
  }
}

async function epochs(): Promise<Map<string, number>> {
  return new Map((await tc.store.listNodes()).filter((n) => n.alive).map((n) => [n.id, n.epoch]));
}

test('etcd at its quota: agents report it, keep their leases, and account for every time', async () => {
  const canary = tc.path('canary.txt');
  tc.apply(
    `name: canary\nkind: cron\nschedule: "* * * * * *"\ncommand: ${JSON.stringify(ledgerCommand(canary))}\n`,
  );
  await waitFor('the canary to launch', () => readLaunches(canary).length >= 2, 30_000);
  const before = await epochs();
  const start = Date.now();
  // Each run prints ~1.4 MB; up to 1 MiB of it is shipped into etcd.
  tc.apply(
    ['a', 'b', 'c']
      .map(
        (s) =>
          `name: chatty-${s}\nkind: cron\nschedule: "* * * * * *"\ncommand: "head -c 1048576 /dev/urandom | base64"\n`,
      )
      .join('---\n'),
  );
  const endpoints = [tc.etcd.endpoint];
  await waitFor('etcd to reach its quota (NOSPACE)', () => etcdFull(endpoints), 120_000);
  const fullAt = Date.now();
  const problems: string[] = [];
  // 1. While etcd refuses writes, an agent says so.
  try {
    await waitFor(
      'an unhealthy /healthz',
      async () => (await Promise.all(NODES.map(healthz))).some((s) => s !== 200),
      20_000,
    );
  } catch {
    problems.push('/healthz stayed 200 on every agent while etcd refused writes (NOSPACE)');
  }
  // 2. Keepalives go on: past twice the lease TTL (3 s), every node keeps its key and epoch.
  await waitFor('6 s of NOSPACE', () => Date.now() > fullAt + 6000, 10_000);
  const during = await epochs();
  for (const [id, epoch] of before)
    if (during.get(id) !== epoch)
      problems.push(
        `node ${id} lost its lease while etcd was full (epoch ${epoch} → ${during.get(id) ?? 'gone'})`,
      );
  // The client's own error, as the agent logged it: a keepalive refused by a breaker that NOSPACE opened.
  for (const id of NODES) {
    const blocked = tc.agents
      .get(id)!
      .log()
      .split('\n')
      .filter((l) => /keepalive/i.test(l) && /circuit breaker/i.test(l));
    if (blocked.length)
      problems.push(`${id}: ${blocked.length} lease keepalive(s) blocked by the client's circuit breaker`);
  }
  // 3. The operator frees space: drops the chatty jobs and their output, compacts, defragments, disarms.
  for (const s of ['a', 'b', 'c']) etcdctl(endpoints, ['del', `${tc.prefix}${keys.job(`chatty-${s}`)}`]);
  etcdctl(endpoints, ['del', '--prefix', `${tc.prefix}logs/`]);
  relieveQuota(endpoints);
  const relievedAt = Date.now();
  await waitFor(
    'the canary to launch again',
    () => readLaunches(canary).filter((l) => l.startedAt > relievedAt).length >= 3,
    60_000,
  );
  // Times not launched are recorded once writes work again: give the agents a bounded while.
  const to = relievedAt + 2000;
  let report = await checkLedger(tc.store, 'canary', canary, start, to);
  try {
    await waitFor(
      'every canary time launched or recorded',
      async () =>
        (report = await checkLedger(tc.store, 'canary', canary, start, to)).unaccounted.length === 0,
      30_000,
    );
  } catch {
    problems.push(
      `canary times neither launched nor recorded: ${report.unaccounted.map((t) => new Date(t).toISOString()).join(', ')}`,
    );
  }
  if (report.duplicates.length) problems.push(`canary times launched twice: ${report.duplicates.join(', ')}`);
  for (const r of await tc.store.listRuns('canary', 1000))
    if (r.status === 'skipped' && !r.reason) problems.push(`skipped record ${r.id} gives no reason`);
  assert.deepEqual(problems, [], 'etcd at its quota was not handled loudly and safely');
});
