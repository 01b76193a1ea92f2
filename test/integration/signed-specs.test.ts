// Signed job specs with real agents: nodes with trustedKeys run what a trusted key signed
// and refuse everything else — unsigned, signed by another key, changed after signing —
// each node with a run record and an alert, once per spec revision. The audit trail names
// who changed what. The oracle for "ran" is the command's own output file.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { TestCluster, waitFor, sleep } from '../harness/cluster';
import { keys } from '../../agent/core/keys';
import type { AlertRecord, RunRecord } from '../../agent/core/records';
import { listAlerts } from '../../agent/api/alert-store';
import type { AuditEntry } from '../../agent/core/audit';
import { servicesFor } from '../../agent/console/server/services';

const tc = new TestCluster();
let opsKey = '';
let opsPub = '';
let opsId = '';
let otherKey = '';
let otherId = '';
const NODES = ['s1', 's2', 's3'];

function keygen(name: string): { key: string; pub: string; id: string } {
  const r = tc.cli(['keys', 'generate', '--out', tc.path(name), '--json']);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { keyId: string; publicKey: string };
  return { key: tc.path(name), pub: out.publicKey, id: out.keyId };
}

before(async () => {
  await tc.start();
  ({ key: opsKey, pub: opsPub, id: opsId } = keygen('ops.key'));
  ({ key: otherKey, id: otherId } = keygen('other.key'));
  for (const id of NODES) tc.startAgent(id, ['--trusted-keys', opsPub]);
  await tc.ready(NODES);
});
after(() => tc.stop());

const spec = (name: string, file: string) =>
  `name: ${name}\nschedule: "* * * * * *"\ncommand: echo ran >> ${tc.path(file)}\n`;

function applySigned(yaml: string, keyFile: string): void {
  const r = tc.cli(['job', 'apply', '-f', '-', '--sign-key', keyFile], yaml);
  assert.equal(r.status, 0, r.stderr);
}

/** Waits for a non-empty list. */
async function some<T>(what: string, list: () => Promise<T[]>): Promise<T[]> {
  return waitFor(what, async () => {
    const l = await list();
    return l.length > 0 && l;
  });
}

async function refusals(job: string): Promise<RunRecord[]> {
  return (await tc.store.listRuns(job, 1000)).filter((r) => r.reason?.startsWith('refused:'));
}

async function refusedAlerts(job: string): Promise<AlertRecord[]> {
  return (await listAlerts(tc.cluster, {}, () => undefined)).filter(
    (a) => a.job === job && a.rule === 'refused',
  );
}

test('a spec signed by a trusted key runs; job get shows the key id', async () => {
  applySigned(spec('signed-ok', 'signed-ok.out'), opsKey);
  await waitFor('the signed job to run', () => existsSync(tc.path('signed-ok.out')));
  const got = tc.cli(['job', 'get', 'signed-ok']);
  assert.match(got.stdout, new RegExp(`^# signed by key ${opsId}`));
  assert.equal(JSON.parse(tc.cli(['job', 'get', 'signed-ok', '--json']).stdout).signedBy, opsId);
  assert.deepEqual(await refusals('signed-ok'), []);
  // Pausing needs no key and keeps the signature valid: resumed, it runs again.
  assert.equal(tc.cli(['job', 'pause', 'signed-ok']).status, 0);
  assert.equal(tc.cli(['job', 'resume', 'signed-ok']).status, 0);
  const runsBefore = (await tc.store.listRuns('signed-ok', 1000)).filter(
    (r) => r.status === 'succeeded',
  ).length;
  await waitFor(
    'runs after resume',
    async () =>
      (await tc.store.listRuns('signed-ok', 1000)).filter((r) => r.status === 'succeeded').length >
      runsBefore + 1,
  );
  assert.deepEqual(await refusals('signed-ok'), []);
  await tc.store.removeJob('signed-ok');
});

test('unsigned and foreign-signed specs are refused with a run record and an alert, and never run', async () => {
  tc.apply(spec('unsigned', 'unsigned.out'));
  applySigned(spec('foreign', 'foreign.out'), otherKey);
  const [u] = await some('the unsigned spec refused', () => refusals('unsigned'));
  assert.equal(u.status, 'skipped');
  assert.match(u.reason!, /spec not signed by a trusted key \(it is unsigned\)/);
  const [f] = await some('the foreign spec refused', () => refusals('foreign'));
  assert.match(f.reason!, new RegExp(`spec not signed by a trusted key \\(key id ${otherId} is not among`));
  const [ua] = await some('the refusal alert', () => refusedAlerts('unsigned'));
  assert.equal(ua.state, 'open');
  assert.match(ua.summary, /unsigned: node s\d refuses to run it — spec not signed by a trusted key/);
  assert.equal(ua.run, u.id);
  // Once per spec revision, not once per scheduled second.
  await sleep(3000);
  assert.equal((await refusals('unsigned')).length, 1);
  assert.equal((await refusedAlerts('unsigned')).length, 1);
  assert.equal((await refusals('foreign')).length, 1);
  assert.equal(existsSync(tc.path('unsigned.out')), false, 'the unsigned command ran');
  assert.equal(existsSync(tc.path('foreign.out')), false, 'the foreign-signed command ran');
  // Signed properly, it runs; the refusal alert resolves with its first success.
  applySigned(spec('unsigned', 'unsigned.out'), opsKey);
  await waitFor('the re-signed job to run', () => existsSync(tc.path('unsigned.out')));
  await waitFor(
    'the refusal alert resolved',
    async () => (await refusedAlerts('unsigned'))[0]?.state === 'resolved',
  );
  for (const j of ['unsigned', 'foreign']) await tc.store.removeJob(j);
});

test('a spec changed in etcd after signing is refused by every node it lands on', async () => {
  applySigned(spec('tampered', 'tampered-signed.out'), opsKey);
  await waitFor('the signed version to run', () => existsSync(tc.path('tampered-signed.out')));
  // Someone with write access to etcd swaps the command and keeps the signature.
  const kv = (await tc.cluster.ns.get(keys.job('tampered')).exec()).kvs[0];
  const stored = JSON.parse(kv.value.toString()) as Record<string, unknown>;
  await tc.cluster.ns
    .put(keys.job('tampered'))
    .value(JSON.stringify({ ...stored, command: `echo pwned >> ${tc.path('tampered.out')}` }))
    .exec();
  const refusedOn = new Set<string>();
  for (let i = 0; i < NODES.length; i++) {
    const list = await waitFor(`a refusal on a new node (${[...refusedOn].join(', ')} so far)`, async () => {
      const r = await refusals('tampered');
      return r.length > refusedOn.size && r;
    });
    for (const r of list) {
      assert.match(r.reason!, new RegExp(`signature of key id ${opsId} does not match the spec`));
      refusedOn.add(r.node);
    }
    // Move the job on: drain the node that refused it, so the next one gets it.
    const owner = await tc.owner('tampered');
    if (refusedOn.size < NODES.length && owner) {
      assert.equal(tc.cli(['node', 'drain', owner]).status, 0);
      await waitFor('the job to move', async () => (await tc.owner('tampered')) !== owner);
    }
  }
  assert.deepEqual([...refusedOn].sort(), NODES);
  assert.equal((await refusedAlerts('tampered')).length, NODES.length, 'one alert per node');
  assert.equal(existsSync(tc.path('tampered.out')), false, 'the tampered command ran');
  for (const n of NODES) tc.cli(['node', 'uncordon', n]);
  await tc.store.removeJob('tampered');
});

test('the audit trail names who changed what, with the signing key', async () => {
  applySigned(spec('audited', 'audited.out'), opsKey);
  tc.apply(spec('audited', 'audited.out').replace('echo ran', 'echo changed'));
  assert.equal(tc.cli(['job', 'pause', 'audited']).status, 0);
  assert.equal(tc.cli(['job', 'rm', 'audited']).status, 0);
  const r = tc.cli(['job', 'history', 'audited', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const entries = JSON.parse(r.stdout) as AuditEntry[];
  assert.deepEqual(
    entries.map((e) => e.action),
    ['deleted', 'paused', 'updated', 'created'],
  );
  const [deleted, paused, updated, created] = entries;
  assert.equal(created.keyId, opsId);
  assert.equal(updated.keyId, null, 'applied without a key: unsigned');
  const cmd = updated.changes.find((c) => c.field === 'command');
  assert.ok(cmd, JSON.stringify(updated.changes));
  assert.match(cmd.before!, /echo ran/);
  assert.match(cmd.after!, /echo changed/);
  assert.ok(updated.changes.some((c) => c.field === 'signature' && /unsigned/.test(c.after!)));
  assert.deepEqual(paused.changes, [{ field: 'paused', before: 'false', after: 'true' }]);
  assert.ok(deleted.changes.some((c) => c.field === 'command' && c.after === undefined));
  for (const e of entries) {
    assert.ok(e.osUser && e.host, 'names the OS user and host');
    assert.equal(e.etcdUser, null, 'no etcd auth in this cluster');
  }
  const text = tc.cli(['job', 'history', 'audited']).stdout;
  assert.match(text, /updated .*command: ".*echo ran.*" → ".*echo changed/);
});

test('the console signs what it applies with the key kept for its cluster', async () => {
  const services = servicesFor({ endpoints: [tc.etcd.endpoint], prefix: tc.prefix }, 'test', opsKey);
  services.start();
  try {
    const res = (await services.call('jobs.apply', [
      {
        name: 'from-console',
        schedule: '* * * * * *',
        command: `echo ran >> ${tc.path('from-console.out')}`,
      },
    ])) as { result: string };
    assert.equal(res.result, 'created');
    const detail = (await services.call('jobs.get', ['from-console'])) as { signedBy: string };
    assert.equal(detail.signedBy, opsId);
    await waitFor('the console-signed job to run', () => existsSync(tc.path('from-console.out')));
    assert.deepEqual(await refusals('from-console'), []);
  } finally {
    services.close();
  }
  await tc.store.removeJob('from-console');
});
