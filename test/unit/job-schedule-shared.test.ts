import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileSchedule, nextTimes, checkTimeZone } from '../../agent/core/job/schedule';

// Schedules of the same expression and zone share one parsed expression (schedule.ts):
// interleaved use must give each the times it would get alone.
test('schedules sharing a parsed expression keep their own positions', () => {
  const spec = { name: 'a', kind: 'cron' as const, schedule: '*/7 * * * * *', timezone: 'Europe/Paris' };
  const alone = nextTimes(spec, 0, 6);
  const one = compileSchedule(spec);
  const two = compileSchedule({ ...spec, name: 'b' });
  const got1: number[] = [];
  const got2: number[] = [];
  let c1 = 0;
  let c2 = 1_000_000;
  const alone2 = nextTimes(spec, c2, 6);
  for (let i = 0; i < 6; i++) {
    c1 = one.next(c1)!;
    got1.push(c1);
    c2 = two.next(c2)!;
    got2.push(c2);
  }
  assert.deepEqual(got1, alone);
  assert.deepEqual(got2, alone2);
});

test('time zone checks give the same answer the second time', () => {
  for (let i = 0; i < 2; i++) {
    assert.equal(checkTimeZone('Europe/Paris'), null);
    assert.match(checkTimeZone('Mars/Olympus')!, /unknown time zone "Mars\/Olympus"/);
    assert.match(checkTimeZone('+02:00')!, /is an offset/);
  }
});
