// Node policy: which users and commands a node runs, and placement that respects it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { commandAllowed, policyRefusal, type PublishedPolicy } from '../../agent/core/node-policy';
import { planAssignments, type LiveNode } from '../../agent/leader/assign';
import { AGENT_WRITES, OPERATOR_WRITES } from '../../agent/core/roles';
import { keys } from '../../agent/core/keys';

const p = (x: Partial<PublishedPolicy>): PublishedPolicy => ({ runsAs: 'root', ...x });

test('a node without a policy runs everything, root jobs included (as before policies)', () => {
  assert.equal(policyRefusal(undefined, { command: 'rm -rf /tmp/x' }), null);
  assert.equal(policyRefusal({ runsAs: 'root' }, { user: 'root', command: 'x' }), null);
});

test('once a policy is set, root (named or as the agent user) is refused unless allowUsers names it', () => {
  const pol = p({ denyUsers: ['nobody'] });
  assert.match(policyRefusal(pol, { command: 'x' }) ?? '', /user root \(the agent's own user.*is root/);
  assert.match(policyRefusal(pol, { user: 'root', command: 'x' }) ?? '', /is root/);
  assert.equal(policyRefusal(pol, { user: 'backup', command: 'x' }), null);
  assert.equal(policyRefusal(p({ allowUsers: ['root', 'backup'] }), { command: 'x' }), null);
  assert.match(policyRefusal(pol, { user: 'nobody', command: 'x' }) ?? '', /in this node's denyUsers/);
  assert.match(
    policyRefusal(p({ allowUsers: ['backup'] }), { user: 'www', command: 'x' }) ?? '',
    /not in this node's allowUsers \(backup\)/,
  );
  // The node itself knows other names of uid 0.
  assert.match(policyRefusal(pol, { user: 'toor', command: 'x' }, (u) => u === 'toor') ?? '', /is root/);
});

test('allowCommands: * cannot be stretched over shell control characters; ** can', () => {
  const pats = ['/usr/local/bin/backup *'];
  assert.equal(commandAllowed(pats, '/usr/local/bin/backup --all /srv'), true);
  for (const evil of ['; rm -rf /', '&& sh', '| sh', '$(id)', '`id`', '\nid', '> /etc/passwd'])
    assert.equal(commandAllowed(pats, `/usr/local/bin/backup x ${evil}`), false, evil);
  assert.equal(commandAllowed(['/opt/x.sh'], '/opt/xxsh'), false, 'a dot is a dot');
  assert.equal(commandAllowed(['**'], 'a; b'), true);
  const pol = p({ allowUsers: ['backup'], allowCommands: pats });
  assert.match(
    policyRefusal(pol, { user: 'backup', command: 'curl x | sh' }) ?? '',
    /matches none of this node's allowCommands/,
  );
});

test('the leader places a root job only on a node whose policy allows root, and says why otherwise', () => {
  const strict: LiveNode = {
    id: 'strict',
    epoch: 1,
    labels: {},
    capacity: 0,
    policy: p({ allowUsers: ['app'] }),
  };
  const open: LiveNode = { id: 'open', epoch: 2, labels: {}, capacity: 0 };
  const jobs = Array.from({ length: 4 }, (_, i) => ({ name: `root-${i}`, selector: {}, command: 'x' }));
  const plan = planAssignments(jobs, [strict, open], new Map());
  assert.deepEqual(
    [...plan.moves.values()].map((o) => o.node),
    ['open', 'open', 'open', 'open'],
  );
  // Rebalancing does not move them onto the strict node either.
  const app = planAssignments(
    [{ name: 'app-0', selector: {}, user: 'app', command: 'x' }],
    [strict],
    new Map(),
  );
  assert.equal(app.moves.get('app-0')?.node, 'strict');
  const none = planAssignments(jobs.slice(0, 1), [strict], new Map());
  assert.match(
    none.unplaced.get('root-0') ?? '',
    /policy of every node that could take it refuses it \(strict: user root/,
  );
  // A job already on the strict node whose spec now runs as root moves away.
  const moved = planAssignments(
    jobs.slice(0, 1),
    [strict, open],
    new Map([['root-0', { node: 'strict', epoch: 1 }]]),
  );
  assert.equal(moved.moves.get('root-0')?.node, 'open');
});

test('every key of the layout is given to the agent role or kept for operators', () => {
  const granted = [...AGENT_WRITES, ...OPERATOR_WRITES];
  for (const [name, value] of Object.entries(keys)) {
    if (typeof value !== 'string') continue;
    assert.ok(
      granted.some((g) => value === g || (g.endsWith('/') && value.startsWith(g))),
      `keys.${name} (${value}) is in no role of roles.ts: decide who writes it`,
    );
  }
  assert.deepEqual(
    AGENT_WRITES.filter((k) => OPERATOR_WRITES.includes(k)),
    [],
  );
});
