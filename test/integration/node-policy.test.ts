// Node policy with real agents: a node that refuses root never gets root jobs (they land on
// one that allows root), `job get` says which node refuses and why, and a node handed one
// anyway refuses it with a run record. The oracle for "ran" is the command's own output.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { TestCluster, waitFor, sleep } from '../harness/cluster';
import { keys } from '../../agent/core/keys';
import type { Assignment } from '../../agent/core/records';

const tc = new TestCluster();
// Written by a job running as nobody, which cannot write into the test's private directory.
const NOBODY_OUT = `/tmp/pc-policy-${process.pid}.out`;

before(async () => {
  await tc.start();
  // "strict" runs jobs as nobody only; "open" has no policy (runs anything, as before).
  tc.startAgent('strict', [
    '--config',
    tc.write('strict.yaml', 'allowUsers: [nobody]\ndenyUsers: [daemon]\n'),
  ]);
  tc.startAgent('open');
  await tc.ready(['strict', 'open']);
});
after(async () => {
  rmSync(NOBODY_OUT, { force: true });
  await tc.stop();
});

const rootJob = (name: string) =>
  `name: ${name}\nschedule: "* * * * * *"\ncommand: id -u >> ${tc.path(`${name}.out`)}\n`;

test('root jobs land only on the node whose policy allows root; job get says who refuses', async () => {
  tc.apply(['a', 'b', 'c', 'd'].map((s) => rootJob(`root-${s}`)).join('---\n'));
  for (const s of ['a', 'b', 'c', 'd'])
    await waitFor(`root-${s} to run`, () => existsSync(tc.path(`root-${s}.out`)));
  for (const s of ['a', 'b', 'c', 'd']) assert.equal(await tc.owner(`root-${s}`), 'open');
  // Four jobs, two nodes: rebalancing would have moved two to "strict" without its policy.
  const got = JSON.parse(tc.cli(['job', 'get', 'root-a', '--json']).stdout) as {
    refusedBy: { node: string; reason: string }[];
  };
  assert.deepEqual(
    got.refusedBy.map((r) => r.node),
    ['strict'],
  );
  assert.match(got.refusedBy[0].reason, /user root .* is not in this node's allowUsers \(nobody\)/);
  assert.match(tc.cli(['job', 'get', 'root-a']).stdout, /^# refused by node strict: user root/m);
  const nodes = JSON.parse(tc.cli(['nodes', '--json']).stdout) as { id: string }[];
  assert.ok(nodes.some((n) => n.id === 'strict'));
  // The node's policy is published in its record.
  const rec = JSON.parse((await tc.cluster.ns.get(keys.node('strict')).string())!) as {
    policy: { allowUsers: string[]; runsAs: string };
  };
  assert.deepEqual(rec.policy.allowUsers, ['nobody']);
  for (const s of ['a', 'b', 'c', 'd'])
    assert.match(readFileSync(tc.path(`root-${s}.out`), 'utf8'), /^0$/m, 'ran as root, on the open node');
  // A job the strict node allows goes there (the open node has four already).
  tc.apply(`name: as-nobody\nschedule: "* * * * * *"\nuser: nobody\ncommand: id -un >> ${NOBODY_OUT}\n`);
  await waitFor('as-nobody placed on strict', async () => (await tc.owner('as-nobody')) === 'strict');
  await waitFor('as-nobody to run', () => existsSync(NOBODY_OUT), 60_000);
  assert.match(readFileSync(NOBODY_OUT, 'utf8'), /^nobody$/m);
});

test('with only refusing nodes left, a root job is not placed and job get says why', async () => {
  const open = tc.agents.get('open')!;
  open.kill9();
  await waitFor('the root jobs unassigned', async () => (await tc.owner('root-a')) === null, 40_000);
  const before = readFileSync(tc.path('root-a.out'), 'utf8').split('\n').length;
  await sleep(2000);
  assert.equal(
    readFileSync(tc.path('root-a.out'), 'utf8').split('\n').length,
    before,
    'root-a ran meanwhile',
  );
  assert.match(tc.cli(['job', 'get', 'root-a']).stdout, /# refused by node strict/);
  assert.match(
    open.log() + tc.agents.get('strict')!.log(),
    /unassign root-a: the policy of every node that could take it refuses it/,
  );
});

test('a node handed a job its policy refuses anyway does not run it and records why', async () => {
  // Only "strict" is alive and it leads: stop it from reassigning while we hand it a root job,
  // as a leader of another version (or a hand edit) might.
  const epoch = Number((await tc.cluster.ns.get(keys.node('strict')).exec()).kvs[0].create_revision);
  tc.apply(rootJob('handed'));
  const a: Assignment = { node: 'strict', epoch, since: Date.now(), by: 'test', reason: 'handed by hand' };
  // The leader would remove the assignment at once: write it again until the refusal is recorded.
  const refused = await waitFor('the refusal record', async () => {
    await tc.cluster.ns.put(keys.assignment('handed')).value(JSON.stringify(a)).exec();
    await sleep(200);
    const runs = await tc.store.listRuns('handed', 100);
    return runs.find((r) => r.reason?.startsWith('refused:'));
  });
  assert.equal(refused.node, 'strict');
  assert.equal(refused.status, 'skipped');
  assert.match(
    refused.reason!,
    /refused by this node's policy: user root .* is not in this node's allowUsers/,
  );
  await sleep(1500);
  assert.equal(existsSync(tc.path('handed.out')), false, 'the refused job ran');
  assert.equal(
    (await tc.store.listRuns('handed', 100)).filter((r) => r.reason?.startsWith('refused:')).length,
    1,
    'recorded once for this spec revision',
  );
});
