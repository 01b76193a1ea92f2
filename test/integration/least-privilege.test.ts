// Least privilege on a real etcd with authentication on, set up with etcdctl from the commands
// `peppercorn etcd-roles` prints: an agent whose etcd user cannot write jobs/ runs jobs
// normally and cannot change one; a viewer's console reads everything and changes nothing,
// with a message saying why; the audit trail names the etcd user who made each change.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AgentProc, TestCluster, waitFor } from '../harness/cluster';
import { connect } from '../../agent/core/etcd';
import { Store } from '../../agent/api/store';
import { keys } from '../../agent/core/keys';
import { servicesFor } from '../../agent/console/server/services';
import type { AuditEntry } from '../../agent/core/audit';

const tc = new TestCluster();
const ROOT_AUTH = { user: 'root', password: 'root-pw' };
const USERS = {
  ops: { password: 'ops-pw', role: 'peppercorn-operator' },
  agent1: { password: 'agent-pw', role: 'peppercorn-agent' },
  viewer: { password: 'viewer-pw', role: 'peppercorn-viewer' },
};
type UserName = keyof typeof USERS;
let agent: AgentProc;

function envAs(user: UserName): NodeJS.ProcessEnv {
  return {
    ...TestCluster.prototype.env.call(tc),
    PEPPERCORN_USER: user,
    PEPPERCORN_PASSWORD: USERS[user].password,
  };
}

function cliAs(user: UserName, args: string[], input?: string) {
  const saved = tc.env;
  tc.env = () => envAs(user);
  try {
    return tc.cli(args, input);
  } finally {
    tc.env = saved;
  }
}

before(async () => {
  await tc.start();
  const script = tc.cli(['etcd-roles']).stdout;
  for (const line of script.split('\n').filter((l) => l.startsWith('etcdctl ')))
    tc.etcd.etcdctl(line.split(' ').slice(1));
  tc.etcd.etcdctl(['user', 'add', `root:${ROOT_AUTH.password}`, '--interactive=false']);
  tc.etcd.etcdctl(['user', 'grant-role', 'root', 'root']);
  for (const [name, u] of Object.entries(USERS)) {
    tc.etcd.etcdctl(['user', 'add', `${name}:${u.password}`, '--interactive=false']);
    tc.etcd.etcdctl(['user', 'grant-role', name, u.role]);
  }
  tc.etcd.etcdctl(['auth', 'enable']);
  // The harness's own client reads as root from now on.
  tc.cluster.close();
  tc.cluster = connect({ endpoints: [tc.etcd.endpoint], prefix: tc.prefix, ...rootOpts() });
  tc.store = new Store(tc.cluster);
  agent = new AgentProc(
    'lp1',
    join(tc.dir, 'lp1'),
    join(tc.dir, 'lp1.log'),
    ['--lease-ttl', '3', '--history-window', '1s'],
    envAs('agent1'),
  );
  tc.agents.set('lp1', agent);
  await tc.ready(['lp1']);
});
after(() => tc.stop());

function rootOpts() {
  return { user: ROOT_AUTH.user, password: ROOT_AUTH.password };
}

const job = (name: string, cmd = 'echo ran') =>
  `name: ${name}\nschedule: "* * * * * *"\ncommand: ${cmd} >> ${tc.path(`${name}.out`)}\n`;

test('an agent whose etcd user cannot write jobs/ runs jobs normally, compaction included', async () => {
  const r = cliAs('ops', ['job', 'apply', '-f', '-'], job('scoped'));
  assert.equal(r.status, 0, r.stderr);
  await waitFor('the job to run on the scoped agent', () => existsSync(tc.path('scoped.out')));
  await waitFor('a succeeded run record', async () =>
    (await tc.store.listRuns('scoped', 50)).some((x) => x.status === 'succeeded'),
  );
  // etcd 3.4 lets any authenticated user compact: the scoped leader keeps etcd's history
  // bounded itself (an etcd that refuses gets a single warning and no retries: leader.ts).
  await waitFor('the scoped leader to compact', () => /compacted etcd history/.test(agent.log()));
  assert.doesNotMatch(agent.log(), /compaction (skipped|failed)/);
  // Nothing else the agent does was refused.
  assert.doesNotMatch(agent.log(), /permission denied/i);
});

test("the agent's etcd user cannot change a job, and is told why", async () => {
  const before = await tc.cluster.ns.get(keys.job('scoped')).string();
  const apply = cliAs('agent1', ['job', 'apply', '-f', '-'], job('scoped', 'echo evil'));
  assert.equal(apply.status, 1);
  assert.match(apply.stderr, /the etcd user agent1 lacks write permission to make this change/);
  for (const args of [
    ['job', 'pause', 'scoped'],
    ['job', 'rm', 'scoped'],
  ]) {
    const r = cliAs('agent1', args);
    assert.equal(r.status, 1, args.join(' '));
    assert.match(r.stderr, /lacks write permission/);
  }
  assert.equal(await tc.cluster.ns.get(keys.job('scoped')).string(), before, 'the job is unchanged');
  // Nor the alerting config.
  const alerting = cliAs('agent1', ['alerts', 'config', 'apply', '-f', '-'], 'channels: {}\n');
  assert.equal(alerting.status, 1);
  assert.match(alerting.stderr, /lacks write permission/);
});

test('a read-only console user sees everything and can change nothing', async () => {
  const services = servicesFor({
    endpoints: [tc.etcd.endpoint],
    prefix: tc.prefix,
    user: 'viewer',
    password: USERS.viewer.password,
  });
  services.start();
  try {
    const jobs = await waitFor('the viewer to see the job', async () => {
      const list = (await services.call('jobs.list', [])) as { name: string }[];
      return list.some((j) => j.name === 'scoped') && list;
    });
    assert.ok(jobs.length >= 1);
    const detail = (await services.call('jobs.get', ['scoped'])) as { spec: { name: string } };
    assert.equal(detail.spec.name, 'scoped');
    assert.ok(((await services.call('runs.list', ['scoped', 10])) as unknown[]).length > 0);
    assert.ok(((await services.call('nodes.list', [])) as unknown[]).length > 0);
    assert.ok(((await services.call('jobs.history', ['scoped'])) as unknown[]).length > 0);
    const before = await tc.cluster.ns.get(keys.job('scoped')).string();
    const mutations: [string, unknown[]][] = [
      ['jobs.pause', ['scoped']],
      ['jobs.remove', ['scoped']],
      ['jobs.trigger', ['scoped']],
      ['jobs.apply', [{ name: 'scoped', schedule: '* * * * * *', command: 'echo evil' }]],
      ['jobs.apply', [{ name: 'viewer-made', schedule: '@daily', command: 'true' }]],
    ];
    for (const [name, args] of mutations)
      await assert.rejects(
        services.call(name, args),
        /the etcd user viewer lacks write permission to make this change; this is a read-only connection/,
        name,
      );
    assert.equal(await tc.cluster.ns.get(keys.job('scoped')).string(), before);
    assert.equal(await tc.cluster.ns.get(keys.job('viewer-made')).string(), null);
  } finally {
    services.close();
  }
});

test('the audit trail names the etcd user of each change', async () => {
  const r = cliAs('ops', ['job', 'pause', 'scoped']);
  assert.equal(r.status, 0, r.stderr);
  const entries = JSON.parse(cliAs('viewer', ['job', 'history', 'scoped', '--json']).stdout) as AuditEntry[];
  assert.deepEqual(
    entries.map((e) => [e.action, e.etcdUser]),
    [
      ['paused', 'ops'],
      ['created', 'ops'],
    ],
  );
});
