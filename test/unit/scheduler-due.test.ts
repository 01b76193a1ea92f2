// The rules for overdue times: launch the latest if not too late, record the rest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planDue } from '../../agent/scheduler/due';
import { compileSchedule } from '../../agent/core/job/schedule';

const everySecond = compileSchedule({ name: 'x', kind: 'cron', schedule: '* * * * * *', timezone: 'UTC' });
const daily = compileSchedule({ name: 'x', kind: 'cron', schedule: '0 2 * * *', timezone: 'UTC' });
const opts = { claimAheadMs: 400, lateLimitMs: 60_000, misfire: { policy: 'skip' as const, maxCatchUp: 10 } };
const withMisfire = (
  policy: 'skip' | 'once' | 'all',
  extra: { maxCatchUp?: number; deadlineMs?: number } = {},
) => ({
  ...opts,
  misfire: { policy, maxCatchUp: extra.maxCatchUp ?? 10, deadlineMs: extra.deadlineMs },
});
const T = Date.UTC(2026, 0, 1, 12, 0, 0);

test('a future time is waited for, and claimed within the claim-ahead window', () => {
  assert.deepEqual(planDue(everySecond, T, T + 100, opts), { kind: 'wait', until: T + 600 });
  assert.deepEqual(planDue(everySecond, T, T + 700, opts), {
    kind: 'claim',
    launch: T + 1000,
    cursor: T + 1000,
  });
});

test('one overdue time is launched late, with nothing skipped', () => {
  assert.deepEqual(planDue(everySecond, T, T + 1200, opts), {
    kind: 'claim',
    launch: T + 1000,
    cursor: T + 1000,
  });
});

test('several overdue times: the latest is launched, the others are one skipped range', () => {
  const step = planDue(everySecond, T, T + 6300, opts);
  assert.equal(step.kind, 'claim');
  const s = step as {
    launch?: number;
    skip?: { first: number; last: number; count?: number; reason: string };
    cursor: number;
  };
  assert.equal(s.launch, T + 6000);
  assert.equal(s.cursor, T + 6000);
  assert.deepEqual([s.skip?.first, s.skip?.last, s.skip?.count], [T + 1000, T + 5000, 5]);
  assert.match(s.skip!.reason, /only the latest runs/);
});

test('times later than the late limit are all skipped, none launched', () => {
  const step = planDue(daily, T - 86_400_000, T + 3_600_000, opts);
  assert.equal(step.kind, 'claim');
  assert.equal((step as { launch?: number }).launch, undefined);
  const skip = (step as { skip: { first: number; last: number; count: number; reason: string } }).skip;
  assert.deepEqual(
    [skip.first, skip.last, skip.count],
    [Date.UTC(2026, 0, 1, 2), Date.UTC(2026, 0, 1, 2), 1],
  );
  assert.match(skip.reason, /misfire policy skip/);
});

test('a daily time missed by a few seconds (failover) is still launched', () => {
  const two = Date.UTC(2026, 0, 1, 2);
  assert.deepEqual(planDue(daily, two - 86_400_000, two + 6000, opts), {
    kind: 'claim',
    launch: two,
    cursor: two,
  });
});

test('a very long gap is not walked second by second, and says it lost count', () => {
  const step = planDue(everySecond, T, T + 3 * 86_400_000, opts);
  assert.equal(step.kind, 'claim');
  const s = step as { launch?: number; skip?: { first: number; count?: number }; cursor: number };
  assert.equal(s.launch, T + 3 * 86_400_000);
  assert.equal(s.cursor, T + 3 * 86_400_000);
  assert.equal(s.skip?.first, T + 1000);
  assert.equal(s.skip?.count, undefined);
});

test('a once job that already ran is done', () => {
  const once = compileSchedule({ name: 'x', kind: 'once', timezone: 'UTC', at: new Date(T).toISOString() });
  assert.deepEqual(planDue(once, T, T + 10, opts), { kind: 'done' });
});

test('misfire once: the latest missed time runs however late, the rest are recorded', () => {
  const two = Date.UTC(2026, 0, 1, 2);
  // Three days of an outage: 02:00 on three days missed.
  const step = planDue(daily, two - 86_400_000, two + 2 * 86_400_000 + 3_600_000, withMisfire('once'));
  const s = step as {
    launch?: number;
    skip?: { first: number; last: number; count?: number };
    cursor: number;
  };
  assert.equal(s.launch, two + 2 * 86_400_000);
  assert.deepEqual([s.skip?.first, s.skip?.last, s.skip?.count], [two, two + 86_400_000, 2]);
});

test('misfire all: runs the missed times oldest first, at most maxCatchUp of the latest', () => {
  const hourly = compileSchedule({ name: 'x', kind: 'cron', schedule: '0 * * * *', timezone: 'UTC' });
  const o = withMisfire('all', { maxCatchUp: 3 });
  // Ten hours missed: the last three run, one per step, oldest first; the seven before are recorded.
  let cursor = T - 10 * 3_600_000;
  const now = T + 60_000;
  const launched: number[] = [];
  let skipped = 0;
  for (let i = 0; i < 10; i++) {
    const step = planDue(hourly, cursor, now, o);
    if (step.kind !== 'claim') break;
    if (step.launch !== undefined) launched.push(step.launch);
    skipped += step.skip?.count ?? 0;
    cursor = step.cursor;
  }
  assert.deepEqual(launched, [T - 2 * 3_600_000, T - 3_600_000, T]);
  assert.equal(skipped, 7);
});

test('misfire deadline drops older times whatever the policy', () => {
  const hourly = compileSchedule({ name: 'x', kind: 'cron', schedule: '0 * * * *', timezone: 'UTC' });
  const once = planDue(hourly, T - 5 * 3_600_000, T + 60_000, withMisfire('once', { deadlineMs: 30_000 }));
  assert.equal(
    (once as { launch?: number }).launch,
    undefined,
    'the latest missed time is 60 s old, past a 30 s deadline',
  );
  assert.equal((once as { skip?: { count?: number } }).skip?.count, 5);
  const all = planDue(hourly, T - 5 * 3_600_000, T + 60_000, withMisfire('all', { deadlineMs: 30 * 60_000 }));
  assert.equal((all as { launch?: number }).launch, T, 'only the time within the deadline runs');
});

test('queued behind a run in flight: the oldest waiting time runs, later ones are recorded', () => {
  const step = planDue(everySecond, T, T + 3500, { ...opts, queued: true });
  const s = step as {
    launch?: number;
    skip?: { first: number; last: number; count?: number; reason: string };
    cursor: number;
  };
  assert.equal(s.launch, T + 1000);
  assert.deepEqual([s.skip?.first, s.skip?.last, s.skip?.count], [T + 2000, T + 3000, 2]);
  assert.match(s.skip!.reason, /queue holds one run/);
  assert.equal(s.cursor, T + 3000);
});

test('jitter moves every firing by the same stable offset, within the jitter', () => {
  const plain = compileSchedule({ name: 'report', kind: 'cron', schedule: '0 2 * * *', timezone: 'UTC' });
  const jittered = compileSchedule({
    name: 'report',
    kind: 'cron',
    schedule: '0 2 * * *',
    timezone: 'UTC',
    jitter: '30m',
  });
  const again = compileSchedule({
    name: 'report',
    kind: 'cron',
    schedule: '0 2 * * *',
    timezone: 'UTC',
    jitter: '30m',
  });
  const a = plain.next(T)!;
  const b = jittered.next(T)!;
  assert.ok(b - a >= 0 && b - a < 30 * 60_000);
  assert.equal((b - a) % 1000, 0, 'whole seconds');
  assert.equal(again.next(T), b, 'stable');
  assert.equal(jittered.next(b)! - b, 86_400_000, 'the rhythm is kept');
  const other = compileSchedule({
    name: 'other-job',
    kind: 'cron',
    schedule: '0 2 * * *',
    timezone: 'UTC',
    jitter: '30m',
  });
  assert.notEqual(other.next(T), b, 'different jobs spread out');
});
