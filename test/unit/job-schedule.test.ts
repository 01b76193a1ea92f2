import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fnv1a32 } from '../../agent/core/job/hash';
import {
  checkCronExpression,
  checkTimeZone,
  compileSchedule,
  nextTimes,
  type ScheduleSource,
} from '../../agent/core/job/schedule';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const cron = (schedule: string, timezone = 'UTC', name = 'job'): ScheduleSource => ({
  name,
  kind: 'cron',
  schedule,
  timezone,
});
const times = (job: ScheduleSource, from: string, n: number) => nextTimes(job, at(from), n).map(iso);

test('fnv1a32 matches the published FNV-1a test vectors', () => {
  assert.equal(fnv1a32(''), 0x811c9dc5);
  assert.equal(fnv1a32('a'), 0xe40c292c);
  assert.equal(fnv1a32('foobar'), 0xbf9cf968);
  // Past ASCII it hashes the UTF-8 bytes (computed independently over 'héllo/ñode'.encode()).
  assert.equal(fnv1a32('héllo/ñode'), 0x871077cd);
});

test('5-field cron fires at the listed minutes, strictly after the given time', () => {
  const s = compileSchedule(cron('*/15 * * * *'));
  assert.equal(iso(s.next(at('2026-01-01T10:00:00Z'))), '2026-01-01T10:15:00.000Z');
  assert.equal(iso(s.next(at('2026-01-01T10:14:59.999Z'))), '2026-01-01T10:15:00.000Z');
  assert.equal(iso(s.next(at('2026-01-01T10:15:00Z'))), '2026-01-01T10:30:00.000Z');
  assert.equal(s.describe(), 'cron */15 * * * * (UTC)');
});

test('6-field cron has seconds first', () => {
  assert.deepEqual(times(cron('*/20 * * * * *'), '2026-01-01T10:00:00.500Z', 4), [
    '2026-01-01T10:00:20.000Z',
    '2026-01-01T10:00:40.000Z',
    '2026-01-01T10:01:00.000Z',
    '2026-01-01T10:01:20.000Z',
  ]);
  assert.deepEqual(times(cron('30 0 2 * * *'), '2026-01-01T00:00:00Z', 2), [
    '2026-01-01T02:00:30.000Z',
    '2026-01-02T02:00:30.000Z',
  ]);
});

test('day-of-week names, ranges and 7 as Sunday work', () => {
  // 2026-01-01 is a Thursday.
  assert.deepEqual(times(cron('0 9 * * MON-FRI'), '2026-01-01T12:00:00Z', 3), [
    '2026-01-02T09:00:00.000Z',
    '2026-01-05T09:00:00.000Z',
    '2026-01-06T09:00:00.000Z',
  ]);
  assert.deepEqual(times(cron('0 0 * * 7'), '2026-01-01T00:00:00Z', 1), ['2026-01-04T00:00:00.000Z']);
});

test('wrong field counts are named', () => {
  assert.equal(
    checkCronExpression('* * * *', 'UTC', 'x'),
    'invalid cron expression "* * * *": expected 5 or 6 fields (minute hour day-of-month month day-of-week, optionally seconds first), got 4',
  );
  assert.match(checkCronExpression('* * * * * * *', 'UTC', 'x') ?? '', /expected 5 or 6 fields.*got 7$/);
  assert.match(checkCronExpression('', 'UTC', 'x') ?? '', /empty cron expression/);
});

test('out-of-range and malformed values name the field and the expression', () => {
  assert.equal(
    checkCronExpression('61 * * * *', 'UTC', 'x'),
    'invalid cron expression "61 * * * *": minute field "61": Constraint error, got value 61 expected range 0-59',
  );
  assert.match(checkCronExpression('0 24 * * *', 'UTC', 'x') ?? '', /hour field "24".*0-23/);
  assert.match(checkCronExpression('0 0 0 * *', 'UTC', 'x') ?? '', /day-of-month field "0"/);
  assert.match(checkCronExpression('0 0 * 13 *', 'UTC', 'x') ?? '', /month field "13"/);
  assert.match(checkCronExpression('0 0 * * 8', 'UTC', 'x') ?? '', /day-of-week field "8"/);
  assert.match(checkCronExpression('70 * * * * *', 'UTC', 'x') ?? '', /second field "70"/);
  assert.match(
    checkCronExpression('abc * * * *', 'UTC', 'x') ?? '',
    /^invalid cron expression "abc \* \* \* \*": minute field "abc"/,
  );
  // Only wrong in combination: February 31st never exists.
  assert.match(
    checkCronExpression('0 0 31 2 *', 'UTC', 'x') ?? '',
    /^invalid cron expression "0 0 31 2 \*": /,
  );
  assert.equal(checkCronExpression('0 2 * * *', 'UTC', 'x'), null);
});

test('macros map to the classic 5-field forms', () => {
  const from = '2026-03-15T10:20:30Z';
  assert.deepEqual(times(cron('@hourly'), from, 1), ['2026-03-15T11:00:00.000Z']);
  assert.deepEqual(times(cron('@daily'), from, 1), ['2026-03-16T00:00:00.000Z']);
  assert.deepEqual(times(cron('@midnight'), from, 1), ['2026-03-16T00:00:00.000Z']);
  assert.deepEqual(times(cron('@weekly'), from, 1), ['2026-03-22T00:00:00.000Z']); // a Sunday
  assert.deepEqual(times(cron('@monthly'), from, 1), ['2026-04-01T00:00:00.000Z']);
  assert.deepEqual(times(cron('@yearly'), from, 1), ['2027-01-01T00:00:00.000Z']);
  assert.deepEqual(times(cron('@annually'), from, 1), ['2027-01-01T00:00:00.000Z']);
  assert.equal(compileSchedule(cron('@daily', 'Europe/Paris')).describe(), 'cron @daily (Europe/Paris)');
  assert.deepEqual(times(cron('@daily', 'Europe/Paris'), from, 1), ['2026-03-15T23:00:00.000Z']);
});

test('unknown macros and @reboot are refused with a reason', () => {
  assert.match(
    checkCronExpression('@minutely', 'UTC', 'x') ?? '',
    /^unknown macro "@minutely"; use one of @yearly/,
  );
  assert.match(checkCronExpression('@reboot', 'UTC', 'x') ?? '', /Peppercorn has no boot event/);
});

test('@every fires at multiples of the interval since the Unix epoch', () => {
  const s = compileSchedule(cron('@every 10s'));
  assert.equal(s.describe(), 'every 10s');
  assert.equal(iso(s.next(at('2026-01-01T10:00:03.250Z'))), '2026-01-01T10:00:10.000Z');
  assert.equal(iso(s.next(at('2026-01-01T10:00:10Z'))), '2026-01-01T10:00:20.000Z');
  // 90 s does not divide an hour, so the phase comes from the epoch, not from the clock face.
  const ninety = compileSchedule(cron('@every 1m30s'));
  assert.equal(ninety.describe(), 'every 1m30s');
  const next = ninety.next(at('2026-01-01T00:00:00Z')) as number;
  assert.equal(next % 90_000, 0);
  assert.equal(iso(next), '2026-01-01T00:01:30.000Z');
  // The time zone does not shift @every.
  assert.equal(
    compileSchedule(cron('@every 1h', 'Asia/Kolkata')).next(at('2026-01-01T00:10:00Z')),
    at('2026-01-01T01:00:00Z'),
  );
});

test('@every needs whole seconds of at least 1s and a valid duration', () => {
  assert.match(checkCronExpression('@every 500ms', 'UTC', 'x') ?? '', /whole seconds, at least 1s/);
  assert.match(checkCronExpression('@every 1500ms', 'UTC', 'x') ?? '', /whole seconds/);
  assert.match(checkCronExpression('@every 10', 'UTC', 'x') ?? '', /add a unit, e.g. 30s/);
  assert.match(checkCronExpression('@every', 'UTC', 'x') ?? '', /@every followed by a duration/);
  assert.equal(checkCronExpression('@every 1s', 'UTC', 'x'), null);
});

test('H expands to a stable value from the job name within the field range', () => {
  const hash = (name: string, index: number) => fnv1a32(`${name}\u0000${index}`);
  const minute = hash('backup', 1) % 60;
  const hour = hash('backup', 2) % 24;
  const s = compileSchedule(cron('H H * * *', 'UTC', 'backup'));
  // Pinned: a change here would move every H job in every fleet.
  assert.equal(s.describe(), 'cron H H * * * [24 21 * * *] (UTC)');
  assert.equal(`${minute} ${hour}`, '24 21');
  assert.equal(iso(s.next(at('2026-01-01T00:00:00Z'))), '2026-01-01T21:24:00.000Z');
  // Same name, same answer, even from a fresh compile.
  assert.equal(compileSchedule(cron('H H * * *', 'UTC', 'backup')).describe(), s.describe());
  // The minute is the same whether or not seconds are spelt out.
  assert.equal(
    compileSchedule(cron('0 H H * * *', 'UTC', 'backup')).describe(),
    'cron 0 H H * * * [0 24 21 * * *] (UTC)',
  );
});

test('H forms stay inside their ranges', () => {
  const expanded = (expr: string, name: string) => {
    const match = /\[(.*)\]/.exec(compileSchedule(cron(expr, 'UTC', name)).describe());
    return (match as RegExpExecArray)[1].split(' ');
  };
  for (let i = 0; i < 200; i++) {
    const name = `job-${i}`;
    const [second, minute, hour, dom, month, dow] = expanded('H H H H H H', name).map(Number);
    assert.ok(second >= 0 && second <= 59, `second ${second}`);
    assert.ok(minute >= 0 && minute <= 59, `minute ${minute}`);
    assert.ok(hour >= 0 && hour <= 23, `hour ${hour}`);
    assert.ok(dom >= 1 && dom <= 28, `day-of-month ${dom} must fire in every month`);
    assert.ok(month >= 1 && month <= 12, `month ${month}`);
    assert.ok(dow >= 0 && dow <= 6, `day-of-week ${dow}`);

    const ranged = Number(expanded('H(10-20) * * * *', name)[0]);
    assert.ok(ranged >= 10 && ranged <= 20, `H(10-20) gave ${ranged}`);

    const [start, end, step] = expanded('H/15 * * * *', name)[0].split(/[-/]/).map(Number);
    assert.ok(start >= 0 && start < 15, `H/15 start ${start}`);
    assert.equal(end, 59);
    assert.equal(step, 15);

    const [rStart, rEnd, rStep] = expanded('H(0-29)/10 * * * *', name)[0].split(/[-/]/).map(Number);
    assert.ok(rStart >= 0 && rStart < 10, `H(0-29)/10 start ${rStart}`);
    assert.equal(rEnd, 29);
    assert.equal(rStep, 10);
  }
});

test('H/n fires every n units from the stable offset', () => {
  assert.equal(fnv1a32('poller\u00001') % 15, 4);
  assert.equal(
    compileSchedule(cron('H/15 * * * *', 'UTC', 'poller')).describe(),
    'cron H/15 * * * * [4-59/15 * * * *] (UTC)',
  );
  assert.deepEqual(times(cron('H/15 * * * *', 'UTC', 'poller'), '2026-01-01T10:00:00Z', 5), [
    '2026-01-01T10:04:00.000Z',
    '2026-01-01T10:19:00.000Z',
    '2026-01-01T10:34:00.000Z',
    '2026-01-01T10:49:00.000Z',
    '2026-01-01T11:04:00.000Z',
  ]);
});

test('different names usually get different H values', () => {
  const minutes = new Set<string>();
  for (let i = 0; i < 30; i++)
    minutes.add(compileSchedule(cron('H * * * *', 'UTC', `service-${i}`)).describe());
  assert.ok(minutes.size >= 15, `only ${minutes.size} distinct minutes for 30 names`);
  assert.notEqual(
    compileSchedule(cron('H H * * *', 'UTC', 'alpha')).describe(),
    compileSchedule(cron('H H * * *', 'UTC', 'beta')).describe(),
  );
});

test('bad H forms are refused', () => {
  assert.match(
    checkCronExpression('Hx * * * *', 'UTC', 'x') ?? '',
    /minute field "Hx": bad H form "Hx"; use H, H\(a-b\)/,
  );
  assert.match(checkCronExpression('H(50-70) * * * *', 'UTC', 'x') ?? '', /range 50-70 must lie within 0-59/);
  assert.match(checkCronExpression('H(20-10) * * * *', 'UTC', 'x') ?? '', /low end first/);
  assert.match(checkCronExpression('H/0 * * * *', 'UTC', 'x') ?? '', /step must be at least 1/);
  assert.equal(checkCronExpression('H,30 * * * *', 'UTC', 'x'), null);
});

test('time zones: local wall-clock times, unknown zones refused', () => {
  // Paris is UTC+1 in January.
  assert.deepEqual(times(cron('0 2 * * *', 'Europe/Paris'), '2026-01-01T00:00:00Z', 1), [
    '2026-01-01T01:00:00.000Z',
  ]);
  assert.equal(
    compileSchedule(cron('0 2 * * *', 'Europe/Paris')).describe(),
    'cron 0 2 * * * (Europe/Paris)',
  );
  assert.equal(
    checkCronExpression('0 2 * * *', 'Mars/Olympus', 'x'),
    'unknown time zone "Mars/Olympus"; use an IANA name such as Europe/Paris or UTC',
  );
  assert.throws(
    () => compileSchedule(cron('0 2 * * *', 'Mars/Olympus')),
    /unknown time zone "Mars\/Olympus"/,
  );
  assert.match(checkTimeZone('+02:00') ?? '', /is an offset, not a time zone/);
  assert.equal(checkTimeZone('America/New_York'), null);
});

test('DST: a skipped local time fires once, one hour later; a repeated one fires once', () => {
  // 2026-03-29 Europe/Paris: clocks jump 02:00 -> 03:00, so 02:30 does not exist that day.
  // cron-parser fires at 03:30 CEST (01:30Z) instead of skipping the day.
  assert.deepEqual(times(cron('30 2 * * *', 'Europe/Paris'), '2026-03-27T12:00:00Z', 3), [
    '2026-03-28T01:30:00.000Z', // 02:30 CET
    '2026-03-29T01:30:00.000Z', // 03:30 CEST: the shifted run
    '2026-03-30T00:30:00.000Z', // 02:30 CEST
  ]);
  // 2026-10-25: 02:30 happens twice (CEST then CET); the job runs only at the first.
  assert.deepEqual(times(cron('30 2 * * *', 'Europe/Paris'), '2026-10-24T12:00:00Z', 2), [
    '2026-10-25T00:30:00.000Z',
    '2026-10-26T01:30:00.000Z',
  ]);
});

test('once: fires at its time and never again; without at only by trigger', () => {
  const once = compileSchedule({ name: 'x', kind: 'once', timezone: 'UTC', at: '2026-12-01T02:00:00.000Z' });
  assert.equal(once.describe(), 'once at 2026-12-01T02:00:00.000Z');
  assert.equal(iso(once.next(at('2026-11-30T00:00:00Z'))), '2026-12-01T02:00:00.000Z');
  assert.equal(once.next(at('2026-12-01T02:00:00Z')), null);
  assert.equal(once.next(at('2027-01-01T00:00:00Z')), null);
  const triggered = compileSchedule({ name: 'x', kind: 'once', timezone: 'UTC' });
  assert.equal(triggered.describe(), 'on trigger only');
  assert.equal(triggered.next(0), null);
  assert.throws(
    () => compileSchedule({ name: 'x', kind: 'once', timezone: 'UTC', at: '2026-12-01 02:00' }),
    /not an ISO 8601 time/,
  );
});

test('loop jobs are never clock-scheduled', () => {
  const loop = compileSchedule({ name: 'x', kind: 'loop', timezone: 'UTC' });
  assert.equal(loop.describe(), 'loop');
  assert.equal(loop.next(at('2026-01-01T00:00:00Z')), null);
});

test('nextTimes lists consecutive firings and stops when the schedule ends', () => {
  assert.deepEqual(times(cron('0 */6 * * *'), '2026-01-01T05:00:00Z', 3), [
    '2026-01-01T06:00:00.000Z',
    '2026-01-01T12:00:00.000Z',
    '2026-01-01T18:00:00.000Z',
  ]);
  assert.deepEqual(
    nextTimes({ name: 'x', kind: 'once', timezone: 'UTC', at: '2026-12-01T02:00:00Z' }, 0, 5),
    [at('2026-12-01T02:00:00Z')],
  );
  assert.deepEqual(nextTimes(cron('@every 5s'), at('2026-01-01T00:00:01Z'), 2).map(iso), [
    '2026-01-01T00:00:05.000Z',
    '2026-01-01T00:00:10.000Z',
  ]);
  assert.deepEqual(nextTimes(cron('* * * * *'), 0, 0), []);
});

test('the cached cron answers match a fresh parse for any query order', () => {
  const source = cron('*/7 3-5 * * 1-5', 'Europe/Paris');
  const cached = compileSchedule(source);
  const queries = [
    '2026-03-01T00:00:00Z',
    '2026-03-02T02:10:00Z',
    '2026-03-02T02:05:00Z', // backwards: must not reuse a later answer
    '2026-03-02T02:05:30Z', // inside the previous answer's window
    '2026-03-02T02:07:00Z', // exactly the previous answer: continues the iterator
    '2026-01-01T00:00:00Z',
    '2026-03-02T02:10:00Z',
  ].map(at);
  for (const query of queries) {
    const fresh = compileSchedule(source).next(query);
    assert.equal(iso(cached.next(query)), iso(fresh), `after ${iso(query)}`);
  }
  assert.equal(iso(cached.next(at('2026-03-02T02:07:00Z'))), '2026-03-02T02:14:00.000Z');
});

// Correctness over 10,000 steps; the time is printed (benchmarks judge it), never asserted:
// this machine is shared, and a wall-clock assertion fails on load, not on a regression.
test('10,000 next() calls on every-second jobs land on the right second (time printed)', () => {
  const report: string[] = [];
  for (const timezone of ['UTC', 'Europe/Paris']) {
    const s = compileSchedule(cron('* * * * * *', timezone));
    let cursor = at('2026-01-01T00:00:00Z');
    const started = process.hrtime.bigint();
    for (let i = 0; i < 10_000; i++) cursor = s.next(cursor) as number;
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    assert.equal(iso(cursor), '2026-01-01T02:46:40.000Z');
    report.push(`${timezone} ${ms.toFixed(0)}ms`);
  }
  const every = compileSchedule(cron('@every 1s'));
  const started = process.hrtime.bigint();
  let cursor = 0;
  for (let i = 0; i < 10_000; i++) cursor = every.next(cursor) as number;
  report.push(`@every ${(Number(process.hrtime.bigint() - started) / 1e6).toFixed(1)}ms`);
  assert.equal(cursor, 10_000_000);
  console.log(`10,000 next() calls: ${report.join(', ')}`);
});
