// The console's live picture at scale, against a real etcd: 10,000 jobs with 20 runs each.
// What is held stays per job, never per run (structures are counted, not timed), and the
// cluster.watch stream sends one snapshot, then deltas that rebuild the same picture.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { TestEtcd } from '../harness/etcd';
import { waitFor } from '../harness/cluster';
import { connect, type Cluster } from '../../agent/core/etcd';
import { keys } from '../../agent/core/keys';
import { ClusterLive, FAILURES_KEPT } from '../../agent/console/server/live';
import type { NodeRecord, RunRecord } from '../../agent/core/records';
import { servicesFor, type ConsoleServices } from '../../agent/console/server/services';
import { applyClusterEvent } from '../../agent/console/contract/cluster-delta';
import type { ClusterDelta, ClusterEvent, ClusterSnapshot } from '../../agent/console/contract';

const JOBS = 10_000;
const RUNS = 20;
const PREFIX = '/pc-scale/';
const etcd = new TestEtcd();
let cluster: Cluster;
const now = Date.now();

const run = (job: string, k: number, status: RunRecord['status']): RunRecord => {
  const t = now - 30 * 60_000 + k * 1000;
  return {
    id: `${job}.${t}.1`,
    job,
    node: 'n1',
    epoch: 1,
    attempt: 1,
    cause: 'schedule',
    scheduledAt: t,
    claimedAt: t,
    startedAt: t,
    endedAt: t + 10,
    status,
  };
};
/** Every hundredth job's latest run failed; everything else succeeded. */
const statusOf = (j: number, k: number) => (k === RUNS - 1 && j % 100 === 0 ? 'failed' : 'succeeded');

async function putAll(kvs: [string, string][]): Promise<void> {
  const batches: [string, string][][] = [];
  for (let i = 0; i < kvs.length; i += 120) batches.push(kvs.slice(i, i + 120));
  // A few transactions in flight at once: 2 cores, shared.
  const next = async (): Promise<void> => {
    const b = batches.shift();
    if (!b) return;
    await cluster.ns
      .if(b[0][0], 'Version', '>', -1)
      .then(...b.map(([k, v]) => cluster.ns.put(k).value(v)))
      .commit();
    return next();
  };
  await Promise.all([next(), next(), next(), next()]);
}

before(async () => {
  await etcd.start();
  cluster = connect({ endpoints: [etcd.endpoint], prefix: PREFIX, callTimeoutMs: 30_000 });
  for (let from = 0; from < JOBS; from += 1000) {
    const kvs: [string, string][] = [];
    for (let j = from; j < from + 1000; j++) {
      const name = `job-${String(j).padStart(5, '0')}`;
      kvs.push([
        keys.job(name),
        JSON.stringify({
          name,
          kind: 'once',
          command: 'true',
          timezone: 'UTC',
          env: {},
          selector: {},
          policy: 'at-most-once',
          paused: false,
        }),
      ]);
      for (let k = 0; k < RUNS; k++) {
        const r = run(name, k, statusOf(j, k));
        kvs.push([keys.run({ job: name, scheduledAt: r.scheduledAt, attempt: 1 }), JSON.stringify(r)]);
      }
    }
    await putAll(kvs);
  }
});

after(async () => {
  cluster?.close();
  await etcd.destroy();
});

test('10,000 jobs × 20 runs: the live picture holds per-job state, never per-run', async () => {
  const live = new ClusterLive(cluster);
  try {
    await live.start();
    const fp = live.footprint();
    // The mirrors hold the job specs (no runs); one last outcome per job; a capped failure list.
    assert.equal(fp.mirrored, JOBS);
    assert.equal(fp.lastOutcomes, JOBS);
    assert.equal(fp.failures, FAILURES_KEPT);
    assert.ok(fp.outcomeBuckets <= 145, `outcome buckets: ${fp.outcomeBuckets}`);
    const held = fp.mirrored + fp.lastOutcomes + fp.failures + fp.outcomeBuckets + fp.published;
    assert.ok(held < JOBS * 4, `held ${held} structures for ${JOBS * RUNS} runs`);

    const snap = live.snapshot();
    assert.equal(snap.jobs.length, JOBS);
    assert.deepEqual(snap.outcomes, { succeeded: JOBS * RUNS - JOBS / 100, failed: JOBS / 100 });
    assert.equal(snap.recentFailures.length, FAILURES_KEPT);
    assert.ok(snap.recentFailures.every((r) => r.status === 'failed' && !('tail' in r)));
    const byName = new Map(snap.jobs.map((j) => [j.spec.name, j]));
    assert.equal(byName.get('job-00000')?.last?.status, 'failed');
    assert.equal(byName.get('job-00001')?.last?.status, 'succeeded');
    assert.equal(byName.get('job-00001')?.last?.runId, run('job-00001', RUNS - 1, 'succeeded').id);

    // More runs arrive: still one last outcome per job, failures still capped.
    const more: [string, string][] = [];
    for (let j = 0; j < 500; j++) {
      const name = `job-${String(j).padStart(5, '0')}`;
      const r = run(name, RUNS, 'timeout');
      more.push([keys.run({ job: name, scheduledAt: r.scheduledAt, attempt: 1 }), JSON.stringify(r)]);
    }
    await putAll(more);
    await waitFor('the new outcomes', () => live.snapshot().outcomes.timeout === 500);

    // A run is counted once, when it reaches its outcome: not while running, not when rewritten.
    const claimed = run('job-00001', RUNS + 1, 'running');
    const key = keys.run({ job: 'job-00001', scheduledAt: claimed.scheduledAt, attempt: 1 });
    await cluster.ns.put(key).value(JSON.stringify(claimed));
    await waitFor('the run in flight as last', () =>
      live.snapshot().jobs.some((j) => j.spec.name === 'job-00001' && j.last?.status === 'running'),
    );
    const ended = { ...claimed, status: 'lost' as const, reason: 'its node died' };
    await cluster.ns.put(key).value(JSON.stringify(ended));
    await cluster.ns.put(key).value(JSON.stringify({ ...ended, reason: 'its node died (settled)' }));
    await waitFor('the outcome', () =>
      live.snapshot().recentFailures.some((r) => r.id === claimed.id && /settled/.test(r.reason ?? '')),
    );
    assert.equal(live.snapshot().outcomes.lost, 1);
    assert.equal(live.snapshot().outcomes.running, undefined);
    const after = live.footprint();
    assert.equal(after.lastOutcomes, JOBS);
    assert.equal(after.failures, FAILURES_KEPT);
    assert.equal(after.mirrored, JOBS);
  } finally {
    live.close();
  }
});

test('cluster.watch: one snapshot, then deltas that rebuild the same picture', async () => {
  const services: ConsoleServices = servicesFor({ endpoints: [etcd.endpoint], prefix: PREFIX });
  const events: ClusterEvent[] = [];
  let applied: ClusterSnapshot | null = null;
  services.start();
  const unsub = services.subscribe(
    'cluster.watch',
    [],
    (ev) => {
      events.push(ev as ClusterEvent);
      applied = applyClusterEvent(applied, ev as ClusterEvent);
    },
    () => undefined,
  );
  try {
    assert.notEqual(events[0].kind, 'delta', 'the first event is a full snapshot');
    await waitFor(
      'the whole picture',
      // Every job, and the history digested (the first test added 500 timeouts).
      () =>
        applied?.jobs.length === JOBS &&
        applied.outcomes.timeout === 500 &&
        applied.jobs.every((j) => j.lastStatus !== null) &&
        applied.connection.state === 'connected',
    );
    const mark = events.length;

    // A failure, a removed job, a new job, a node joining, a run in flight.
    const fail = run('job-00002', RUNS + 5, 'failed');
    await cluster.ns
      .put(keys.run({ job: 'job-00002', scheduledAt: fail.scheduledAt, attempt: 1 }))
      .value(JSON.stringify(fail));
    await cluster.ns.delete().key(keys.job('job-00003'));
    await cluster.ns.delete().prefix(keys.jobRuns('job-00003'));
    await cluster.ns.put(keys.job('zz-new')).value(
      JSON.stringify({
        name: 'zz-new',
        kind: 'cron',
        schedule: '0 3 * * *',
        command: 'true',
        timezone: 'UTC',
        env: {},
        selector: {},
        policy: 'at-most-once',
        paused: false,
      }),
    );
    const rec: NodeRecord = {
      id: 'n9',
      hostname: 'h9',
      pid: 1,
      labels: { zone: 'eu' },
      capacity: 0,
      startedAt: now,
      version: 't',
    };
    await cluster.ns.put(keys.member('n9')).value(JSON.stringify(rec));
    await cluster.ns.put(keys.cordon('n9')).value(JSON.stringify({ mode: 'cordon', by: 'test', at: now }));
    await cluster.ns
      .put(keys.activeRun('n9', 'job-00004.1.1'))
      .value(JSON.stringify({ job: 'job-00004', epoch: 0, since: now }));

    await waitFor('the changes to arrive as deltas', () => {
      const a = applied!;
      return (
        a.jobs.length === JOBS &&
        a.jobs.some((j) => j.name === 'zz-new' && j.next !== null) &&
        !a.jobs.some((j) => j.name === 'job-00003') &&
        a.jobs.find((j) => j.name === 'job-00002')?.lastStatus === 'failed' &&
        a.nodes.some((n) => n.id === 'n9' && n.cordon === 'cordon') &&
        a.running.some((r) => r.runId === 'job-00004.1.1') &&
        a.recentFailures[0]?.id === fail.id
      );
    });
    const deltas = events.slice(mark) as ClusterDelta[];
    assert.ok(deltas.length > 0 && deltas.every((d) => d.kind === 'delta'));
    const rows = deltas.reduce(
      (n, d) => n + (d.jobs?.changed.length ?? 0) + (d.jobs?.removed.length ?? 0),
      0,
    );
    assert.ok(rows < 20, `deltas carried ${rows} job rows for 3 changed jobs`);

    // A new watcher's snapshot is what the first one rebuilt from deltas.
    let fresh: ClusterSnapshot | undefined;
    services.subscribe(
      'cluster.watch',
      [],
      (ev) => (fresh ??= ev as ClusterSnapshot),
      () => undefined,
    )();
    assert.deepEqual({ ...applied!, kind: undefined }, { ...fresh!, kind: undefined });
  } finally {
    unsub();
    services.close();
  }
});
