// Failure is the main case: kill -9 an owner, kill -9 the leader, SIGSTOP an
// owner past its lease, restart etcd. After each: no scheduled time launched
// twice, and none missing without a record.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { TestCluster, waitFor, sleep } from '../harness/cluster';
import { readFileSync, existsSync } from 'node:fs';
import { ledgerCommand, checkLedger, readLaunches } from '../harness/ledger';

const tc = new TestCluster();
before(async () => {
  await tc.start();
  for (const id of ['n1', 'n2', 'n3']) tc.startAgent(id);
  await tc.ready(['n1', 'n2', 'n3']);
});
after(() => tc.stop());

function everySecond(name: string): string {
  return `name: ${name}\nkind: cron\nschedule: "* * * * * *"\ncommand: ${JSON.stringify(ledgerCommand(tc.path(name + '.txt')))}\n`;
}

async function launchesAfter(name: string, t: number, n: number, not?: string): Promise<void> {
  await waitFor(
    `${n} launches of ${name} after ${new Date(t).toISOString()}${not ? ` on a node other than ${not}` : ''}`,
    () => readLaunches(tc.path(name + '.txt')).filter((l) => l.startedAt > t && l.node !== not).length >= n,
  );
}

async function assertLedger(name: string, from: number, to: number) {
  const report = await checkLedger(tc.store, name, tc.path(name + '.txt'), from, to);
  assert.deepEqual(report.duplicates, [], `scheduled times of ${name} launched twice`);
  assert.deepEqual(report.unaccounted, [], `scheduled times of ${name} neither launched nor recorded`);
  return report;
}

test('jobs spread over the nodes', async () => {
  const yaml = ['a', 'b', 'c', 'd', 'e', 'f']
    .map((s) => `name: spread-${s}\nkind: cron\nschedule: "0 0 1 1 *"\ncommand: "true"\n`)
    .join('---\n');
  tc.apply(yaml);
  const owners = await waitFor('all six jobs assigned', async () => {
    const jobs = (await tc.store.listJobs()).filter((j) => j.spec.name.startsWith('spread-'));
    return jobs.length === 6 && jobs.every((j) => j.owner) ? jobs.map((j) => j.owner!) : undefined;
  });
  const count = new Map<string, number>();
  for (const o of owners) count.set(o, (count.get(o) ?? 0) + 1);
  assert.deepEqual([...count.values()].sort(), [2, 2, 2], `uneven spread: ${JSON.stringify([...count])}`);
});

test('kill -9 of an every-second job’s owner: launches continue on another node', async () => {
  tc.apply(everySecond('tick-kill'));
  const start = Date.now();
  await launchesAfter('tick-kill', start, 3);
  const owner = (await tc.owner('tick-kill'))!;
  const victim = tc.agents.get(owner)!;
  victim.kill9();
  const killedAt = Date.now();
  await launchesAfter('tick-kill', killedAt, 3, owner);
  const report = await assertLedger('tick-kill', start + 1000, Date.now() - 2000);
  assert.ok(report.nodes.size >= 2, 'the job ran on the survivor');
  tc.startAgent(owner); // back to three nodes for the next tests
  await tc.ready(['n1', 'n2', 'n3']);
});

test('kill -9 of the leader: a new leader is elected and launches never stop', async () => {
  tc.apply(everySecond('tick-leader'));
  const start = Date.now();
  await launchesAfter('tick-leader', start, 2);
  const leader = (await tc.leader())!;
  tc.agents.get(leader)!.kill9();
  const killedAt = Date.now();
  const next = await waitFor('a new leader', async () => {
    const l = await tc.leader();
    return l && l !== leader ? l : undefined;
  });
  assert.notEqual(next, leader);
  await launchesAfter('tick-leader', killedAt, 4);
  await assertLedger('tick-leader', start + 1000, Date.now() - 2000);
  tc.startAgent(leader);
  await tc.ready(['n1', 'n2', 'n3']);
});

test('SIGSTOP of an owner past its lease, then SIGCONT: no scheduled time runs twice', async () => {
  tc.apply(everySecond('tick-stop'));
  const start = Date.now();
  await launchesAfter('tick-stop', start, 2);
  const owner = (await tc.owner('tick-stop'))!;
  const agent = tc.agents.get(owner)!;
  agent.pause();
  const pausedAt = Date.now();
  await launchesAfter('tick-stop', pausedAt, 3, owner);
  agent.resume();
  const resumedAt = Date.now();
  // The resumed node must notice it lost its lease and rejoin, not launch as a ghost.
  await waitFor('the resumed node to rejoin', () => /rejoined/.test(agent.log()));
  await launchesAfter('tick-stop', resumedAt, 3);
  await sleep(1500);
  await assertLedger('tick-stop', start + 1000, Date.now() - 2000);
});

test('etcd restart: the cluster recovers by itself', async () => {
  tc.apply(everySecond('tick-etcd'));
  const start = Date.now();
  await launchesAfter('tick-etcd', start, 2);
  await tc.etcd.stop();
  await sleep(2000);
  await tc.etcd.start();
  const restartedAt = Date.now();
  await launchesAfter('tick-etcd', restartedAt, 4);
  await waitFor('a leader after the restart', () => tc.leader());
  await assertLedger('tick-etcd', start + 1000, Date.now() - 2000);
  for (const a of tc.agents.values()) assert.ok(a.alive, `agent ${a.id} survived the etcd restart`);
});

test('runs in flight on a killed node: at-most-once marks them lost; at-least-once re-runs once elsewhere', async () => {
  const file = tc.path('doubt.txt');
  const cmd = `echo "$PEPPERCORN_JOB $PEPPERCORN_RUN_ID $PEPPERCORN_ATTEMPT $PEPPERCORN_NODE" >> ${file}; sleep 30`;
  tc.apply(
    `name: doubt-amo\nkind: once\ncommand: ${JSON.stringify(cmd)}\n---\nname: doubt-alo\nkind: once\npolicy: at-least-once\ncommand: ${JSON.stringify(cmd)}\n`,
  );
  // Kill the owners (one or two nodes) while both runs are in flight.
  const amoOwner = await waitFor(
    'doubt-amo assigned',
    async () => (await tc.owner('doubt-amo')) ?? undefined,
  );
  const aloOwner = await waitFor(
    'doubt-alo assigned',
    async () => (await tc.owner('doubt-alo')) ?? undefined,
  );
  const amo = tc.cli(['job', 'run', 'doubt-amo']).stdout.trim();
  const alo = tc.cli(['job', 'run', 'doubt-alo']).stdout.trim();
  await waitFor('both runs started', async () => {
    const lines = readLaunchesRaw(file);
    return lines.some((l) => l.includes(amo)) && lines.some((l) => l.includes(alo));
  });
  tc.agents.get(amoOwner)!.kill9();
  if (aloOwner !== amoOwner) tc.agents.get(aloOwner)!.kill9();
  const lost = await waitFor('the at-most-once run marked lost', async () => {
    const r = await tc.store.getRun(amo);
    return r?.status === 'lost' ? r : undefined;
  });
  assert.match(lost.reason!, /at-most-once: not re-run/);
  const retryId = alo.replace(/\.1$/, '.2');
  await waitFor('the at-least-once run re-run as attempt 2 on a survivor', () =>
    readLaunchesRaw(file).some((l) => l.startsWith(`doubt-alo ${retryId} 2 `)),
  );
  const first = await tc.store.getRun(alo);
  assert.equal(first?.status, 'lost');
  assert.match(first!.reason!, new RegExp(`re-run as ${retryId.replace(/\./g, '\\.')}`));
  // Exactly one re-run, and the at-most-once job never ran again.
  const lines = readLaunchesRaw(file);
  assert.equal(lines.filter((l) => l.startsWith('doubt-alo ')).length, 2);
  assert.equal(lines.filter((l) => l.startsWith('doubt-amo ')).length, 1);
  await tc.store.removeJob('doubt-amo');
  await tc.store.removeJob('doubt-alo');
  for (const id of new Set([amoOwner, aloOwner])) tc.startAgent(id);
  await tc.ready(['n1', 'n2', 'n3']);
});

function readLaunchesRaw(file: string): string[] {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
}
