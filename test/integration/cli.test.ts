// Bad input gets a clear error and loses nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { TestCluster, waitFor, AgentProc } from '../harness/cluster';
import { freePort } from '../harness/etcd';

const tc = new TestCluster();
before(() => tc.start());
after(() => tc.stop());

test('apply rejects the whole file on any invalid spec and stores nothing', async () => {
  const yaml = `name: good\nkind: cron\nschedule: "*/5 * * * *"\ncommand: "true"\n---\nname: Bad_Name\nkind: cron\nschedule: "61 * * * *"\ntimezone: Mars/Olympus\ncommand: "true"\n`;
  const r = tc.cli(['job', 'apply', '-f', '-'], yaml);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /document 2.*name/);
  assert.match(r.stderr, /Mars\/Olympus/);
  assert.match(r.stderr, /minute/);
  assert.match(r.stderr, /nothing was stored/);
  assert.deepEqual(await tc.store.listJobs(), []);
});

test('malformed YAML names the line; too few cron fields are refused', () => {
  const r = tc.cli(['job', 'apply', '-f', '-'], 'name: x\n  kind: [cron\n');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /line \d+/);
  const f = tc.cli(['job', 'apply', '-f', '-'], 'name: x\nkind: cron\nschedule: "* * *"\ncommand: "true"\n');
  assert.equal(f.status, 2);
  assert.match(f.stderr, /expected 5 or 6 fields.*got 3/);
});

test('apply reports created, updated and unchanged', () => {
  const spec = (cmd: string) => `name: apply-me\nkind: cron\nschedule: "@daily"\ncommand: ${cmd}\n`;
  assert.equal(tc.cli(['job', 'apply', '-f', '-'], spec('"true"')).stdout.trim(), 'job/apply-me created');
  assert.equal(tc.cli(['job', 'apply', '-f', '-'], spec('"true"')).stdout.trim(), 'job/apply-me unchanged');
  assert.equal(tc.cli(['job', 'apply', '-f', '-'], spec('"false"')).stdout.trim(), 'job/apply-me updated');
  const next = tc.cli(['job', 'next', 'apply-me', '-n', '3', '--json']);
  const times = JSON.parse(next.stdout) as string[];
  assert.equal(times.length, 3);
  for (const t of times) assert.match(t, /T00:00:00\.000Z$/);
  assert.equal(tc.cli(['job', 'rm', 'apply-me']).status, 0);
  const gone = tc.cli(['job', 'get', 'apply-me']);
  assert.equal(gone.status, 1);
  assert.match(gone.stderr, /no job named "apply-me"/);
});

test('an unreachable etcd is reported with the endpoints tried', async () => {
  const port = await freePort();
  const r = tc.cli(['--etcd', `127.0.0.1:${port}`, 'job', 'ls']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, new RegExp(`cannot reach etcd at http://127\\.0\\.0\\.1:${port}`));
  assert.equal(r.stderr.trim().split('\n').length, 1, 'one readable line');
});

test('a second agent with a live node id exits with a clear error', async () => {
  tc.startAgent('dup');
  await tc.ready(['dup']);
  const second = new AgentProc('dup', tc.path('dup-2'), tc.path('dup-2.log'), ['--lease-ttl', '3'], tc.env());
  const code = await second.exited();
  assert.equal(code, 1);
  assert.match(second.log(), /node id "dup" is already registered by a live agent/);
  assert.ok(tc.agents.get('dup')!.alive, 'the first agent keeps running');
});

test('a corrupt value in etcd is reported and skipped; agents keep running', async () => {
  await tc.cluster.ns.put('jobs/broken').value('{not json').exec();
  tc.apply(`name: healthy\nkind: once\ncommand: "true"\n`);
  const ls = tc.cli(['job', 'ls']);
  assert.equal(ls.status, 0);
  assert.match(ls.stdout, /healthy/);
  assert.match(ls.stderr, /corrupt value at jobs\/broken: not JSON/);
  const id = tc.cli(['job', 'run', 'healthy']).stdout.trim();
  await waitFor(
    'the healthy job to run despite the corrupt one',
    async () => (await tc.store.getRun(id))?.status === 'succeeded',
  );
  assert.ok(tc.agents.get('dup')!.alive);
  await tc.cluster.ns.delete().key('jobs/broken').exec();
});

test('import-crontab turns a crontab into specs that apply cleanly', () => {
  const file = tc.write(
    'crontab',
    'MAILTO=ops@example.com\nCRON_TZ=Europe/Paris\n# nightly\n0 2 * * * /usr/local/bin/backup.sh --all\n@reboot /bin/true\n*/15 * * * * echo hi\n',
  );
  const r = tc.cli(['import-crontab', file]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /MAILTO/);
  assert.match(r.stderr, /@reboot/);
  assert.match(r.stdout, /timezone: Europe\/Paris/);
  const applied = tc.cli(['job', 'apply', '-f', '-'], r.stdout);
  assert.equal(applied.status, 0, applied.stderr);
  assert.equal(applied.stdout.trim().split('\n').length, 2);
});

test('graceful shutdown hands the jobs back and releases the lease at once', async () => {
  const a = tc.startAgent('grace');
  await tc.ready(['grace', 'dup']);
  tc.apply(
    `name: sticky\nkind: cron\nschedule: "0 0 1 1 *"\ncommand: "true"\n---\nname: sticky2\nkind: cron\nschedule: "0 0 1 1 *"\ncommand: "true"\n`,
  );
  await waitFor('jobs on both nodes', async () => {
    const owners = new Set((await tc.store.listJobs()).map((j) => j.owner));
    return owners.has('grace');
  });
  a.proc.kill('SIGTERM');
  assert.equal(await a.exited(), 0);
  const nodes = await tc.store.listNodes();
  assert.equal(
    nodes.find((n) => n.id === 'grace')?.alive,
    false,
    'the lease was released, not left to expire',
  );
  await waitFor('its jobs moved to the other node', async () =>
    (await tc.store.listJobs())
      .filter((j) => j.spec.name.startsWith('sticky'))
      .every((j) => j.owner === 'dup'),
  );
  // A node that is gone for good can be forgotten; a live one cannot.
  const live = tc.cli(['node', 'forget', 'dup']);
  assert.equal(live.status, 1);
  assert.match(live.stderr, /node "dup" is alive; stop its agent first/);
  const forgot = tc.cli(['node', 'forget', 'grace']);
  assert.equal(forgot.status, 0, forgot.stderr);
  assert.equal(
    (await tc.store.listNodes()).find((n) => n.id === 'grace'),
    undefined,
  );
  assert.ok((await tc.store.listNodes()).some((n) => n.id === 'dup' && n.alive));
});
