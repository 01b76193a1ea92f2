// The agent's metrics endpoint against a fake agent (events and stats only; no etcd).
import { EtcdWrites } from '../../agent/node/etcd-writes';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { createServer } from 'node:net';
import { spawnSync } from 'node:child_process';
import { startMetrics, type MetricsAgent } from '../../agent/metrics/agent-metrics';
import type { RunRecord } from '../../agent/core/records';
import { VERSION } from '../../agent/version';
import type { Entry } from '../../agent/core/mirror';

class FakeMembership extends EventEmitter {
  live = true;
  readonly id = 'node-a';
  isLive(): boolean {
    return this.live;
  }
}

class FakeScheduler extends EventEmitter {
  readonly stats = { claims: 0, launches: 0, skippedRanges: 0, claimConflicts: 0, etcdErrors: 0 };
  running = 0;
  owned: string[] = [];
  runningCount(): number {
    return this.running;
  }
  ownedJobs(): string[] {
    return this.owned;
  }
  readonly writes = new EtcdWrites();
  readonly outputBudget = { droppedBytes: 0, evictedBuckets: 0 };
}

/** A mirror's entries, as the metrics read them: key → { key, value }. */
function entries(values: Record<string, object>) {
  const m = new Map<string, Entry>();
  for (const [key, v] of Object.entries(values))
    m.set(key, { key, value: Buffer.from(JSON.stringify(v)), createRevision: 1, modRevision: 1, lease: '0' });
  return { entries: m };
}

const job = (name: string, over: object = {}) => ({
  name,
  kind: 'cron',
  schedule: '0 3 * * *',
  command: 'true',
  ...over,
});

function fakeAgent() {
  const agent = {
    membership: new FakeMembership(),
    leader: { isLeader: false, alertSender: new EventEmitter() },
    scheduler: new FakeScheduler(),
    views: {
      jobs: entries({
        'jobs/backup': job('backup'),
        'jobs/report': job('report', { paused: true }),
        'jobs/never': job('never', { kind: 'once' }),
      }),
      completions: entries({
        'completions/backup': {
          run: 'backup.9.1',
          status: 'failed',
          endedAt: 9000,
          lastSuccessAt: 5000,
          lastFailureAt: 9000,
        },
        'completions/report': { run: 'report.4.1', status: 'succeeded', endedAt: 4000, lastSuccessAt: 4000 },
      }),
    },
  };
  const typed: MetricsAgent = agent;
  return { agent, typed };
}

const run = (over: Partial<RunRecord>): RunRecord => ({
  id: 'r',
  job: 'backup',
  node: 'node-a',
  epoch: 1,
  attempt: 1,
  cause: 'schedule',
  scheduledAt: 0,
  claimedAt: 0,
  status: 'running',
  ...over,
});

/** Sample value of one series from the text, or undefined. */
function sample(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    if (line.slice(0, i) === series) return Number(line.slice(i + 1));
  }
  return undefined;
}

const quiet = () => undefined;

test('GET /metrics reports events, stats and gauges', async (t) => {
  const { agent, typed } = fakeAgent();
  const logs: string[] = [];
  const srv = await startMetrics(typed, { port: 0, host: '127.0.0.1', log: (m) => logs.push(m) });
  t.after(() => srv.close());
  assert.ok(srv.port > 0);
  assert.ok(logs.some((l) => l.includes(`127.0.0.1:${srv.port}/metrics`)));
  const s = agent.scheduler;

  s.emit('launched', run({ id: 'r1' }), 3); // 3 ms late
  s.emit('launched', run({ id: 'r2' }), 300);
  s.emit('launched', run({ id: 'r3', job: 'report' }), 20_000);
  s.emit('outcome', run({ id: 'r1', status: 'succeeded', startedAt: 1000, endedAt: 3500 }));
  s.emit('outcome', run({ id: 'r2', status: 'failed', startedAt: 1000, endedAt: 1050 }));
  s.emit('outcome', run({ id: 'r4', job: 'report', status: 'skipped', count: 12, node: '' }));
  s.emit('outcome', run({ id: 'r5', job: 'report', status: 'lost' }));
  Object.assign(s.stats, { claims: 5, claimConflicts: 2, etcdErrors: 1, skippedRanges: 1, launches: 3 });
  s.running = 2;
  s.owned = ['backup', 'report', 'x'];
  agent.leader.isLeader = true;
  const alert = { openedAt: 1000 };
  agent.leader.alertSender.emit('delivered', alert, { channel: 'ops', event: 'open', doneAt: 1400 });
  agent.leader.alertSender.emit('delivered', alert, { channel: 'ops', event: 'resolved', doneAt: 9000 });
  agent.leader.alertSender.emit('failed', alert, { channel: 'mail', event: 'open', doneAt: 2000 });

  const res = await fetch(`http://127.0.0.1:${srv.port}/metrics`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
  const text = await res.text();
  const v = (series: string) => sample(text, series);

  assert.equal(v(`peppercorn_node_info{node="node-a",version="${VERSION}",runtime="${process.version}"}`), 1);
  // The process and the Node runtime, from prom-client's default collectors.
  assert.ok(v('nodejs_eventloop_lag_seconds')! >= 0);
  assert.ok(v('nodejs_eventloop_lag_p99_seconds')! >= 0);
  assert.ok(v('process_resident_memory_bytes')! > 0);
  assert.match(
    text,
    /^nodejs_version_info\{version="v\d+\.\d+\.\d+",major="\d+",minor="\d+",patch="\d+"\} 1$/m,
  );
  // Per-job timestamps, served while this node leads.
  assert.equal(v('peppercorn_job_last_success_timestamp_seconds{job="backup"}'), 5);
  assert.equal(v('peppercorn_job_last_failure_timestamp_seconds{job="backup"}'), 9);
  assert.equal(v('peppercorn_job_last_success_timestamp_seconds{job="report"}'), 4);
  assert.equal(v('peppercorn_job_last_failure_timestamp_seconds{job="report"}'), undefined);
  const next = v('peppercorn_job_next_scheduled_timestamp_seconds{job="backup"}')!;
  assert.ok(next > Date.now() / 1000 && next % 86400 === 3 * 3600, `next 03:00 UTC, got ${next}`);
  // Paused: no next time; a once job without `at` is never launched by the clock.
  assert.equal(v('peppercorn_job_next_scheduled_timestamp_seconds{job="report"}'), undefined);
  assert.equal(v('peppercorn_job_next_scheduled_timestamp_seconds{job="never"}'), undefined);
  assert.equal(v('peppercorn_launches_total{job="backup"}'), 2);
  assert.equal(v('peppercorn_launches_total{job="report"}'), 1);
  assert.equal(v('peppercorn_outcomes_total{job="backup",status="succeeded"}'), 1);
  assert.equal(v('peppercorn_outcomes_total{job="backup",status="failed"}'), 1);
  assert.equal(v('peppercorn_outcomes_total{job="report",status="skipped"}'), 1);
  assert.equal(v('peppercorn_outcomes_total{job="report",status="lost"}'), 1);
  assert.equal(v('peppercorn_skipped_times_total{job="report"}'), 12);

  assert.equal(v('peppercorn_launch_delay_seconds_bucket{le="0.005"}'), 1);
  assert.equal(v('peppercorn_launch_delay_seconds_bucket{le="0.25"}'), 1);
  assert.equal(v('peppercorn_launch_delay_seconds_bucket{le="0.5"}'), 2);
  assert.equal(v('peppercorn_launch_delay_seconds_bucket{le="10"}'), 2);
  assert.equal(v('peppercorn_launch_delay_seconds_bucket{le="+Inf"}'), 3);
  assert.equal(v('peppercorn_launch_delay_seconds_count'), 3);
  assert.equal(v('peppercorn_launch_delay_seconds_sum'), 20.303);

  assert.equal(v('peppercorn_run_duration_seconds_bucket{job="backup",le="0.1"}'), 1);
  assert.equal(v('peppercorn_run_duration_seconds_bucket{job="backup",le="1"}'), 1);
  assert.equal(v('peppercorn_run_duration_seconds_bucket{job="backup",le="5"}'), 2);
  assert.equal(v('peppercorn_run_duration_seconds_sum{job="backup"}'), 2.55);
  assert.equal(v('peppercorn_run_duration_seconds_count{job="backup"}'), 2);
  // Skipped and lost runs never started: no duration.
  assert.equal(v('peppercorn_run_duration_seconds_count{job="report"}'), undefined);

  assert.equal(v('peppercorn_alert_notices_total{channel="ops",event="open",result="delivered"}'), 1);
  assert.equal(v('peppercorn_alert_notices_total{channel="ops",event="resolved",result="delivered"}'), 1);
  assert.equal(v('peppercorn_alert_notices_total{channel="mail",event="open",result="failed"}'), 1);
  // Only open notices time the delivery: raised at 1000, delivered at 1400.
  assert.equal(v('peppercorn_alert_delivery_seconds_count'), 1);
  assert.equal(v('peppercorn_alert_delivery_seconds_bucket{le="0.25"}'), 0);
  assert.equal(v('peppercorn_alert_delivery_seconds_bucket{le="0.5"}'), 1);

  assert.equal(v('peppercorn_claims_total'), 5);
  assert.equal(v('peppercorn_claim_conflicts_total'), 2);
  assert.equal(v('peppercorn_etcd_errors_total'), 1);
  assert.equal(v('peppercorn_skipped_ranges_total'), 1);
  assert.equal(v('peppercorn_runs_in_flight'), 2);
  assert.equal(v('peppercorn_jobs_owned'), 3);
  assert.equal(v('peppercorn_leader'), 1);
  assert.equal(v('peppercorn_lease_live'), 1);
  assert.match(text, /^# TYPE peppercorn_launch_delay_seconds histogram$/m);
  assert.match(text, /^# TYPE peppercorn_claims_total counter$/m);
  assert.match(text, /^# TYPE peppercorn_runs_in_flight gauge$/m);

  // Gauges follow the agent at each scrape; lease events are counted.
  agent.leader.isLeader = false;
  agent.membership.live = false;
  agent.membership.emit('suspended');
  const again = await (await fetch(`http://127.0.0.1:${srv.port}/metrics?x=1`)).text();
  assert.equal(sample(again, 'peppercorn_leader'), 0);
  assert.equal(sample(again, 'peppercorn_lease_live'), 0);
  assert.equal(sample(again, 'peppercorn_lease_events_total{event="suspended"}'), 1);
  assert.equal(sample(again, 'peppercorn_lease_events_total{event="lost"}'), 0);
  // No longer leader: the per-job series are gone (only the leader serves them).
  assert.doesNotMatch(again, /^peppercorn_job_last_success_timestamp_seconds\{/m);
});

test('/healthz follows the lease; other paths 404; other methods 405', async (t) => {
  const { agent, typed } = fakeAgent();
  const srv = await startMetrics(typed, { port: 0, host: '127.0.0.1', log: quiet });
  t.after(() => srv.close());
  const base = `http://127.0.0.1:${srv.port}`;
  let res = await fetch(`${base}/healthz`);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { status: 'ok', version: VERSION, node: 'node-a' });
  agent.membership.live = false;
  res = await fetch(`${base}/healthz`);
  assert.equal(res.status, 503);
  assert.deepEqual(await res.json(), { status: 'lease not live', version: VERSION, node: 'node-a' });
  res = await fetch(`${base}/nope`);
  assert.equal(res.status, 404);
  await res.text();
  res = await fetch(`${base}/metrics`, { method: 'POST', body: 'x' });
  assert.equal(res.status, 405);
  await res.text();
});

test('/healthz turns unhealthy while etcd refuses writes, and says why', async (t) => {
  const { agent, typed } = fakeAgent();
  const srv = await startMetrics(typed, { port: 0, host: '127.0.0.1', log: quiet });
  t.after(() => srv.close());
  const base = `http://127.0.0.1:${srv.port}`;
  const writes = agent.scheduler.writes;
  writes.failed(new Error('etcdserver: mvcc: database space exceeded'), Date.now() - 6000);
  let res = await fetch(`${base}/healthz`);
  assert.equal(res.status, 503);
  assert.match(await res.text(), /etcd is full \(database space exceeded\)/);
  const text = await (await fetch(`${base}/metrics`)).text();
  assert.equal(sample(text, 'peppercorn_etcd_writable'), 0);
  writes.ok();
  res = await fetch(`${base}/healthz`);
  assert.equal(res.status, 200);
  await res.text();
});

test('a port in use rejects with a readable message', async (t) => {
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  t.after(() => blocker.close());
  const port = (blocker.address() as { port: number }).port;
  const { agent, typed } = fakeAgent();
  await assert.rejects(
    startMetrics(typed, { port, host: '127.0.0.1', log: quiet }),
    new Error(`cannot serve metrics on 127.0.0.1:${port}: address in use; choose another --metrics-port`),
  );
  await assert.rejects(
    startMetrics(typed, { port: 70000, host: '127.0.0.1', log: quiet }),
    /--metrics-port must be 0 to 65535/,
  );
  // A failed start leaves no listeners behind on the agent.
  assert.equal(agent.scheduler.listenerCount('launched'), 0);
  assert.equal(agent.scheduler.listenerCount('outcome'), 0);
  assert.equal(agent.membership.listenerCount('lost'), 0);
});

test('close() stops serving and detaches from the agent', async () => {
  const { agent, typed } = fakeAgent();
  const srv = await startMetrics(typed, { port: 0, host: '127.0.0.1', log: quiet });
  const res = await fetch(`http://127.0.0.1:${srv.port}/metrics`); // leaves a keep-alive socket
  await res.text();
  assert.equal(agent.scheduler.listenerCount('launched'), 1);
  await srv.close();
  await srv.close(); // idempotent
  assert.equal(agent.scheduler.listenerCount('launched'), 0);
  assert.equal(agent.membership.listenerCount('suspended'), 0);
  await assert.rejects(fetch(`http://127.0.0.1:${srv.port}/metrics`));
});

test('job label cardinality is capped', async (t) => {
  const { agent, typed } = fakeAgent();
  const srv = await startMetrics(typed, { port: 0, host: '127.0.0.1', log: quiet, maxSeries: 2 });
  t.after(() => srv.close());
  for (const job of ['a', 'b', 'c', 'd']) agent.scheduler.emit('launched', run({ job }), 1);
  const text = await (await fetch(`http://127.0.0.1:${srv.port}/metrics`)).text();
  assert.equal(text.match(/^peppercorn_launches_total\{/gm)?.length, 2);
  assert.equal(
    sample(text, 'peppercorn_metrics_dropped_series_total{metric="peppercorn_launches_total"}'),
    2,
  );
});

test('promtool check metrics finds nothing wrong with a scrape', async (t) => {
  const promtool = spawnSync('sh', ['-c', 'command -v promtool'], { encoding: 'utf8' }).stdout.trim();
  if (!promtool) {
    // Reported as skipped, with what to install: never a silent pass.
    t.skip('promtool is missing: apt-get install prometheus');
    return;
  }
  const { agent, typed } = fakeAgent();
  agent.leader.isLeader = true;
  const srv = await startMetrics(typed, { port: 0, host: '127.0.0.1', log: quiet });
  t.after(() => srv.close());
  agent.scheduler.emit('launched', run({ id: 'r1' }), 3);
  agent.scheduler.emit('outcome', run({ id: 'r1', status: 'succeeded', startedAt: 1000, endedAt: 3500 }));
  const text = await (await fetch(`http://127.0.0.1:${srv.port}/metrics`)).text();
  const r = spawnSync(promtool, ['check', 'metrics'], { input: text, encoding: 'utf8' });
  assert.equal(`${r.stdout}${r.stderr}`.trim(), '');
  assert.equal(r.status, 0);
  // It does find problems: a counter without _total is reported.
  const bad = spawnSync(promtool, ['check', 'metrics'], {
    input: '# HELP x_count a\n# TYPE x_count counter\nx_count 1\n',
    encoding: 'utf8',
  });
  assert.notEqual(`${bad.stdout}${bad.stderr}`.trim(), '');
});
