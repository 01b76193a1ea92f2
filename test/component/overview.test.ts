// The overview against an in-memory cluster: nodes alive and dead, the leader, labels, and
// the page following changes as the shared watch reports them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { inPage, openConsole, type ConsolePage } from './page';

let cp: ConsolePage;

before(async () => {
  cp = await openConsole({ hash: '/overview' });
});

after(() => cp?.close());

type NodeState = [id: string, alive: boolean, leader: boolean];

const setNodes = (nodes: NodeState[]) =>
  inPage(
    cp.page,
    (pc, list) =>
      pc.cluster.setNodes(
        list.map(([id, alive, leader]) => ({
          id,
          alive,
          leader,
          epoch: 7,
          hostname: `${id}.example`,
          labels: (id === 'alpha' ? { zone: 'eu', disk: 'ssd' } : {}) as Record<string, string>,
          capacity: 0,
          running: 0,
          jobs: 1,
          startedAt: 0,
          draining: false,
          cordon: null,
        })),
      ),
    nodes,
  );

const row = (id: string) => cp.page.getByTestId(`node-${id}`);

test('nodes show alive or dead, with the leader and their labels', async () => {
  await setNodes([
    ['alpha', true, true],
    ['beta', true, false],
    ['gamma', false, false],
  ]);
  await cp.page.locator('[data-testid="node-gamma"][data-alive="false"]').waitFor();
  assert.equal(await row('alpha').getAttribute('data-alive'), 'true');
  assert.equal(await row('beta').getAttribute('data-alive'), 'true');
  assert.match(await row('gamma').innerText(), /dead/);
  assert.match(await row('alpha').innerText(), /alive/);
  assert.match(await row('alpha').innerText(), /zone=eu/);
  assert.equal(await row('alpha').locator('.badge.leader').count(), 1);
  assert.equal(await cp.page.locator('[data-testid="nodes-table"] .badge.leader').count(), 1);
  assert.match(await cp.page.locator('.cards').innerText(), /2 \/ 3\s*nodes alive/);
});

test('a leader that dies is shown dead, and the new leader is marked', async () => {
  await setNodes([
    ['alpha', false, false],
    ['beta', true, true],
    ['gamma', false, false],
  ]);
  await cp.page.locator('[data-testid="node-alpha"][data-alive="false"]').waitFor();
  await row('beta').locator('.badge.leader').waitFor();
  assert.equal(await row('alpha').locator('.badge.leader').count(), 0);
  assert.match(await row('alpha').innerText(), /dead/);
  assert.match(await cp.page.locator('.cards').innerText(), /1 \/ 3\s*nodes alive/);
});
