// Alerting against real etcd, agents and a webhook receiver on loopback. The promise:
// exactly one alert per failure, delivered, even when the leader is killed (or frozen
// past its lease) in the middle of a delivery, or etcd restarts. A repeat caused by a
// sender dying mid-send carries the same idempotency key; the receiver accepts each
// key once because the first attempt never got an answer.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { TestCluster, waitFor, sleep, CLI } from '../harness/cluster';
import { WebhookReceiver, type Received } from '../harness/receivers';
import { listAlerts } from '../../agent/api/alert-store';
import type { AlertRecord } from '../../agent/core/records';

const execFileAsync = promisify(execFile);
const tc = new TestCluster();
const hook = new WebhookReceiver();

before(async () => {
  await tc.start();
  await hook.start();
  const r = tc.cli(
    ['alerts', 'config', 'apply', '-f', '-'],
    `channels:\n  hook: { type: webhook, url: "${hook.url}" }\n` +
      `cluster: { nodeDown: 2s, noLeader: 6s }\ndelivery: { attempts: 20, backoff: 200ms, timeout: 10s }\n`,
  );
  assert.equal(r.status, 0, r.stderr);
  for (const id of ['n1', 'n2', 'n3']) tc.startAgent(id);
  await tc.ready(['n1', 'n2', 'n3']);
});
after(async () => {
  await tc.stop();
  await hook.stop();
});

const alerts = () => listAlerts(tc.cluster, {}, () => undefined);
const delivered = (a: AlertRecord, event = 'open') => a.deliveries[`${event}:hook`]?.state === 'delivered';

/** Holds the next request with a key not seen before; resolves with it once it arrives. */
function holdNext(): Promise<Received> {
  const seen = new Set(hook.requests.map((r) => r.key));
  let key: string | undefined;
  hook.hold = (r) => {
    if (key === undefined && !seen.has(r.key)) key = r.key;
    return r.key === key;
  };
  return waitFor('a delivery to hold', () => hook.requests.find((r) => r.key === key && !r.accepted));
}

test('one alert per failure, delivered once, across kill -9 and SIGSTOP of the leader mid-delivery, an etcd restart and kill -9 of the job’s owner', async () => {
  tc.apply(
    `name: fails\nkind: cron\nschedule: "*/2 * * * * *"\ncommand: "exit 3"\nalerts: { on: [failure] }\n`,
  );
  await waitFor('two failure alerts delivered', () => hook.acceptedByKey().size >= 2);

  // 1. kill -9 of the leader while it waits for the receiver's answer.
  const held1 = await holdNext();
  const leader1 = (await tc.leader())!;
  tc.agents.get(leader1)!.kill9();
  await waitFor('the held delivery abandoned by the dead leader', () => held1.abandoned);
  hook.hold = undefined;
  await waitFor('a new leader sends it again', () => hook.acceptedByKey().get(held1.key) === 1);
  tc.startAgent(leader1);
  await tc.ready(['n1', 'n2', 'n3']);

  // 2. SIGSTOP of the leader past its lease while it waits; then it resumes, deposed.
  const held2 = await holdNext();
  const leader2 = (await tc.leader())!;
  const frozen = tc.agents.get(leader2)!;
  frozen.pause();
  await waitFor('another leader while the old one is frozen', async () => {
    const l = await tc.leader();
    return l && l !== leader2 ? l : undefined;
  });
  hook.hold = undefined;
  await waitFor('the new leader sends the held alert', () => hook.acceptedByKey().get(held2.key) === 1);
  // The frozen leader's request is dropped unanswered (a receiver that gave up on it).
  hook.dropHeld();
  frozen.resume();
  await sleep(3000); // the resumed ex-leader must not send or record anything more

  // 3. etcd restart while failures keep coming.
  await tc.etcd.stop();
  await sleep(1500);
  await tc.etcd.start();
  await waitFor('a leader after the etcd restart', () => tc.leader());
  const afterRestart = hook.acceptedByKey().size;
  await waitFor(
    'alerts delivered after the etcd restart',
    () => hook.acceptedByKey().size >= afterRestart + 2,
    60_000,
  );

  // 4. kill -9 of the failing job's owner: its failures go on elsewhere, alerts with them.
  // The owner may be the leader: hold every notice first, and let a send already answered be
  // recorded, so the kill lands while nothing is between an answer and its record.
  const owner = (await tc.owner('fails'))!;
  hook.hold = () => true;
  await sleep(1000);
  tc.agents.get(owner)!.kill9();
  await sleep(500);
  hook.hold = undefined;
  hook.dropHeld();
  const beforeMove = hook.acceptedByKey().size;
  await waitFor(
    'the job failing (and alerting) on another node',
    async () => {
      const o = await tc.owner('fails');
      return o && o !== owner && hook.acceptedByKey().size >= beforeMove + 2;
    },
    60_000,
  );
  tc.startAgent(owner);
  await tc.ready(['n1', 'n2', 'n3']);

  // Stop the failures, then every failed run must have exactly one alert, delivered once.
  assert.equal(tc.cli(['job', 'pause', 'fails']).status, 0);
  await sleep(2500);
  const runs = async () =>
    (await tc.store.listRuns('fails', 500))
      .filter((r) => r.status === 'failed')
      .map((r) => `${r.id}.failure`);
  const expected = await waitFor('every failure alert delivered', async () => {
    const failed = await runs();
    const done = (await alerts()).filter((a) => a.job === 'fails' && delivered(a));
    return done.length === failed.length ? failed : undefined;
  });
  const ids = (await alerts()).filter((a) => a.job === 'fails').map((a) => a.id);
  assert.deepEqual(ids.sort(), [...expected].sort(), 'alerts in etcd = failed runs');
  const accepted = hook.acceptedByKey();
  const fromFails = [...accepted.keys()].filter((k) => k.startsWith('fails.'));
  assert.deepEqual(
    fromFails.sort(),
    expected.map((id) => `${id}:open`).sort(),
    'receiver got one alert per failure',
  );
  for (const [key, n] of accepted) assert.equal(n, 1, `${key} accepted ${n} times`);
  // The two held deliveries really were sent twice (the failover path ran), same key.
  for (const held of [held1, held2])
    assert.ok(hook.requests.filter((r) => r.key === held.key).length >= 2, `${held.key} was re-sent`);
  assert.ok(expected.length >= 6, `enough failures to mean something (${expected.length})`);
});

test('alerts resolve when the job succeeds again; consecutive failures alert once; the resolution is sent', async () => {
  const flag = tc.path('toggle.fail');
  writeFileSync(flag, '');
  tc.apply(
    `name: toggle\nkind: cron\nschedule: "* * * * * *"\ncommand: "test ! -e ${flag}"\n` +
      `alerts: { on: [failure], consecutiveFailures: 3 }\n`,
  );
  await waitFor(
    'four failures',
    async () => (await alerts()).filter((a) => a.job === 'toggle' && a.rule === 'failure').length >= 4,
  );
  rmSync(flag);
  const resolved = await waitFor('every toggle alert resolved and its resolution sent', async () => {
    const mine = (await alerts()).filter((a) => a.job === 'toggle');
    return mine.length && mine.every((a) => a.state === 'resolved' && delivered(a, 'resolved'))
      ? mine
      : undefined;
  });
  assert.equal(resolved.filter((a) => a.rule === 'consecutive-failures').length, 1);
  for (const a of resolved) assert.match(a.resolution!, /toggle succeeded again: run toggle\./);
  assert.ok(existsSync(tc.path('toggle.fail')) === false);
  const keys = hook.requests.filter((r) => r.accepted && r.key.startsWith('toggle.')).map((r) => r.key);
  assert.equal(keys.filter((k) => k.endsWith(':resolved')).length, resolved.length);
  assert.equal(new Set(keys).size, keys.length, 'each notice accepted once');
});

test('a node killed with kill -9 raises node-down, resolved when it is back; a graceful stop does not', async () => {
  const leader = (await tc.leader())!;
  const [victim, polite] = ['n1', 'n2', 'n3'].filter((n) => n !== leader);
  const node = tc.agents.get(victim)!;
  node.kill9();
  const down = await waitFor('a node-down alert delivered', async () =>
    (await alerts()).find(
      (a) => a.rule === 'node-down' && a.node === victim && a.state === 'open' && delivered(a),
    ),
  );
  assert.match(down.summary, new RegExp(`node ${victim} .* is down`));
  tc.startAgent(victim);
  await waitFor('the node-down alert resolved', async () =>
    (await alerts()).find((a) => a.id === down.id && a.state === 'resolved' && delivered(a, 'resolved')),
  );
  const p = tc.agents.get(polite)!;
  const stoppedAt = Date.now();
  p.proc.kill('SIGTERM');
  await p.exited();
  await sleep(4000); // past the 3 s lease and the 2 s threshold
  assert.deepEqual(
    (await alerts()).filter((a) => a.rule === 'node-down' && a.node === polite && a.openedAt >= stoppedAt),
    [],
  );
  tc.startAgent(polite);
  await tc.ready(['n1', 'n2', 'n3']);
});

test('dead-man’s switch: no success within the window alerts; a success resolves it', async () => {
  tc.apply(
    `name: quiet\nkind: cron\nschedule: "0 0 1 1 *"\ncommand: "true"\nalerts: { deadman: 10s, on: [] }\n`,
  );
  const dm = await waitFor(
    'a deadman alert',
    async () => (await alerts()).find((a) => a.job === 'quiet' && a.rule === 'deadman'),
    40_000,
  );
  assert.equal(dm.id, 'quiet.deadman.0');
  assert.match(dm.summary, /no successful run for .*never succeeded/);
  assert.equal(tc.cli(['job', 'run', 'quiet']).status, 0);
  await waitFor('the deadman alert resolved', async () =>
    (await alerts()).find((a) => a.id === dm.id && a.state === 'resolved'),
  );
});

test('a whole-cluster outage (every agent killed) is reported as a no-leader gap by the next leader', async () => {
  const killedAt = Date.now();
  for (const a of tc.agents.values()) a.kill9();
  await sleep(8000);
  for (const id of ['n1', 'n2', 'n3']) tc.startAgent(id);
  await tc.ready(['n1', 'n2', 'n3']);
  const gap = await waitFor('a no-leader alert delivered', async () =>
    (await alerts()).find((a) => a.rule === 'no-leader' && a.openedAt > killedAt && delivered(a)),
  );
  assert.equal(gap.state, 'resolved', 'reported after the fact');
  assert.match(gap.summary, /^the cluster had no leader for (\d+m)?\d+s \(/);
  // Reported once, whichever agent won the election.
  assert.equal((await alerts()).filter((a) => a.rule === 'no-leader' && a.openedAt > killedAt).length, 1);
});

test('peppercorn alerts: lists with delivery; resolve by hand; config errors store nothing', async () => {
  const list = tc.cli(['alerts', '--all']);
  assert.equal(list.status, 0, list.stderr);
  assert.match(list.stdout, /ALERT\s+STATE\s+RULE/);
  assert.match(list.stdout, /fails\.\d+\.1\.failure\s+open\s+failure\s+fails .* hook sent/);
  const open = (await alerts()).find((a) => a.state === 'open')!;
  const r = tc.cli(['alerts', 'resolve', open.id, '--reason', 'known issue']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal((await alerts()).find((a) => a.id === open.id)!.resolution, 'known issue');
  const before = tc.cli(['alerts', 'config', '--json']).stdout;
  const bad = tc.cli(
    ['alerts', 'config', 'apply', '-f', '-'],
    'channels:\n  x: { type: webhook, url: "nope" }\n',
  );
  assert.equal(bad.status, 2, 'invalid input');
  assert.match(bad.stderr, /channels\.x\.url: must be an http/);
  assert.match(bad.stderr, /nothing was stored/);
  assert.equal(tc.cli(['alerts', 'config', '--json']).stdout, before);
  // Not tc.cli: the receiver lives in this process and must be free to answer.
  const t = await execFileAsync(process.execPath, [CLI, 'alerts', 'test', 'hook'], { env: tc.env() });
  assert.match(t.stdout, /sent a test notice through hook \(webhook\)/);
  assert.ok(hook.requests.some((q) => q.key.startsWith('test.') && q.accepted));
});
