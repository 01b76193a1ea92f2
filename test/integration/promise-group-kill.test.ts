// Issue 8, bug 5: a run dies with its agent whatever kills the agent. The reaper used to
// share the agent's process group, so `kill -9 -PGID` (a supervisor's group kill) took
// the reaper with the agent, and runs (their own groups) went on unseen: an
// at-least-once run's attempt 1 kept going beside its attempt 2 on another node.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { TestCluster, waitFor } from '../harness/cluster';
import { spanCommand, readSpans, overlapping, describeSpan, killSpans } from '../harness/spans';
import { processRunning } from '../../agent/runner/procgroup';

const tc = new TestCluster();
const NODES = ['g1', 'g2', 'g3'];
before(async () => {
  await tc.start();
  // Each agent in its own process group, as a service manager starts it.
  for (const id of NODES) tc.startAgent(id, [], { detached: true });
  await tc.ready(NODES);
});
after(async () => {
  killSpans(readSpans(tc.path('group.txt')));
  await tc.stop();
});

test('kill -9 of an agent’s process group: its runs die too; the re-run never overlaps them', async () => {
  const file = tc.path('group.txt');
  tc.apply(
    `name: group-alo\nkind: once\npolicy: at-least-once\ncommand: ${JSON.stringify(spanCommand(file, 60))}\n`,
  );
  const owner = await waitFor('group-alo assigned', async () => (await tc.owner('group-alo')) ?? undefined);
  const runId = tc.cli(['job', 'run', 'group-alo']).stdout.trim();
  const first = await waitFor('attempt 1 started', () => readSpans(file).find((s) => s.runId === runId));
  tc.agents.get(owner)!.groupKill9();
  await waitFor(
    'attempt 1 recorded lost',
    async () => (await tc.store.getRun(runId))?.status === 'lost',
    30_000,
  );
  await waitFor('attempt 2 started elsewhere', () =>
    readSpans(file).find((s) => s.runId === runId.replace(/\.1$/, '.2')),
  );
  const problems: string[] = [];
  try {
    await waitFor('attempt 1’s process to be gone', () => !processRunning(first.pid), 10_000);
  } catch {
    problems.push(
      `attempt 1 (${describeSpan(first)}) still runs after its node died and it was recorded lost`,
    );
  }
  for (const [a, b] of overlapping(readSpans(file)))
    problems.push(`${describeSpan(a)} overlaps ${describeSpan(b)}`);
  await tc.store.removeJob('group-alo');
  assert.deepEqual(problems, [], 'a run outlived its agent');
});
