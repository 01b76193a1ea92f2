// An agent's Prometheus metrics, scraped from a real agent process.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { TestCluster, waitFor, AgentProc } from '../harness/cluster';

const tc = new TestCluster();
let url = '';
before(async () => {
  await tc.start();
  const a = tc.startAgent('x1', ['--metrics-port', '0']);
  await tc.ready(['x1']);
  url = await waitFor(
    'the metrics address in the log',
    () => /serving metrics on (http:\/\/\S+)\/metrics/.exec(a.log())?.[1],
  );
});
after(() => tc.stop());

test('launches, outcomes, leader and lease are exported; /healthz says the lease is live', async () => {
  tc.apply(`name: measured\nkind: cron\nschedule: "* * * * * *"\ncommand: "true"\n`);
  const text = await waitFor('two launches counted', async () => {
    const body = await (await fetch(`${url}/metrics`)).text();
    const m = /^peppercorn_launches_total\{job="measured"\} (\d+)$/m.exec(body);
    return m && Number(m[1]) >= 2 ? body : undefined;
  });
  assert.match(text, /^peppercorn_outcomes_total\{job="measured",status="succeeded"\} [1-9]\d*$/m);
  assert.match(text, /^peppercorn_leader 1$/m);
  assert.match(text, /^peppercorn_lease_live 1$/m);
  assert.match(text, /^peppercorn_launch_delay_seconds_count [1-9]\d*$/m);
  const health = await fetch(`${url}/healthz`);
  assert.equal(health.status, 200);
  await tc.store.removeJob('measured');
});

test('a metrics port in use is a clear error before the node registers', async () => {
  const port = new URL(url).port;
  const b = new AgentProc('x2', tc.path('x2'), tc.path('x2.log'), ['--metrics-port', port], tc.env());
  assert.equal(await b.exited(), 1);
  assert.match(
    b.log(),
    /cannot serve metrics on 127\.0\.0\.1:\d+: address in use; choose another --metrics-port/,
  );
  assert.equal(
    (await tc.store.listNodes()).some((n) => n.id === 'x2'),
    false,
  );
});
