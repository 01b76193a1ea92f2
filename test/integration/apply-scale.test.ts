// A `job apply` of 10,000 jobs against stock etcd limits (128 operations, 1.5 MiB per
// transaction) is all or nothing: an invalid job stores nothing, a CLI killed before the
// commit stores nothing, an apply committed by a CLI that then died is finished by the next
// operator command, and a whole apply ends with every job stored and assigned.
// Real etcd, three real agents, real CLI processes; no timing is asserted.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { TestCluster, CLI, waitFor } from '../harness/cluster';
import { keys } from '../../agent/core/keys';
import { scaleJobsYaml } from '../bench/scale.bench';
import { encode } from '../../agent/core/records';
import type { ApplyLockRecord } from '../../agent/core/staged-apply';
import type { StagedWrite } from '../../agent/core/job/apply-parts';

const N = 10_000;
const tc = new TestCluster();
before(async () => {
  await tc.start();
  for (const id of ['n1', 'n2', 'n3']) tc.startAgent(id);
  await tc.ready(['n1', 'n2', 'n3']);
});
after(() => tc.stop());

const count = async (prefix: string) => Number(await tc.cluster.ns.getAll().prefix(prefix).count());

function cliAsync(
  args: string[],
  input?: string,
): { proc: ChildProcess; done: Promise<{ status: number | null; stderr: string }> } {
  const proc = spawn(process.execPath, [CLI, ...args], { env: tc.env(), stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  proc.stdin!.end(input ?? '');
  const done = new Promise<{ status: number | null; stderr: string }>((resolve) =>
    proc.on('close', (status) => resolve({ status, stderr })),
  );
  return { proc, done };
}

test('an invalid job at position 9,000 of 10,000 stores nothing', async () => {
  const docs = scaleJobsYaml(N).split('---\n');
  docs[9000] = docs[9000].replace('schedule: "H H * * *"', 'schedule: "61 * * * *"');
  const r = await cliAsync(['job', 'apply', '-f', '-'], docs.join('---\n')).done;
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /scale-09000/);
  assert.match(r.stderr, /nothing was stored/);
  assert.equal(await count(keys.jobs), 0);
  assert.equal(await count(keys.cursors), 0);
});

test('a CLI killed while staging 10,000 jobs stores none of them, and the next apply is not blocked', async () => {
  const run = cliAsync(['job', 'apply', '-f', '-'], scaleJobsYaml(N, 'killed'));
  // Staging has begun: the lock is held and parts are being written.
  const state = await waitFor(
    'the apply to start staging',
    async () => {
      if ((await count(keys.applyParts)) === 0) return undefined;
      run.proc.kill('SIGKILL');
      const kv = (await tc.cluster.ns.get(keys.applyLock).exec()).kvs[0];
      return kv ? (JSON.parse(kv.value.toString()) as ApplyLockRecord).state : 'gone';
    },
    120_000,
  );
  await run.done;
  // Killed before its commit (the usual case: staging takes most of the apply), nothing is
  // stored; had the kill come after the commit, everything must be once `job ls` finishes it.
  if (state === 'staging') {
    assert.equal(await count(keys.jobs), 0);
    assert.equal(await count(keys.cursors), 0);
    assert.equal(await count(keys.jobAudit('')), 0);
  } else {
    assert.equal(state, 'committed');
    assert.equal(tc.cli(['job', 'ls', '-o', 'name']).status, 0);
    assert.equal(await count(keys.jobs), N);
  }
  // The lock went with the dead CLI's lease; a small apply afterwards waits for that, then works.
  const small = tc.cli(['job', 'apply', '-f', '-'], 'name: after-kill\nkind: once\ncommand: "true"\n');
  assert.equal(small.status, 0, small.stderr);
  assert.equal(tc.cli(['job', 'rm', 'after-kill']).status, 0);
  if (state !== 'staging') {
    const names = tc.cli(['job', 'ls', '-o', 'name']).stdout.trim().split('\n');
    for (const n of names) if (n.startsWith('job/killed-')) tc.cli(['job', 'rm', n.slice(4)]);
  }
});

test('an apply committed by a CLI that died is finished by the next `job ls`', async () => {
  // What a CLI killed just after its commit leaves: the committed lock (no lease) naming a
  // lease that is gone, and its staged parts; none of the writes rolled forward yet.
  const { ns } = tc.cluster;
  const lease = ns.lease(5);
  const leaseId = String(await lease.grant());
  await lease.revoke();
  const id = 'left-behind';
  const parts: StagedWrite[][] = [0, 1].map((p) =>
    [0, 1, 2].flatMap((i) => {
      const name = `left-${p}${i}`;
      return [
        {
          put: keys.job(name),
          value: encode({ name, kind: 'once', command: 'true', timezone: 'UTC', uid: `${name}-uid` }),
        },
        { cursor: keys.cursor(name), value: { t: Date.now(), n: 0 } },
      ];
    }),
  );
  for (const [n, part] of parts.entries())
    await ns.put(keys.applyPart(id, n)).value(JSON.stringify(part)).exec();
  const rec: ApplyLockRecord = {
    id,
    state: 'committed',
    by: 'test',
    at: Date.now(),
    lease: leaseId,
    parts: 2,
  };
  await ns.put(keys.applyLock).value(encode(rec)).exec();
  assert.equal(await count(keys.jobs), 0);

  const ls = tc.cli(['job', 'ls', '-o', 'name']);
  assert.equal(ls.status, 0, ls.stderr);
  assert.deepEqual(
    ls.stdout.trim().split('\n').sort(),
    ['00', '01', '02', '10', '11', '12'].map((s) => `job/left-${s}`),
  );
  assert.equal((await ns.get(keys.applyLock).exec()).kvs.length, 0);
  // Its parts are gone (the stray parts of the apply killed above wait for the next large apply).
  assert.equal(await count(keys.applyPartsOf(id)), 0);
  for (const s of ['00', '01', '02', '10', '11', '12'])
    assert.equal(tc.cli(['job', 'rm', `left-${s}`]).status, 0);
});

test('10,000 jobs: stored whole by one apply, every one assigned', async () => {
  const r = await cliAsync(['job', 'apply', '-f', '-', '-o', 'name'], scaleJobsYaml(N)).done;
  assert.equal(r.status, 0, r.stderr);
  // Earlier tests' tombstones (cursors, kept an hour) and trails (kept after rm) are not counted.
  assert.equal(await count(keys.job('scale-')), N);
  assert.equal(await count(keys.cursor('scale-')), N);
  assert.equal(await count(keys.jobAudit('scale-')), N);
  assert.equal((await tc.cluster.ns.get(keys.applyLock).exec()).kvs.length, 0);
  assert.equal(await count(keys.applyParts), 0);
  await waitFor('every job assigned', async () => (await count(keys.assignments)) === N, 300_000);
  // Every assignment names a node of the cluster (how they spread depends on which nodes
  // were live at the time: on a loaded machine an agent may miss its lease for a while).
  for (const kv of (await tc.cluster.ns.getAll().prefix(keys.assignments).exec()).kvs) {
    const node = (JSON.parse(kv.value.toString()) as { node: string }).node;
    assert.ok(['n1', 'n2', 'n3'].includes(node), node);
  }
});
