// Issue 13, "overload degrades, it does not collapse": an agent whose main thread is
// starved must keep its lease, because its keepalives run on a thread of their own; it
// launches late instead, and says so (peppercorn_node_overloaded, a node-overloaded alert
// resolved when it recovers). The starvation is the test-only stall (PEPPERCORN_TEST_STALL_MS:
// SIGUSR2 busy-loops the main thread), longer than twice the harness's 3 s lease TTL. Before
// the keepalive thread, the node lost its lease during the stall and rejoined under a new epoch.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { TestCluster, waitFor, sleep } from '../harness/cluster';
import { checkLedger, ledgerCommand, readLaunches } from '../harness/ledger';
import { keys } from '../../agent/core/keys';
import { STALL_ENV } from '../../agent/node/test-stall';

const tc = new TestCluster();
const STALL_MS = 8000;
let url = '';

before(async () => {
  await tc.start();
  tc.startAgent('calm');
  await tc.ready(['calm']);
  const busy = tc.startAgent(
    'busy',
    ['--labels', 'role=busy', '--metrics-port', '0', '--overload-alert-after', '3s'],
    { env: { [STALL_ENV]: String(STALL_MS) } },
  );
  await tc.ready(['calm', 'busy']);
  url = await waitFor(
    'the metrics address in the log',
    () => /serving metrics on (http:\/\/\S+)\/metrics/.exec(busy.log())?.[1],
  );
});
after(() => tc.stop());

async function nodeEpoch(id: string): Promise<number> {
  const kv = (await tc.cluster.ns.get(keys.node(id)).exec()).kvs[0];
  return kv ? Number(kv.create_revision) : 0;
}

async function metric(name: string): Promise<number | undefined> {
  try {
    const body = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(2000) })).text();
    const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(body);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined; // the agent is stalled: the scrape times out
  }
}

test('a node whose main thread stalls past its lease TTL keeps its lease, launches late and raises node-overloaded', async () => {
  const busy = tc.agents.get('busy')!;
  const file = tc.path('stalled.txt');
  tc.apply(
    `name: on-busy\nkind: cron\nschedule: "* * * * * *"\nselector: { role: busy }\ncommand: ${JSON.stringify(ledgerCommand(file))}\n`,
  );
  await waitFor(
    'launches on the busy node',
    () => readLaunches(file).filter((l) => l.node === 'busy').length >= 3,
  );
  const epoch = await nodeEpoch('busy');
  assert.ok(epoch > 0);
  assert.equal(await metric('peppercorn_node_overloaded'), 0, 'overloaded before any stall');

  const logBefore = busy.log().length;
  const stallAt = Date.now();
  process.kill(busy.pid, 'SIGUSR2');
  // The stall: nothing on the main thread runs, the metrics server neither.
  await sleep(STALL_MS / 2);
  assert.equal(await nodeEpoch('busy'), epoch, 'the node key changed during the stall');
  const overloaded = await waitFor(
    'peppercorn_node_overloaded 1 after the stall',
    async () => ((await metric('peppercorn_node_overloaded')) === 1 ? true : undefined),
    STALL_MS + 20_000,
  );
  assert.ok(overloaded);
  const lag = await metric('peppercorn_event_loop_lag_seconds');
  assert.ok(lag !== undefined, 'peppercorn_event_loop_lag_seconds is exported');

  // The lease held all along: same node key (epoch), no loss, no suspension, no rejoin.
  assert.equal(await nodeEpoch('busy'), epoch, 'the node rejoined under a new epoch: its lease was lost');
  // From the stall on (a machine this busy may stall the agent's start-up too).
  const log = busy.log().slice(logBefore);
  assert.match(log, /test stall of the main thread/);
  assert.doesNotMatch(log, /lease lost/, 'the stalled agent lost its lease');
  assert.doesNotMatch(log, /claims suspended/, 'the stalled agent suspended its claims');
  assert.doesNotMatch(log, /rejoined/);

  const alert = await waitFor(
    'a node-overloaded alert naming busy',
    async () =>
      (await tc.alerts()).find((a) => (a.rule as string) === 'node-overloaded' && a.node === 'busy'),
    30_000,
  );
  assert.match(alert.summary, /node busy has been overloaded since .*event loop up to \d+ ms late/);

  // The job stayed on its node and kept launching there, late rather than elsewhere (its
  // selector fits no other node, so no standby could claim its times either).
  const after = await waitFor('launches on busy after the stall', () =>
    readLaunches(file).find((l) => l.node === 'busy' && l.startedAt > stallAt + STALL_MS),
  );
  assert.ok(after);
  assert.deepEqual(
    readLaunches(file)
      .filter((l) => l.startedAt > stallAt && l.node !== 'busy')
      .map((l) => `${l.runId} on ${l.node}`),
    [],
    'the job moved while its node still held its lease',
  );

  // Recovered: the alert is resolved by the node itself.
  const resolved = await waitFor(
    'the node-overloaded alert resolved',
    async () => (await tc.alerts()).find((a) => a.id === alert.id && a.state === 'resolved'),
    60_000,
  );
  assert.match(resolved.resolution ?? '', /no longer overloaded/);
  assert.equal(await metric('peppercorn_node_overloaded'), 0);

  // Every time is accounted for: launched once, or recorded (a stall this long skips times).
  const rep = await checkLedger(tc.store, 'on-busy', file, stallAt - 2000, Date.now() - 3000);
  assert.deepEqual(rep.duplicates, [], 'a scheduled time launched twice');
  assert.deepEqual(rep.unaccounted, [], 'a scheduled time neither launched nor recorded');
});
