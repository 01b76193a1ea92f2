import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planApply, batches, costOf, MAX_TXN_OPS } from '../../agent/core/job/apply-plan';
import { validateJob, type JobSpec } from '../../agent/core/job/spec';
import { unifiedDiff } from '../../agent/cli/diff';
import { runExitStatus } from '../../agent/cli/exit';

const job = (name: string, extra: Record<string, unknown> = {}): JobSpec => {
  const r = validateJob({ name, kind: 'cron', schedule: '@daily', command: 'true', ...extra });
  assert.ok(r.ok);
  return r.job;
};

test('plan: created, updated (cursor only when timing changes), unchanged, pruned', () => {
  const stored = new Map([
    ['same', { spec: job('same'), modRevision: 5, cursor: { t: 10 }, cursorRevision: 6 }],
    ['cmd', { spec: job('cmd'), modRevision: 7, cursor: { t: 10 }, cursorRevision: 8 }],
    ['sched', { spec: job('sched'), modRevision: 9, cursor: { t: 10 }, cursorRevision: 10 }],
    ['gone', { spec: job('gone'), modRevision: 11, cursor: { t: 10 }, cursorRevision: 12 }],
  ]);
  const plan = planApply(
    [job('same'), job('cmd', { command: 'false' }), job('sched', { schedule: '@hourly' }), job('new')],
    stored,
    1000,
    ['gone'],
  );
  assert.deepEqual(
    plan.map((c) => [c.name, c.result, c.cursor?.t]),
    [
      ['same', 'unchanged', undefined],
      ['cmd', 'updated', undefined],
      ['sched', 'updated', 1000],
      ['new', 'created', 1000],
      ['gone', 'pruned', undefined],
    ],
  );
  assert.deepEqual(plan.map(costOf), [
    { ops: 0, compares: 1 },
    { ops: 2, compares: 2 },
    { ops: 3, compares: 3 },
    { ops: 3, compares: 3 },
    { ops: 7, compares: 2 },
  ]);
});

test('batches: 42 new jobs fit one transaction (3 ops each, audit included), 43 do not; no batch exceeds the limit', () => {
  const plan = (n: number) =>
    planApply(
      Array.from({ length: n }, (_, i) => job(`j${i}`)),
      new Map(),
      0,
    );
  assert.equal(batches(plan(42)).length, 1);
  assert.equal(batches(plan(43)).length, 2);
  for (const b of batches(plan(1000))) {
    const ops = b.map(costOf).reduce((a, c) => ({ ops: a.ops + c.ops, compares: a.compares + c.compares }));
    assert.ok(ops.ops <= MAX_TXN_OPS && ops.compares <= MAX_TXN_OPS);
  }
});

test('unified diff: removed before added, with context', () => {
  assert.equal(
    unifiedDiff('a\nb\nc\n', 'a\nB\nc\n', 'x', 'y'),
    '--- x\n+++ y\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n',
  );
  assert.equal(unifiedDiff('a\n', 'a\n', 'x', 'y'), '');
  assert.equal(unifiedDiff('', 'a\n', '/dev/null', 'y'), '--- /dev/null\n+++ y\n@@ -0,0 +1,1 @@\n+a\n');
});

test("a waited run's exit status", () => {
  assert.equal(runExitStatus({ status: 'succeeded', exitCode: 0 }), 0);
  assert.equal(runExitStatus({ status: 'failed', exitCode: 3 }), 3);
  assert.equal(runExitStatus({ status: 'failed', exitCode: 256 }), 1, 'never 0 for a failure');
  assert.equal(runExitStatus({ status: 'failed', signal: 'SIGKILL' }), 137);
  assert.equal(runExitStatus({ status: 'timeout', signal: 'SIGTERM' }), 124);
  assert.equal(runExitStatus({ status: 'lost' }), 3);
});
