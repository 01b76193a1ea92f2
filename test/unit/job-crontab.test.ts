import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { crontabToJobs, nameFromFile } from '../../agent/core/job/crontab';
import { validateJob } from '../../agent/core/job/spec';

const lines = (...text: string[]) => text.join('\n') + '\n';

test('a plain line becomes a cron job named after the file, in the given zone', () => {
  const { jobs, warnings } = crontabToJobs(
    lines('# nightly', '', '0 2 * * * /usr/local/bin/backup.sh --full'),
    '/var/spool/cron/crontabs/alice',
    { timezone: 'Europe/Paris', user: 'alice' },
  );
  assert.deepEqual(warnings, []);
  assert.deepEqual(jobs, [
    {
      name: 'alice-1',
      kind: 'cron',
      schedule: '0 2 * * *',
      timezone: 'Europe/Paris',
      command: '/usr/local/bin/backup.sh --full',
      env: {},
      user: 'alice',
      selector: {},
      policy: 'at-most-once',
      paused: false,
      description: 'imported from /var/spool/cron/crontabs/alice line 3',
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
      ['crontab-1', {}],
      ['crontab-2', { PATH: '/usr/bin:/bin', GREETING: 'hello world', QUOTED: 'a b' }],
      ['crontab-3', { PATH: '/usr/bin:/bin', GREETING: 'hello world', QUOTED: 'a b', EMPTY: '' }],
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
    { timezone: 'America/Chicago' },
  );
  assert.deepEqual(
    jobs.map((job) => [job.name, job.timezone, job.env]),
    [
      ['crontab-1', 'America/Chicago', {}],
      ['crontab-2', 'Europe/Paris', {}],
      ['crontab-3', 'Asia/Tokyo', { TZ: 'Asia/Tokyo' }],
      ['crontab-4', 'Asia/Tokyo', { TZ: 'Asia/Tokyo' }],
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
      ['crontab-1', '@daily', '/opt/rotate-logs'],
      ['crontab-2', '@hourly', 'ping -c1 gw'],
    ],
  );
  assert.deepEqual(warnings, [
    'crontab:1: @reboot skipped: Peppercorn has no boot event; make it a once job and trigger it',
  ]);
});

test('% starts the stdin, kept as a here-document; \\% is a literal percent', () => {
  const { jobs, warnings } = crontabToJobs(
    lines(
      '0 0 * * * date +\\%Y-\\%m-\\%d > /tmp/today',
      '0 1 * * * mail -s hi root%Dear root,%50\\% done%bye',
      '0 2 * * * sort | uniq%b%a%b',
    ),
    'crontab',
  );
  assert.deepEqual(
    jobs.map((job) => job.command),
    [
      'date +%Y-%m-%d > /tmp/today',
      "mail -s hi root <<'PEPPERCORN_STDIN'\nDear root,\n50% done\nbye\nPEPPERCORN_STDIN",
      "{\nsort | uniq\n} <<'PEPPERCORN_STDIN'\nb\na\nb\nPEPPERCORN_STDIN",
    ],
  );
  assert.deepEqual(warnings, []);
});

test('the here-document feeds the command what cron would', () => {
  const { jobs } = crontabToJobs(lines('0 1 * * * tr a-z A-Z | sort%b%a'), 'crontab');
  const r = spawnSync('/bin/sh', ['-c', jobs[0].command], { encoding: 'utf8' });
  assert.equal(r.stdout, 'A\nB\n');
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
    ['my-1'],
  );
  assert.deepEqual(warnings, [
    'my.cron:1: skipped, not a cron line (need 5 time fields and a command): hello there',
    'my.cron:2: skipped: invalid cron expression "61 * * * *": minute field "61": Constraint error, got value 61 expected range 0-59',
    'my.cron:3: skipped, not a cron line (need 5 time fields and a command): * * * * *',
    'my.cron:4: skipped: no command',
    'my.cron:5: skipped: unknown macro "@fortnightly"; use one of @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly, @every <duration>',
  ]);
});

test('names come from the file name, numbered in line order, and stay valid', () => {
  const text = lines('0 1 * * * backup.sh db', '0 2 * * * backup.sh files', '0 3 * * * backup.sh db');
  const { jobs } = crontabToJobs(text, '/home/al/My Jobs.cron');
  assert.deepEqual(
    jobs.map((j) => j.name),
    ['my-jobs-1', 'my-jobs-2', 'my-jobs-3'],
  );
  assert.equal(nameFromFile('/etc/cron.d/e2scrub_all'), 'e2scrub-all');
  assert.equal(nameFromFile('-'), 'crontab');
  const long = crontabToJobs(lines('* * * * * x'), `/tmp/${'y'.repeat(80)}`).jobs[0];
  assert.ok(validateJob(long).ok, long.name);
});

test('/etc/crontab and cron.d files have a user column', () => {
  const { jobs, warnings } = crontabToJobs(
    lines('17 * * * * root cd / && run-parts /etc/cron.hourly'),
    '/etc/crontab',
  );
  assert.deepEqual(warnings, []);
  assert.equal(jobs[0].user, 'root');
  assert.equal(jobs[0].command, 'cd / && run-parts /etc/cron.hourly');
  assert.equal(jobs[0].name, 'crontab-1');
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
