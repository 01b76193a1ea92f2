// Issue 8, also found: a node whose clock is 90 s ahead launched every job 90 s early and
// nothing noticed. A node with a skewed clock must stop claiming (fail closed) and a
// `clock-skew` alert must name it. The skew is faked with the agent's test-only clock
// offset (PEPPERCORN_CLOCK_OFFSET_MS); the commands' `date` reads the real clock.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { TestCluster, waitFor } from '../harness/cluster';
import { ledgerCommand, readLaunches } from '../harness/ledger';
import { CLOCK_OFFSET_ENV } from '../../agent/node/clock-offset';

const tc = new TestCluster();
const NODES = ['c1', 'c2', 'c3'];
const SKEWED = 'c3';
before(async () => {
  await tc.start();
  // The skewed node leads: the harder case, where the judge must find its own clock off
  // (counting its own report twice once held every node).
  tc.startAgent(SKEWED, [], { env: { [CLOCK_OFFSET_ENV]: '90000' } });
  await tc.ready([SKEWED]);
  for (const id of NODES) if (id !== SKEWED) tc.startAgent(id);
  await tc.ready(NODES);
  assert.equal(await tc.leader(), SKEWED);
});
after(() => tc.stop());

test('a node whose clock is 90 s ahead stops claiming and raises a clock-skew alert', async () => {
  const file = tc.path('skew.txt');
  tc.apply(
    ['a', 'b', 'c', 'd', 'e', 'f']
      .map(
        (s) =>
          `name: skew-${s}\nkind: cron\nschedule: "* * * * * *"\ncommand: ${JSON.stringify(ledgerCommand(file))}\n`,
      )
      .join('---\n'),
  );
  const alert = await waitFor(
    `a clock-skew alert naming ${SKEWED}`,
    async () =>
      (await tc.alerts()).find(
        (a) => (a.rule as string) === 'clock-skew' && a.node === SKEWED && a.state === 'open',
      ),
    30_000,
  );
  assert.match(alert.summary, new RegExp(SKEWED));
  const seenAt = Date.now();
  // Other nodes go on launching; the skewed one launches nothing once it has been seen.
  await waitFor(
    'launches on the other nodes',
    () => readLaunches(file).filter((l) => l.startedAt > seenAt + 3000 && l.node !== SKEWED).length >= 5,
    30_000,
  );
  const late = readLaunches(file).filter((l) => l.node === SKEWED && l.startedAt > seenAt + 1000);
  assert.deepEqual(
    late.map((l) => `${l.runId} started ${l.startedAt - l.scheduledAt} ms after its time`),
    [],
    `${SKEWED} kept claiming with a skewed clock`,
  );
});
