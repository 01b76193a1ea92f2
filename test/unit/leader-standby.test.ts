// Standbys: another live node for each eligible job, spread, stable while it stays valid.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planStandbys } from '../../agent/leader/standby';
import type { LiveNode, Owner } from '../../agent/leader/assign';

const node = (id: string, epoch: number, more: Partial<LiveNode> = {}): LiveNode => ({
  id,
  epoch,
  labels: {},
  capacity: 0,
  ...more,
});
const job = (name: string, standby = true, selector: Record<string, string> = {}) => ({
  name,
  selector,
  standby,
});
const owner = (n: string, e: number): Owner => ({ node: n, epoch: e });

test('each eligible job gets a standby other than its owner, spread over the nodes', () => {
  const nodes = [node('a', 1), node('b', 2), node('c', 3)];
  const jobs = Array.from({ length: 6 }, (_, i) => job(`j${i}`));
  const owners = new Map(jobs.map((j, i) => [j.name, owner(nodes[i % 3].id, nodes[i % 3].epoch)]));
  const plan = planStandbys(jobs, nodes, owners, new Map());
  const count = new Map<string, number>();
  for (const [name, s] of plan) {
    assert.ok(s, name);
    assert.notEqual(s.node, owners.get(name)!.node);
    count.set(s.node, (count.get(s.node) ?? 0) + 1);
  }
  // Greedy, so not perfectly even, but every node takes a share and none takes most.
  assert.equal(count.size, 3);
  for (const n of count.values()) assert.ok(n <= 3);
});

test('no standby for an ineligible or unowned job, or with no other fit node', () => {
  const nodes = [node('a', 1), node('b', 2, { labels: { gpu: 'yes' } })];
  const owners = new Map([
    ['loop', owner('a', 1)],
    ['gpu', owner('b', 2)],
  ]);
  const plan = planStandbys(
    [job('loop', false), job('gpu', true, { gpu: 'yes' }), job('orphan')],
    nodes,
    owners,
    new Map(),
  );
  assert.deepEqual(Object.fromEntries(plan), { loop: undefined, gpu: undefined, orphan: undefined });
});

test('a standby stays while valid; one that died, restarted, became owner or is drained is replaced', () => {
  const nodes = [node('a', 1), node('b', 2), node('c', 3), node('d', 4, { cordon: 'drain' })];
  const owners = new Map([
    ['keep', owner('a', 1)],
    ['dead', owner('a', 1)],
    ['restarted', owner('a', 1)],
    ['now-owner', owner('b', 2)],
    ['drained', owner('a', 1)],
  ]);
  const current = new Map([
    ['keep', owner('c', 3)],
    ['dead', owner('gone', 9)],
    ['restarted', owner('b', 1)],
    ['now-owner', owner('b', 2)],
    ['drained', owner('d', 4)],
  ]);
  const plan = planStandbys(
    [...owners.keys()].map((n) => job(n)),
    nodes,
    owners,
    current,
  );
  assert.deepEqual(plan.get('keep'), owner('c', 3));
  for (const name of ['dead', 'restarted', 'now-owner', 'drained']) {
    const s = plan.get(name);
    assert.ok(s && s.node !== owners.get(name)!.node && s.node !== 'd' && s.node !== 'gone', name);
    assert.equal(s.epoch, nodes.find((n) => n.id === s.node)!.epoch);
  }
});
