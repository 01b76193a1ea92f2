// Dependencies: a child runs once each time all its parents completed a newer run
// meeting the condition, never before; cycles are refused; the graph is printed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { TestCluster, waitFor, sleep } from '../harness/cluster';

const tc = new TestCluster();
before(async () => {
  await tc.start();
  for (const id of ['d1', 'd2']) tc.startAgent(id);
  await tc.ready(['d1', 'd2']);
});
after(() => tc.stop());

/** "<job> <start ms> <end ms>", written by each command itself. */
const stamp = (file: string, body = 'sleep 0.3') =>
  JSON.stringify(`s=$(date +%s%3N); ${body}; echo "$PEPPERCORN_JOB $s $(date +%s%3N)" >> ${file}`);
const rows = (file: string) =>
  existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => {
          const [job, s, e] = l.split(' ');
          return { job, start: Number(s), end: Number(e) };
        })
    : [];

test('a chain runs in order, each child only after its parent succeeded, and the history links them', async () => {
  const f = tc.path('chain.txt');
  tc.apply(
    `name: extract\nkind: once\ncommand: ${stamp(f)}\n---\n` +
      `name: transform\nkind: once\nafter: [extract]\ncommand: ${stamp(f)}\n---\n` +
      `name: load\nkind: once\nafter: [transform]\ncommand: ${stamp(f)}\n`,
  );
  const id = tc.cli(['job', 'run', 'extract']).stdout.trim();
  await waitFor('load to run', () => rows(f).some((r) => r.job === 'load'), 60_000);
  const [e, t, l] = ['extract', 'transform', 'load'].map((j) => rows(f).find((r) => r.job === j)!);
  assert.ok(t.start >= e.end, 'transform started before extract ended');
  assert.ok(l.start >= t.end, 'load started before transform ended');
  const [tr] = await tc.store.listRuns('transform', 5);
  assert.deepEqual(tr.releasedBy, [id]);
  assert.equal(tr.cause, 'dependency');
  const [lr] = await tc.store.listRuns('load', 5);
  assert.deepEqual(lr.releasedBy, [tr.id]);
  await sleep(1500);
  assert.equal(rows(f).length, 3, 'each ran exactly once');
  const graph = tc.cli(['job', 'graph', 'load']);
  assert.equal(graph.stdout.trim(), 'extract\n└── transform [on success]\n    └── load [on success]');
});

test('an AND-join waits for every parent; a failure condition runs only on failure', async () => {
  const f = tc.path('join.txt');
  tc.apply(
    `name: left\nkind: once\ncommand: ${stamp(f, 'true')}\n---\n` +
      `name: right\nkind: once\ncommand: ${stamp(f, 'exit 3')}\n---\n` +
      `name: joined\nkind: once\nafter: [left, { job: right, condition: always }]\ncommand: ${stamp(f, 'true')}\n---\n` +
      `name: on-failure\nkind: once\nafter: [right]\ncondition: failure\ncommand: ${stamp(f, 'true')}\n---\n` +
      `name: on-success\nkind: once\nafter: [right]\ncommand: ${stamp(f, 'true')}\n`,
  );
  tc.cli(['job', 'run', 'left']);
  await waitFor('left to end', async () => (await tc.store.listRuns('left', 1))[0]?.status === 'succeeded');
  await sleep(1500);
  assert.equal(rows(f).filter((r) => r.job === 'joined').length, 0, 'joined must wait for right too');
  tc.cli(['job', 'run', 'right']);
  await waitFor(
    'joined and on-failure to run',
    () => rows(f).some((r) => r.job === 'joined') && rows(f).some((r) => r.job === 'on-failure'),
  );
  await sleep(1500);
  const count = (j: string) => rows(f).filter((r) => r.job === j).length;
  assert.deepEqual([count('joined'), count('on-failure'), count('on-success')], [1, 1, 0]);
  // A newer run of only one parent does not release the join again.
  tc.cli(['job', 'run', 'left']);
  await sleep(2000);
  assert.equal(count('joined'), 1);
});

test('a dependency cycle is refused at apply, spelled out, and nothing is stored', async () => {
  const r = tc.cli(
    ['job', 'apply', '-f', '-'],
    `name: cyc-a\nkind: once\nafter: [cyc-c]\ncommand: "true"\n---\nname: cyc-b\nkind: once\nafter: [cyc-a]\ncommand: "true"\n---\nname: cyc-c\nkind: once\nafter: [cyc-b]\ncommand: "true"\n`,
  );
  assert.equal(r.status, 2);
  assert.match(r.stderr, /dependency cycle: cyc-\w → cyc-\w → cyc-\w → cyc-\w/);
  assert.match(r.stderr, /nothing was stored/);
  assert.equal((await tc.store.listJobs()).filter((j) => j.spec.name.startsWith('cyc-')).length, 0);
  const unknown = tc.cli(
    ['job', 'apply', '-f', '-'],
    `name: orphan\nkind: once\nafter: [nope]\ncommand: "true"\n`,
  );
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /after: no job named "nope"/);
});
