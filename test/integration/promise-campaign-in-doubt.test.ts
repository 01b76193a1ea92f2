// Found by the nemesis (etcd full, members restarted, while the leader changed): a campaign
// that etcd applied but answered with an error. etcd applies a write and still answers
// NOSPACE when that write crossed its quota at apply time; a member killed with the reply
// on the wire, or a reply slower than the call's deadline, look the same to the caller. The
// agent took the failed campaign for a lost one and waited for the leader key to go; but
// the key was its own, bound to its live lease, so nobody led while it lived: no job was
// assigned or moved, no dead node's run was settled, and their scheduled times were neither
// launched nor recorded. Here the reply is slow: the agent reaches etcd through a proxy
// that holds etcd's replies for 6 s (past the 5 s call deadline) right after the campaign.
// Oracle: the leader key etcd holds, and a job applied afterwards gets an owner and launches
// (the command's own lines).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { TestCluster, waitFor } from '../harness/cluster';
import { TcpProxy } from '../harness/proxy';
import { ledgerCommand, readLaunches } from '../harness/ledger';
import { keys } from '../../agent/core/keys';
import type { LeaderRecord } from '../../agent/core/records';

const tc = new TestCluster();
let proxy: TcpProxy;
before(async () => {
  await tc.start();
  proxy = new TcpProxy('127.0.0.1', Number(new URL(tc.etcd.endpoint).port));
  await proxy.start();
  tc.startAgent('z1', ['--lease-ttl', '10'], { env: { PEPPERCORN_ETCD: proxy.endpoint } });
  await tc.ready(['z1']);
});
after(async () => {
  await tc.stop();
  await proxy?.stop();
});

test('a campaign etcd applied but answered too late still gives the cluster a leader', async () => {
  // The campaign is the one request naming both the leader key and z1's node key.
  const campaign = proxy.holdRepliesAfter([tc.prefix + keys.leader, tc.prefix + keys.node('z1')], 6000);
  // The leader goes (as when its holder dies): z1 campaigns at once.
  await tc.cluster.ns.delete().key(keys.leader).exec();
  await waitFor('z1 to campaign', () => campaign.then(() => true), 30_000);
  const holder = await waitFor(
    'the campaign to be applied',
    async () => {
      const kv = (await tc.cluster.ns.get(keys.leader).exec()).kvs[0];
      return kv && (JSON.parse(kv.value.toString()) as LeaderRecord);
    },
    10_000,
  );
  assert.equal(holder.node, 'z1');
  const file = tc.path('after.txt');
  tc.apply(
    `name: after-campaign\nkind: cron\nschedule: "* * * * * *"\ncommand: ${JSON.stringify(ledgerCommand(file))}\n`,
  );
  let launched = true;
  try {
    await waitFor(
      'a leader to assign the job and z1 to launch it',
      () => readLaunches(file).length >= 2,
      40_000,
    );
  } catch {
    launched = false;
  }
  const owner = await tc.owner('after-campaign');
  const story = tc.agents
    .get('z1')!
    .log()
    .split('\n')
    .filter((l) => /campaign|leader|lease/.test(l))
    .map((l) => l.slice(0, 200));
  assert.ok(
    launched,
    `40 s after the campaign, the job has ${owner ? `owner ${owner} but did not launch` : 'no owner'}: ` +
      `the leader key is z1's (epoch ${holder.epoch}), on its live lease, and nobody leads. z1's log:\n${story.join('\n')}`,
  );
});
