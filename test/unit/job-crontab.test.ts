import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crontabToJobs } from '../../agent/core/job/crontab';
import { fnv1a32 } from '../../agent/core/job/hash';
import { validateJob } from '../../agent/core/job/spec';

const lines = (...text: string[]) => text.join('\n') + '\n';

test('a plain line becomes a cron job named after the command', () => {
  const { jobs, warnings } = crontabToJobs(
    lines('# nightly', '', '0 2 * * * /usr/local/bin/backup.sh --full'),
    'crontab',
  );
  assert.deepEqual(warnings, []);
  assert.deepEqual(jobs, [
    {
      name: 'backup-sh',
      kind: 'cron',
      schedule: '0 2 * * *',
      timezone: 'UTC',
      command: '/usr/local/bin/backup.sh --full',
      env: {},
      selector: {},
      policy: 'at-most-once',
      paused: false,
      description: 'imported from crontab line 3',
    },
  ]);
});

test('environment lines apply to the jobs after them', () => {
  const { jobs, warnings } = crontabToJobs(
    lines(
      '0 1 * * * first',
      'PATH=/usr/bin:/bin',
      'GREETING = "hello world"',
      "QUOTED='a b'",
      '0 2 * * * second',
      'EMPTY=',
      '0 3 * * * third',
    ),
    'crontab',
  );
  assert.deepEqual(warnings, []);
  assert.deepEqual(
    jobs.map((job) => [job.name, job.env]),
    [
      ['first', {}],
      ['second', { PATH: '/usr/bin:/bin', GREETING: 'hello world', QUOTED: 'a b' }],
      ['third', { PATH: '/usr/bin:/bin', GREETING: 'hello world', QUOTED: 'a b', EMPTY: '' }],
    ],
  );
});

test('CRON_TZ and TZ set the time zone of the following jobs; TZ is also passed on', () => {
  const { jobs, warnings } = crontabToJobs(
    lines(
      '0 1 * * * a',
      'CRON_TZ=Europe/Paris',
      '0 2 * * * b',
      'TZ=Asia/Tokyo',
      '0 3 * * * c',
      'CRON_TZ=Mars/Olympus',
      '0 4 * * * d',
    ),
    'crontab',
  );
  assert.deepEqual(
    jobs.map((job) => [job.name, job.timezone, job.env]),
    [
      ['a', 'UTC', {}],
      ['b', 'Europe/Paris', {}],
      ['c', 'Asia/Tokyo', { TZ: 'Asia/Tokyo' }],
      ['d', 'Asia/Tokyo', { TZ: 'Asia/Tokyo' }],
    ],
  );
  assert.deepEqual(warnings, [
    'crontab:6: CRON_TZ ignored: unknown time zone "Mars/Olympus"; use an IANA name such as Europe/Paris or UTC',
  ]);
});

test('SHELL and MAILTO are ignored with a reason', () => {
  const { jobs, warnings } = crontabToJobs(
    lines('SHELL=/bin/bash', 'MAILTO=""', '* * * * * date'),
    'crontab',
  );
  assert.equal(jobs.length, 1);
  assert.deepEqual(jobs[0].env, {});
  assert.deepEqual(warnings, [
    'crontab:1: SHELL=/bin/bash ignored: Peppercorn always runs commands with /bin/sh -c',
    'crontab:2: MAILTO= ignored: Peppercorn does not send mail; output is kept in run history',
  ]);
});

test('macros are kept and @reboot is skipped with a warning', () => {
  const { jobs, warnings } = crontabToJobs(
    lines('@reboot /opt/start', '@daily /opt/rotate-logs', '@hourly  ping -c1 gw'),
    'crontab',
  );
  assert.deepEqual(
    jobs.map((job) => [job.name, job.schedule, job.command]),
    [
      ['rotate-logs', '@daily', '/opt/rotate-logs'],
      ['ping', '@hourly', 'ping -c1 gw'],
    ],
  );
  assert.deepEqual(warnings, [
    'crontab:1: @reboot skipped: Peppercorn has no boot event; make it a once job and trigger it',
  ]);
});

test('% ends the command with a warning; \\% is a literal percent', () => {
  const { jobs, warnings } = crontabToJobs(
    lines('0 0 * * * date +\\%Y-\\%m-\\%d > /tmp/today', '0 1 * * * mail -s hi root%Dear root,%bye'),
    'crontab',
  );
  assert.deepEqual(
    jobs.map((job) => job.command),
    ['date +%Y-%m-%d > /tmp/today', 'mail -s hi root'],
  );
  assert.deepEqual(warnings, [
    'crontab:2: "%" ends the command here; cron would feed the rest to it as stdin, which Peppercorn does not: dropped "Dear root,%bye" (write \\% for a literal %)',
  ]);
});

test('unparseable lines warn with their line number and are skipped', () => {
  const { jobs, warnings } = crontabToJobs(
    lines(
      'hello there',
      '61 * * * * bad-minute',
      '* * * * *',
      '@weekly',
      '@fortnightly x',
      '*/10 * * * * ok',
    ),
    'my.cron',
  );
  assert.deepEqual(
    jobs.map((job) => job.name),
    ['ok'],
  );
  assert.deepEqual(warnings, [
    'my.cron:1: skipped, not a cron line (need 5 time fields and a command): hello there',
    'my.cron:2: skipped: invalid cron expression "61 * * * *": minute field "61": Constraint error, got value 61 expected range 0-59',
    'my.cron:3: skipped, not a cron line (need 5 time fields and a command): * * * * *',
    'my.cron:4: skipped: no command',
    'my.cron:5: skipped: unknown macro "@fortnightly"; use one of @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly, @every <duration>',
  ]);
});

test('names are unique: a stable hash suffix where commands share a first word', () => {
  const text = lines(
    '0 1 * * * backup.sh db',
    '0 2 * * * backup.sh files',
    '*/5 * * * * /usr/bin/env python3 x.py',
    '0 3 * * * backup.sh db',
    '0 3 * * * backup.sh db',
  );
  const first = crontabToJobs(text, 'crontab');
  const suffix = (schedule: string, command: string) =>
    fnv1a32(`${schedule}\n${command}`).toString(16).padStart(8, '0').slice(0, 6);
  assert.deepEqual(
    first.jobs.map((job) => job.name),
    [
      `backup-sh-${suffix('0 1 * * *', 'backup.sh db')}`,
      `backup-sh-${suffix('0 2 * * *', 'backup.sh files')}`,
      'env',
      `backup-sh-${suffix('0 3 * * *', 'backup.sh db')}`,
      `backup-sh-${suffix('0 3 * * *', 'backup.sh db')}-2`,
    ],
  );
  // Re-importing the same file gives the same names.
  assert.deepEqual(
    crontabToJobs(text, 'crontab').jobs.map((job) => job.name),
    first.jobs.map((job) => job.name),
  );
  assert.equal(new Set(first.jobs.map((job) => job.name)).size, 5);
});

test('odd first words still give valid names', () => {
  const { jobs } = crontabToJobs(
    lines('* * * * * ./My_Script.PY', '* * * * * ___', `* * * * * ${'x'.repeat(80)}`),
    'crontab',
  );
  assert.deepEqual(
    jobs.map((job) => job.name),
    ['my-script-py', 'job', 'x'.repeat(50)],
  );
  for (const job of jobs) assert.ok(validateJob(job).ok, job.name);
});

test('/etc/crontab and cron.d files have a user column', () => {
  const { jobs, warnings } = crontabToJobs(
    lines('17 * * * * root cd / && run-parts /etc/cron.hourly'),
    '/etc/crontab',
  );
  assert.deepEqual(warnings, []);
  assert.equal(jobs[0].user, 'root');
  assert.equal(jobs[0].command, 'cd / && run-parts /etc/cron.hourly');
  assert.equal(jobs[0].name, 'cd');
  assert.equal(
    crontabToJobs(lines('@daily www-data /srv/cleanup'), '/etc/cron.d/web').jobs[0].user,
    'www-data',
  );
});

test('every imported job passes validateJob', () => {
  const { jobs } = crontabToJobs(
    lines(
      'CRON_TZ=America/New_York',
      'A=1',
      '30 4 * * 1-5 /bin/report',
      '@every 10s echo hi',
      '0 0 1 * * du -sh /var',
    ),
    'crontab',
  );
  assert.equal(jobs.length, 3);
  for (const job of jobs) {
    const result = validateJob(job);
    assert.ok(result.ok);
    assert.deepEqual(result.job, job);
  }
});
