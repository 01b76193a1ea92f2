// The renderer's side of cluster.watch: a snapshot replaces the picture, a delta patches it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyClusterEvent } from '../../agent/console/contract/cluster-delta';
import type { ClusterSnapshot, JobRow, NodeInfo } from '../../agent/console/contract';

const node = (id: string, over: Partial<NodeInfo> = {}): NodeInfo => ({
  id,
  alive: true,
  leader: false,
  epoch: 1,
  hostname: 'h',
  labels: {},
  capacity: 0,
  running: 0,
  jobs: 0,
  startedAt: 0,
  draining: false,
  cordon: null,
  ...over,
});
const job = (name: string, over: Partial<JobRow> = {}): JobRow => ({
  name,
  kind: 'cron',
  schedule: '* * * * *',
  timezone: 'UTC',
  paused: false,
  owner: null,
  next: null,
  lastStatus: null,
  lastAt: null,
  lastRunId: null,
  command: 'true',
  ...over,
});
const base = (): ClusterSnapshot => ({
  kind: 'snapshot',
  connection: { state: 'connected', profileId: 'p', name: 'c', endpoints: [], prefix: '/', since: 1 },
  revision: 10,
  nodes: [node('a'), node('c')],
  jobs: [job('j1'), job('j2'), job('j3')],
  running: [{ runId: 'j1.1.1', job: 'j1', node: 'a', since: 100 }],
  recentFailures: [],
  outcomes: { succeeded: 3 },
  warnings: [],
});

test('a delta before any snapshot is ignored; a snapshot replaces everything', () => {
  assert.equal(applyClusterEvent(null, { kind: 'delta', revision: 3 }), null);
  const s = base();
  assert.equal(applyClusterEvent(null, s), s);
  const other = { ...base(), jobs: [] };
  assert.equal(applyClusterEvent(s, other), other);
});

test('changed rows replace theirs in place, new rows are added in order, removed rows go', () => {
  const s = base();
  const next = applyClusterEvent(s, {
    kind: 'delta',
    revision: 11,
    nodes: { changed: [node('b'), node('c', { cordon: 'drain' })], removed: [] },
    jobs: { changed: [job('j0'), job('j2', { lastStatus: 'failed' })], removed: ['j3'] },
    running: { changed: [{ runId: 'j2.5.1', job: 'j2', node: 'c', since: 200 }], removed: ['j1.1.1'] },
  })!;
  assert.equal(next.revision, 11);
  assert.deepEqual(
    next.nodes.map((n) => [n.id, n.cordon]),
    [
      ['a', null],
      ['b', null],
      ['c', 'drain'],
    ],
  );
  assert.deepEqual(
    next.jobs.map((j) => [j.name, j.lastStatus]),
    [
      ['j0', null],
      ['j1', null],
      ['j2', 'failed'],
    ],
  );
  assert.deepEqual(
    next.running.map((r) => r.runId),
    ['j2.5.1'],
  );
  // Untouched parts are the same objects (React skips them), and the input is not mutated.
  assert.equal(next.recentFailures, s.recentFailures);
  assert.equal(next.jobs[1], s.jobs[0]);
  assert.deepEqual(
    s.jobs.map((j) => j.name),
    ['j1', 'j2', 'j3'],
  );
});

test('an id both removed and changed in one delta ends up present, as changed', () => {
  const next = applyClusterEvent(base(), {
    kind: 'delta',
    running: { changed: [{ runId: 'j1.1.1', job: 'j1', node: 'c', since: 100 }], removed: ['j1.1.1'] },
  })!;
  assert.deepEqual(next.running, [{ runId: 'j1.1.1', job: 'j1', node: 'c', since: 100 }]);
});

test('running runs stay newest first; small parts are replaced whole', () => {
  const next = applyClusterEvent(base(), {
    kind: 'delta',
    running: {
      changed: [
        { runId: 'x.1.1', job: 'x', node: 'a', since: 50 },
        { runId: 'y.1.1', job: 'y', node: 'a', since: 300 },
      ],
      removed: [],
    },
    outcomes: { succeeded: 3, failed: 1 },
    warnings: ['corrupt value at jobs/x'],
    connection: { state: 'unreachable', profileId: 'p', name: 'c', endpoints: [], prefix: '/', since: 2 },
  })!;
  assert.deepEqual(
    next.running.map((r) => r.since),
    [300, 100, 50],
  );
  assert.deepEqual(next.outcomes, { succeeded: 3, failed: 1 });
  assert.deepEqual(next.warnings, ['corrupt value at jobs/x']);
  assert.equal(next.connection.state, 'unreachable');
  assert.equal(next.revision, 10, 'a delta without a revision keeps the last one');
});
