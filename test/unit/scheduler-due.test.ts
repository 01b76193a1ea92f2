// The rules for overdue times: launch the latest if not too late, record the rest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planDue } from '../../agent/scheduler/due';
import { compileSchedule } from '../../agent/core/job/schedule';

const everySecond = compileSchedule({ name: 'x', kind: 'cron', schedule: '* * * * * *', timezone: 'UTC' });
const daily = compileSchedule({ name: 'x', kind: 'cron', schedule: '0 2 * * *', timezone: 'UTC' });
const opts = { claimAheadMs: 400, lateLimitMs: 60_000 };
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
    skip: undefined,
    cursor: T + 1000,
  });
});

test('several overdue times: the latest is launched, the others are one skipped range', () => {
  const step = planDue(everySecond, T, T + 6300, opts);
  assert.deepEqual(step, {
    kind: 'claim',
    launch: T + 6000,
    skip: { first: T + 1000, last: T + 5000, count: 5 },
    cursor: T + 6000,
  });
});

test('times later than the late limit are all skipped, none launched', () => {
  const step = planDue(daily, T - 86_400_000, T + 3_600_000, opts);
  assert.equal(step.kind, 'claim');
  assert.equal((step as { launch?: number }).launch, undefined);
  assert.deepEqual((step as { skip: unknown }).skip, {
    first: Date.UTC(2026, 0, 1, 2),
    last: Date.UTC(2026, 0, 1, 2),
    count: 1,
  });
});

test('a daily time missed by a few seconds (failover) is still launched', () => {
  const two = Date.UTC(2026, 0, 1, 2);
  assert.deepEqual(planDue(daily, two - 86_400_000, two + 6000, opts), {
    kind: 'claim',
    launch: two,
    skip: undefined,
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
