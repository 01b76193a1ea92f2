import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  canonicalJob,
  jobTimeoutMs,
  loopDelayMs,
  validateJob,
  type FieldError,
  type JobSpec,
} from '../../agent/core/job/spec';

const base = { name: 'backup', kind: 'cron', schedule: '0 2 * * *', command: 'pg_dump db > /tmp/db.sql' };

function errorsOf(input: unknown): FieldError[] {
  const result = validateJob(input);
  assert.equal(result.ok, false, 'expected the spec to be rejected');
  return result.ok ? [] : result.errors;
}

function jobOf(input: unknown): JobSpec {
  const result = validateJob(input);
  assert.ok(result.ok, `expected a valid spec, got ${JSON.stringify(result.ok ? null : result.errors)}`);
  return result.job;
}

/** The single error for `field`, failing if there is not exactly one error in all. */
function onlyError(input: unknown): FieldError {
  const errors = errorsOf(input);
  assert.equal(errors.length, 1, JSON.stringify(errors));
  return errors[0];
}

test('a minimal cron job gets every default and no undefined keys', () => {
  const job = jobOf(base);
  assert.deepEqual(job, {
    name: 'backup',
    kind: 'cron',
    schedule: '0 2 * * *',
    timezone: 'UTC',
    command: 'pg_dump db > /tmp/db.sql',
    env: {},
    selector: {},
    policy: 'at-most-once',
    paused: false,
  });
  assert.ok(Object.values(job).every((value) => value !== undefined));
  assert.deepEqual(Object.keys(job), [
    'name',
    'kind',
    'schedule',
    'timezone',
    'command',
    'env',
    'selector',
    'policy',
    'paused',
  ]);
});

test('kind may be left out when there is a schedule', () => {
  assert.equal(jobOf({ ...base, kind: undefined }).kind, 'cron');
  assert.deepEqual(onlyError({ name: 'x', command: 'true' }), {
    field: 'kind',
    message: 'required; use cron (with a schedule), loop or once',
  });
  assert.deepEqual(onlyError({ ...base, kind: 'daily' }), {
    field: 'kind',
    message: '"daily" is not a job kind; use cron, loop or once',
  });
});

test('a full spec keeps every field', () => {
  const job = jobOf({
    ...base,
    timezone: 'Europe/Paris',
    env: { PGHOST: 'db1', _X: '' },
    workdir: '/var/backups',
    user: 'postgres',
    timeout: '1h30m',
    selector: { role: 'db', 'zone.example.com/region': 'eu' },
    policy: 'at-least-once',
    paused: true,
    description: 'nightly dump',
  });
  assert.equal(job.timezone, 'Europe/Paris');
  assert.deepEqual(job.env, { PGHOST: 'db1', _X: '' });
  assert.equal(job.workdir, '/var/backups');
  assert.equal(job.user, 'postgres');
  assert.equal(jobTimeoutMs(job), 5_400_000);
  assert.deepEqual(job.selector, { role: 'db', 'zone.example.com/region': 'eu' });
  assert.equal(job.policy, 'at-least-once');
  assert.equal(job.paused, true);
  assert.equal(job.description, 'nightly dump');
});

test('not a map', () => {
  assert.deepEqual(errorsOf(['x']), [
    { field: '(spec)', message: 'a job spec must be a map of fields, got a list' },
  ]);
  assert.deepEqual(errorsOf(null), [
    { field: '(spec)', message: 'a job spec must be a map of fields, got null' },
  ]);
  assert.deepEqual(errorsOf('name: x'), [
    { field: '(spec)', message: 'a job spec must be a map of fields, got a string' },
  ]);
});

test('unknown fields are errors with the nearest known field suggested', () => {
  assert.deepEqual(onlyError({ ...base, scheduel: 'x' }), {
    field: 'scheduel',
    message: 'unknown field "scheduel"; did you mean "schedule"?',
  });
  assert.equal(
    onlyError({ ...base, comand: 'x' }).message,
    'unknown field "comand"; did you mean "command"?',
  );
  assert.equal(
    onlyError({ ...base, Paused: true }).message,
    'unknown field "Paused"; did you mean "paused"?',
  );
  assert.equal(onlyError({ ...base, tz: 'UTC' }).message, 'unknown field "tz"; did you mean "timezone"?');
  assert.equal(onlyError({ ...base, retrys: 3 }).message, 'unknown field "retrys"; did you mean "retries"?');
  assert.equal(onlyError({ ...base, bogus: 3 }).message, 'unknown field "bogus"');
});

test('all errors are reported at once, each naming its field', () => {
  const errors = errorsOf({
    name: 'Bad_Name',
    kind: 'cron',
    schedule: '* * * *',
    timezone: 'Mars/Olympus',
    command: '  ',
    env: { PORT: 8080, '1X': 'a' },
    workdir: 'relative/dir',
    user: 'bad user',
    timeout: '0s',
    selector: { role: true },
    policy: 'exactly-once',
    paused: 'yes',
  });
  assert.deepEqual(
    errors.map((e) => e.field),
    [
      'name',
      'timezone',
      'schedule',
      'command',
      'env.PORT',
      'env.1X',
      'workdir',
      'user',
      'timeout',
      'selector.role',
      'policy',
      'paused',
    ],
  );
  const message = (field: string) => errors.find((e) => e.field === field)?.message;
  assert.equal(
    message('name'),
    '"Bad_Name" is not a valid name; use 1-63 lower-case letters, digits and "-", starting and ending with a letter or digit',
  );
  assert.equal(
    message('timezone'),
    'unknown time zone "Mars/Olympus"; use an IANA name such as Europe/Paris or UTC',
  );
  assert.match(message('schedule') ?? '', /expected 5 or 6 fields .*got 4/);
  assert.equal(message('command'), 'must not be empty');
  assert.equal(message('env.PORT'), 'value must be a string, got a number; quote it: "8080"');
  assert.equal(
    message('env.1X'),
    '"1X" is not a valid variable name; use letters, digits and _, not starting with a digit',
  );
  assert.equal(message('workdir'), '"relative/dir" must be an absolute path, starting with /');
  assert.match(message('user') ?? '', /"bad user" is not a valid user name/);
  assert.equal(message('timeout'), 'must be greater than 0; leave it out for no timeout');
  assert.equal(message('selector.role'), 'value must be a string, got a boolean; quote it: "true"');
  assert.equal(message('policy'), '"exactly-once" is not a policy; use at-most-once or at-least-once');
  assert.equal(message('paused'), 'must be true or false (without quotes), got "yes"');
});

test('name rules', () => {
  for (const good of ['a', 'backup-db', '0day', 'a'.repeat(63)])
    assert.equal(jobOf({ ...base, name: good }).name, good);
  for (const bad of ['-a', 'a-', 'A', 'a_b', 'a.b', 'a'.repeat(64), '']) {
    assert.equal(onlyError({ ...base, name: bad }).field, 'name', bad);
  }
  assert.deepEqual(onlyError({ ...base, name: undefined }), {
    field: 'name',
    message: 'required; e.g. name: nightly-backup',
  });
  assert.deepEqual(onlyError({ ...base, name: 42 }), {
    field: 'name',
    message: 'must be a string, got a number; quote it: "42"',
  });
});

test('schedule: required on cron, refused elsewhere, checked by the compiler', () => {
  assert.deepEqual(onlyError({ ...base, schedule: undefined }), {
    field: 'schedule',
    message: 'required for kind cron; e.g. "0 2 * * *", "@daily" or "@every 10s"',
  });
  assert.deepEqual(onlyError({ ...base, kind: 'loop' }), {
    field: 'schedule',
    message: 'only allowed on kind cron (this job is kind loop); remove it or set kind: cron',
  });
  assert.deepEqual(onlyError({ ...base, schedule: '61 * * * *' }), {
    field: 'schedule',
    message:
      'invalid cron expression "61 * * * *": minute field "61": Constraint error, got value 61 expected range 0-59',
  });
  assert.equal(jobOf({ ...base, schedule: 'H H * * *' }).schedule, 'H H * * *');
  assert.equal(jobOf({ ...base, schedule: '@every 30s' }).schedule, '@every 30s');
  // A bad zone is reported once, on timezone; the expression itself is still checked.
  const errors = errorsOf({ ...base, timezone: 'Nowhere/City', schedule: '0 25 * * *' });
  assert.deepEqual(
    errors.map((e) => e.field),
    ['timezone', 'schedule'],
  );
  assert.match(errors[1].message, /hour field "25"/);
});

test('timezone: default UTC, IANA names accepted, others refused', () => {
  assert.equal(jobOf(base).timezone, 'UTC');
  assert.equal(jobOf({ ...base, timezone: 'America/New_York' }).timezone, 'America/New_York');
  // Accepted on every kind, even though only cron uses it.
  assert.equal(
    jobOf({ name: 'l', kind: 'loop', command: 'x', timezone: 'Asia/Tokyo' }).timezone,
    'Asia/Tokyo',
  );
  assert.equal(
    onlyError({ ...base, timezone: '+02:00' }).message,
    '"+02:00" is an offset, not a time zone; use an IANA name such as Europe/Paris or UTC',
  );
  assert.equal(onlyError({ ...base, timezone: 3 }).message, 'must be a string, got a number; quote it: "3"');
});

test('command is required and non-empty', () => {
  assert.deepEqual(onlyError({ ...base, command: undefined }), {
    field: 'command',
    message: 'required; the shell command to run with /bin/sh -c',
  });
  assert.deepEqual(onlyError({ ...base, command: ['ls', '-l'] }), {
    field: 'command',
    message: 'must be a string, got a list',
  });
});

test('env and selector must be maps of strings', () => {
  assert.deepEqual(onlyError({ ...base, env: ['A=1'] }), {
    field: 'env',
    message: 'must be a map of NAME: value, got a list',
  });
  assert.deepEqual(onlyError({ ...base, env: { DEBUG: true } }), {
    field: 'env.DEBUG',
    message: 'value must be a string, got a boolean; quote it: "true"',
  });
  assert.deepEqual(onlyError({ ...base, env: { EMPTY: null } }), {
    field: 'env.EMPTY',
    message: 'value must be a string, got null',
  });
  assert.deepEqual(onlyError({ ...base, selector: 'role=db' }), {
    field: 'selector',
    message: 'must be a map of node labels (label: value), got a string',
  });
  assert.equal(onlyError({ ...base, selector: { 'bad key!': 'x' } }).field, 'selector.bad key!');
});

test('timeout needs a unit and must be positive', () => {
  assert.deepEqual(onlyError({ ...base, timeout: 30 }), {
    field: 'timeout',
    message: '30 has no unit; add a unit, e.g. 30s',
  });
  assert.deepEqual(onlyError({ ...base, timeout: '30' }), {
    field: 'timeout',
    message: 'invalid duration "30": a bare number has no unit; add a unit, e.g. 30s',
  });
  assert.equal(jobTimeoutMs(jobOf({ ...base, timeout: '45s' })), 45_000);
  assert.equal(jobTimeoutMs(jobOf(base)), undefined);
});

test('loop: times and delay defaults and rules', () => {
  const loop = jobOf({ name: 'worker', kind: 'loop', command: './work' });
  assert.equal(loop.times, 0);
  assert.equal(loop.delay, '0s');
  assert.equal(loopDelayMs(loop), 0);
  const counted = jobOf({ name: 'worker', kind: 'loop', command: './work', times: 5, delay: '1m30s' });
  assert.equal(counted.times, 5);
  assert.equal(loopDelayMs(counted), 90_000);
  for (const bad of [-1, 1.5, '3']) {
    assert.deepEqual(onlyError({ name: 'w', kind: 'loop', command: 'x', times: bad }), {
      field: 'times',
      message: `must be a whole number >= 0 (0 runs forever), got ${JSON.stringify(bad)}`,
    });
  }
  assert.deepEqual(onlyError({ name: 'w', kind: 'loop', command: 'x', delay: 5 }), {
    field: 'delay',
    message: '5 has no unit; add a unit, e.g. 30s',
  });
  assert.match(
    onlyError({ name: 'w', kind: 'loop', command: 'x', delay: '5 minutes' }).message,
    /invalid duration "5 minutes"/,
  );
  assert.deepEqual(onlyError({ ...base, delay: '5s' }), {
    field: 'delay',
    message: 'only allowed on kind loop (this job is kind cron); remove it',
  });
  // Other kinds get no loop defaults.
  assert.equal('times' in jobOf(base), false);
  assert.equal(loopDelayMs(jobOf(base)), 0);
});

test('once: at is optional, needs an offset, and is normalised', () => {
  const triggered = jobOf({ name: 'migrate', kind: 'once', command: './migrate' });
  assert.equal('at' in triggered, false);
  assert.equal(
    jobOf({ name: 'm', kind: 'once', command: 'x', at: '2026-12-01T03:00:00+01:00' }).at,
    '2026-12-01T02:00:00.000Z',
  );
  assert.equal(
    jobOf({ name: 'm', kind: 'once', command: 'x', at: '2026-12-01T02:00Z' }).at,
    '2026-12-01T02:00:00.000Z',
  );
  assert.equal(
    jobOf({ name: 'm', kind: 'once', command: 'x', at: new Date('2026-12-01T02:00:00Z') }).at,
    '2026-12-01T02:00:00.000Z',
  );
  assert.deepEqual(onlyError({ name: 'm', kind: 'once', command: 'x', at: '2026-12-01T02:00:00' }), {
    field: 'at',
    message:
      '"2026-12-01T02:00:00" is not an ISO 8601 time with Z or an offset; e.g. 2026-12-01T02:00:00Z or 2026-12-01T03:00:00+01:00',
  });
  assert.match(
    onlyError({ name: 'm', kind: 'once', command: 'x', at: '2026-02-30T00:00:00Z' }).message,
    /is not a real date and time/,
  );
  assert.deepEqual(onlyError({ ...base, at: '2026-12-01T02:00:00Z' }), {
    field: 'at',
    message: 'only allowed on kind once (this job is kind cron); use a cron schedule for repeated runs',
  });
});

test('canonicalJob is stable across key order and fills defaults', () => {
  const full = jobOf({ ...base, env: { B: '2', A: '1' } });
  const reordered: JobSpec = {
    paused: false,
    policy: 'at-most-once',
    command: base.command,
    env: { A: '1', B: '2' },
    selector: {},
    timezone: 'UTC',
    schedule: base.schedule,
    kind: 'cron',
    name: 'backup',
  };
  assert.equal(canonicalJob(full), canonicalJob(reordered));
  assert.equal(
    canonicalJob(full),
    '{"command":"pg_dump db > /tmp/db.sql","env":{"A":"1","B":"2"},"kind":"cron","name":"backup","paused":false,"policy":"at-most-once","schedule":"0 2 * * *","selector":{},"timezone":"UTC"}',
  );
  // Defaults missing from a hand-built spec do not count as a change.
  const sparse = {
    name: 'backup',
    kind: 'cron',
    schedule: base.schedule,
    command: base.command,
    env: { A: '1', B: '2' },
  } as unknown as JobSpec;
  assert.equal(canonicalJob(sparse), canonicalJob(full));
  assert.notEqual(canonicalJob({ ...full, paused: true }), canonicalJob(full));
  const loop = jobOf({ name: 'w', kind: 'loop', command: 'x' });
  assert.equal(canonicalJob({ ...loop, times: undefined, delay: undefined }), canonicalJob(loop));
});
