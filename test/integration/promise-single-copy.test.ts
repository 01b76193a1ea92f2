// Issue 8, bug 1: a supervised loop, and a run holding a mutex slot, must stop when
// their job leaves the node, whatever the reason. Before the fix the scheduler dropped
// a job that was no longer assigned from `owned` without stopping its runs, so
// SIGTERM of a loop's owner, or SIGSTOP past its lease and SIGCONT, left the old copy
// running beside the new owner's. Oracle: the commands' own lines (spans.ts).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { TestCluster, waitFor } from '../harness/cluster';
import { spanCommand, readSpans, overlapping, describeSpan, killSpans, type Span } from '../harness/spans';
import { processRunning } from '../../agent/runner/procgroup';

const tc = new TestCluster();
const NODES = ['s1', 's2', 's3'];
before(async () => {
  await tc.start();
  for (const id of NODES) tc.startAgent(id);
  await tc.ready(NODES);
});
after(async () => {
  for (const f of ['loop-term.txt', 'stop.txt']) killSpans(readSpans(tc.path(f)));
  await tc.stop();
});

/** The span of the first copy on `node`, once it has started. */
async function copyOn(file: string, job: string, node: string | ((n: string) => boolean)): Promise<Span> {
  const match = typeof node === 'string' ? (n: string) => n === node : node;
  return waitFor(
    `a copy of ${job} on ${typeof node === 'string' ? node : 'another node'}`,
    () => readSpans(file).find((s) => s.job === job && match(s.node)),
    60_000,
  );
}

/** Waits (bounded) until the process of `span` is gone; the run's natural end is much later. */
async function gone(span: Span, what: string, timeoutMs: number): Promise<string | undefined> {
  try {
    await waitFor(`${what} to stop`, () => !processRunning(span.pid), timeoutMs);
    return undefined;
  } catch {
    return `${what} (${describeSpan(span)}) was still running ${timeoutMs / 1000} s later`;
  }
}

test('SIGTERM of a loop’s owner: the old copy stops before the new owner starts one', async () => {
  const file = tc.path('loop-term.txt');
  // Each iteration lasts 60 s: an old copy still beating after the new one started is an overlap.
  tc.apply(
    `name: loop-term\nkind: loop\ntimes: 0\ndelay: 0s\ncommand: ${JSON.stringify(spanCommand(file, 60))}\n`,
  );
  const owner = await waitFor('loop-term assigned', async () => (await tc.owner('loop-term')) ?? undefined);
  const first = await copyOn(file, 'loop-term', owner);
  tc.agents.get(owner)!.term();
  await copyOn(file, 'loop-term', (n) => n !== owner);
  // The old agent finishes its shutdown (drain: 30 s, then the kill grace) in any case.
  await tc.agents.get(owner)!.exited();
  await waitFor('the old copy to be gone', () => !processRunning(first.pid), 20_000);
  const pairs = overlapping(readSpans(file).filter((s) => s.job === 'loop-term'));
  tc.startAgent(owner);
  await tc.store.removeJob('loop-term');
  assert.deepEqual(
    pairs.map(([a, b]) => `${describeSpan(a)} overlaps ${describeSpan(b)}`),
    [],
    'two copies of the loop ran at once',
  );
});

test('SIGSTOP of an owner past its lease, then SIGCONT: its loop and its mutex holder stop', async () => {
  const file = tc.path('stop.txt');
  const loop = `name: loop-stop\nkind: loop\ntimes: 0\ndelay: 0s\nselector: { role: victim }\ncommand: ${JSON.stringify(spanCommand(file, 60))}\n`;
  const holder = `name: mutex-stop\nkind: once\nmutex: db-stop\nselector: { role: victim }\ncommand: ${JSON.stringify(spanCommand(file, 60))}\n`;
  // A fresh node labelled for both jobs, so that one SIGSTOP freezes the owner of both.
  tc.startAgent('s4', ['--labels', 'role=victim']);
  await tc.ready(['s4']);
  tc.apply(`${loop}---\n${holder}`);
  await waitFor('both jobs on s4', async () =>
    (await tc.owner('loop-stop')) === 's4' && (await tc.owner('mutex-stop')) === 's4' ? true : undefined,
  );
  tc.cli(['job', 'run', 'mutex-stop']);
  const oldLoop = await copyOn(file, 'loop-stop', 's4');
  const oldHolder = await copyOn(file, 'mutex-stop', 's4');
  // Let another node take the jobs once s4's lease expires.
  tc.startAgent('s5', ['--labels', 'role=victim']);
  await tc.ready(['s4', 's5']);
  const victim = tc.agents.get('s4')!;
  victim.pause();
  await copyOn(file, 'loop-stop', 's5'); // the new owner's copy: s4's lease expired
  victim.resume();
  // While s4 was frozen nothing on it could act; once it runs again, its single-copy runs
  // must stop (within the kill grace), long before their natural end (60 s).
  const problems = [
    await gone(oldLoop, 'the old copy of loop-stop', 20_000),
    await gone(oldHolder, 'the old mutex-stop run holding mutex db-stop', 20_000),
  ].filter(Boolean);
  assert.deepEqual(problems, [], 'a single-copy run went on beside the new owner');
});
