// Mutual exclusion and concurrency limits hold cluster-wide, also while nodes are
// killed: measured from the timestamps the commands themselves write.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { TestCluster, waitFor, sleep } from '../harness/cluster';

const tc = new TestCluster();
const NODES = ['m1', 'm2', 'm3'];
before(async () => {
  await tc.start();
  for (const id of NODES) tc.startAgent(id);
  await tc.ready(NODES);
});
after(() => tc.stop());

/** A command that records when it really ran: "<start ms> <end ms> <run id>". */
function timed(file: string, seconds: number): string {
  return `s=$(date +%s%3N); sleep ${seconds}; echo "$s $(date +%s%3N) $PEPPERCORN_RUN_ID" >> ${file}`;
}

function intervals(file: string): { start: number; end: number; id: string }[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [s, e, id] = l.split(' ');
      return { start: Number(s), end: Number(e), id };
    });
}

/** The most intervals in flight at any one instant. */
function maxInFlight(list: { start: number; end: number }[]): number {
  const events = list.flatMap((i) => [
    [i.start, 1],
    [i.end, -1],
  ]);
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]); // an end before a start at the same ms
  let cur = 0;
  let max = 0;
  for (const [, d] of events) max = Math.max(max, (cur += d));
  return max;
}

test('jobs sharing a mutex never run at the same time, on any node', async () => {
  const file = tc.path('mutex.txt');
  tc.apply(
    ['a', 'b', 'c']
      .map(
        (s) =>
          `name: mutex-${s}\nkind: cron\nschedule: "* * * * * *"\nmutex: nightly-db\ncommand: ${JSON.stringify(timed(file, 0.4))}\n`,
      )
      .join('---\n'),
  );
  await waitFor(
    'each mutex job ran twice',
    () =>
      ['a', 'b', 'c'].every((s) => intervals(file).filter((i) => i.id.startsWith(`mutex-${s}.`)).length >= 2),
    60_000,
  );
  const owners = new Set(
    (await tc.store.listJobs()).filter((j) => j.spec.name.startsWith('mutex-')).map((j) => j.owner),
  );
  assert.ok(owners.size >= 2, 'the jobs are spread over nodes, so the lock is cluster-wide');
  for (const s of ['a', 'b', 'c']) await tc.store.setPaused(`mutex-${s}`, true);
  await sleep(1500);
  assert.equal(maxInFlight(intervals(file)), 1, 'two runs held the mutex at once');
  const waited = (await tc.store.listRuns('mutex-a', 50)).concat(await tc.store.listRuns('mutex-b', 50));
  assert.ok(waited.some((r) => r.holds?.some((h) => h.startsWith('sem/mutex.nightly-db/'))));
});

test('a concurrency limit holds while the owner is killed', async () => {
  const file = tc.path('conc.txt');
  tc.apply(
    `name: conc\nkind: cron\nschedule: "* * * * * *"\nconcurrency: 2\noverlap: allow\ncommand: ${JSON.stringify(timed(file, 3))}\n`,
  );
  await waitFor('two runs in flight', async () => {
    const runs = await tc.store.listRuns('conc', 10);
    return runs.filter((r) => r.status === 'running').length === 2;
  });
  const owner = (await tc.owner('conc'))!;
  tc.agents.get(owner)!.kill9();
  await waitFor(
    'runs finishing on the new owner',
    async () => {
      const runs = await tc.store.listRuns('conc', 50);
      return runs.filter((r) => r.status === 'succeeded' && r.node !== owner).length >= 3;
    },
    60_000,
  );
  await tc.store.setPaused('conc', true);
  await sleep(3500);
  // The killed node's runs were killed with it (they never wrote an end), so the
  // survivors' runs are all that ran; never more than two at once.
  const all = intervals(file);
  assert.ok(all.length >= 3);
  assert.ok(maxInFlight(all) <= 2, `more than two runs at once: ${maxInFlight(all)}`);
  const lost = (await tc.store.listRuns('conc', 50)).filter((r) => r.status === 'lost');
  assert.ok(lost.length >= 1, 'the runs in flight on the killed node are recorded lost');
  tc.startAgent(owner);
  await tc.ready(NODES);
});

test('resources of different sizes for the same name are refused at apply, storing nothing', () => {
  const r = tc.cli(
    ['job', 'apply', '-f', '-'],
    `name: res-a\nkind: once\nresources: { db-primary: 2 }\ncommand: "true"\n---\nname: res-b\nkind: once\nresources: { db-primary: 3 }\ncommand: "true"\n`,
  );
  assert.equal(r.status, 2);
  assert.match(r.stderr, /resources\.db-primary: size 3 differs from 2 in job "res-a"/);
  assert.match(r.stderr, /nothing was stored/);
});
