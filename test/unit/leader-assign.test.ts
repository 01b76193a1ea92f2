// Job placement: sticky while the owner lives, spread by load, selectors and capacity respected.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planAssignments, type LiveNode, type Owner } from '../../agent/leader/assign';

const node = (id: string, epoch: number, labels: Record<string, string> = {}, capacity = 0): LiveNode => ({
  id,
  epoch,
  labels,
  capacity,
});
const jobs = (n: number, selector: Record<string, string> = {}) =>
  Array.from({ length: n }, (_, i) => ({ name: `job-${String(i).padStart(2, '0')}`, selector }));

test('new jobs spread evenly over the nodes', () => {
  const plan = planAssignments(jobs(9), [node('a', 1), node('b', 2), node('c', 3)], new Map());
  const count = new Map<string, number>();
  for (const o of plan.moves.values()) count.set(o.node, (count.get(o.node) ?? 0) + 1);
  assert.deepEqual([...count.values()], [3, 3, 3]);
  assert.equal(plan.unplaced.size, 0);
});

test('a job stays on its live owner; a dead owner’s jobs move to the least loaded', () => {
  const current = new Map<string, Owner>([
    ['job-00', { node: 'a', epoch: 1 }],
    ['job-01', { node: 'b', epoch: 2 }],
    ['job-02', { node: 'gone', epoch: 7 }],
  ]);
  const plan = planAssignments(jobs(3), [node('a', 1), node('b', 2), node('c', 3)], current);
  assert.deepEqual([...plan.moves], [['job-02', { node: 'c', epoch: 3 }]]);
});

test('a restarted node (new epoch) does not keep its old assignments', () => {
  const plan = planAssignments(jobs(1), [node('a', 9)], new Map([['job-00', { node: 'a', epoch: 1 }]]));
  assert.deepEqual([...plan.moves], [['job-00', { node: 'a', epoch: 9 }]]);
});

test('selectors and capacity are respected, and unplaceable jobs say why', () => {
  const nodes = [node('a', 1, { zone: 'eu' }, 1), node('b', 2, { zone: 'us' })];
  const plan = planAssignments(
    [...jobs(2, { zone: 'eu' }), { name: 'mars', selector: { zone: 'mars' } }],
    nodes,
    new Map(),
  );
  assert.deepEqual(plan.moves.get('job-00'), { node: 'a', epoch: 1 });
  assert.match(plan.unplaced.get('job-01')!, /at capacity/);
  assert.match(plan.unplaced.get('mars')!, /no live node that takes new jobs has the labels/);
});

test('a draining node owns nothing', () => {
  const nodes = [{ ...node('a', 1), draining: true }, node('b', 2)];
  const plan = planAssignments(jobs(2), nodes, new Map([['job-00', { node: 'a', epoch: 1 }]]));
  assert.deepEqual(
    [...plan.moves.values()].map((o) => o.node),
    ['b', 'b'],
  );
});

test('a node whose clock is off takes nothing and gives up its jobs, even busy ones, but not a pinned one', () => {
  const nodes: LiveNode[] = [{ ...node('a', 1), clockOff: true }, node('b', 2)];
  const current = new Map<string, Owner>([
    ['job-00', { node: 'a', epoch: 1 }],
    ['job-01', { node: 'a', epoch: 1 }],
    ['job-02', { node: 'a', epoch: 1 }],
  ]);
  const pinned = new Map([['job-02', { node: 'a', epoch: 1, run: 'job-02.1', loop: true }]]);
  const plan = planAssignments(jobs(4), nodes, current, new Set(['job-01']), pinned);
  assert.deepEqual([...plan.moves].sort(), [
    ['job-00', { node: 'b', epoch: 2 }],
    ['job-01', { node: 'b', epoch: 2 }],
    ['job-03', { node: 'b', epoch: 2 }],
  ]);
  assert.equal(plan.unplaced.size, 0);
});

test('cordoned nodes take no new jobs but keep theirs; drained nodes give up idle jobs only', () => {
  const nodes: LiveNode[] = [
    { ...node('a', 1), cordon: 'cordon' },
    { ...node('b', 2), cordon: 'drain' },
    node('c', 3),
  ];
  const current = new Map<string, Owner>([
    ['job-00', { node: 'a', epoch: 1 }],
    ['job-01', { node: 'b', epoch: 2 }],
    ['job-02', { node: 'b', epoch: 2 }],
  ]);
  const plan = planAssignments(jobs(4), nodes, current, new Set(['job-02']));
  assert.deepEqual([...plan.moves].sort(), [
    ['job-01', { node: 'c', epoch: 3 }],
    ['job-03', { node: 'c', epoch: 3 }],
  ]);
});

test('a joining node gets idle jobs from the busiest node, never a job in the middle of a run', () => {
  const current = new Map<string, Owner>(jobs(6).map((j) => [j.name, { node: 'a', epoch: 1 }]));
  const plan = planAssignments(
    jobs(6),
    [node('a', 1), node('b', 2), node('c', 3)],
    current,
    new Set(['job-05', 'job-04']),
  );
  const after = new Map<string, string>([...current].map(([k, v]) => [k, v.node]));
  for (const [k, v] of plan.moves) after.set(k, v.node);
  const count: Record<string, number> = {};
  for (const n of after.values()) count[n] = (count[n] ?? 0) + 1;
  assert.deepEqual(count, { a: 2, b: 2, c: 2 });
  assert.ok(!plan.moves.has('job-05') && !plan.moves.has('job-04'), 'busy jobs stay');
  // A second pass with the result changes nothing: the plan is stable.
  const again = planAssignments(
    jobs(6),
    [node('a', 1), node('b', 2), node('c', 3)],
    new Map([...after].map(([k, n]) => [k, { node: n, epoch: { a: 1, b: 2, c: 3 }[n as 'a' | 'b' | 'c'] }])),
  );
  assert.equal(again.moves.size, 0);
});

// Single copy: a job whose loop or semaphore holder runs on a live node goes nowhere else.
test('a job pinned by a single-copy run is never handed to another node while that node lives', () => {
  const pin = (node: string, epoch: number, loop = true) =>
    new Map([['job-00', { node, epoch, run: 'job-00.1.1', loop }]]);
  const one = jobs(1);
  // Its owner shuts down (draining): it stays until the run has stopped, then moves.
  const draining = [{ ...node('a', 1), draining: true }, node('b', 2)];
  const owned = new Map([['job-00', { node: 'a', epoch: 1 }]]);
  let plan = planAssignments(one, draining, owned, new Set(['job-00']), pin('a', 1));
  assert.equal(plan.moves.size, 0);
  assert.equal(plan.unplaced.size, 0);
  plan = planAssignments(one, draining, owned, new Set());
  assert.deepEqual([...plan.moves], [['job-00', { node: 'b', epoch: 2 }]]);
  // Its selector no longer matches: unassigned first (the owner stops the run), never moved.
  const relabelled = [node('a', 1, { zone: 'us' }), node('b', 2)];
  plan = planAssignments(
    [{ name: 'job-00', selector: { zone: 'eu' } }],
    relabelled,
    owned,
    new Set(),
    pin('a', 1),
  );
  assert.equal(plan.moves.size, 0);
  assert.match(plan.unplaced.get('job-00') ?? '', /waiting for its run job-00\.1\.1 on a to stop/);
  // A drained loop is unassigned (it never goes idle); a drained semaphore holder waits.
  const drained = [{ ...node('a', 1), cordon: 'drain' as const }, node('b', 2)];
  plan = planAssignments(one, drained, owned, new Set(['job-00']), pin('a', 1, true));
  assert.ok(plan.unplaced.has('job-00'));
  plan = planAssignments(one, drained, owned, new Set(['job-00']), pin('a', 1, false));
  assert.equal(plan.unplaced.size + plan.moves.size, 0);
  // Deleted and re-created (no assignment) while the old copy runs: back to its node, or wait.
  plan = planAssignments(one, [node('a', 1), node('b', 2)], new Map(), new Set(), pin('a', 1));
  assert.deepEqual([...plan.moves], [['job-00', { node: 'a', epoch: 1 }]]);
  plan = planAssignments(one, draining, new Map(), new Set(), pin('a', 1));
  assert.equal(plan.moves.size, 0);
  assert.ok(plan.unplaced.has('job-00'));
  // The pinning node is dead (another epoch): the pin no longer counts.
  plan = planAssignments(one, [node('a', 5), node('b', 2)], owned, new Set(), pin('a', 1));
  assert.equal(plan.moves.size, 1);
});
