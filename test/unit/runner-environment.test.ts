// A run's environment is built from a short list, never inherited from the agent: the agent's
// secrets (its etcd password, an SMTP password) must not reach a job or an alert command.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { DEFAULT_PATH, runEnvironment } from '../../agent/runner/environment';
import { runNow } from '../../agent/runner/exec';
import { runnerFixture } from './runner-fixture';

const { spec } = runnerFixture('environment');
const isRoot = process.getuid?.() === 0;

const node = {
  PATH: '/opt/bin:/usr/bin',
  LANG: 'C.UTF-8',
  TZ: 'Europe/Paris',
  HOME: '/root',
  USER: 'root',
  PEPPERCORN_PASSWORD: 'etcd-secret',
  SMTP_PASSWORD: 'smtp-secret',
  AWS_SECRET_ACCESS_KEY: 'cloud-secret',
};
const reports = { name: 'reports', home: '/srv/reports', shell: '/bin/bash' };

test('only PATH, LANG, TZ from the node; HOME, USER, LOGNAME, SHELL of the account', () => {
  assert.deepEqual(runEnvironment(node, reports), {
    PATH: '/opt/bin:/usr/bin',
    LANG: 'C.UTF-8',
    TZ: 'Europe/Paris',
    HOME: '/srv/reports',
    USER: 'reports',
    LOGNAME: 'reports',
    SHELL: '/bin/bash',
  });
});

test("the job's env overrides the defaults; the run's PEPPERCORN_* variables win over the job's", () => {
  const env = runEnvironment(
    node,
    reports,
    { PATH: '/job/bin', PEPPERCORN_JOB: 'forged', BUCKET: 's3://x' },
    { PEPPERCORN_JOB: 'nightly' },
  );
  assert.equal(env.PATH, '/job/bin');
  assert.equal(env.BUCKET, 's3://x');
  assert.equal(env.PEPPERCORN_JOB, 'nightly');
});

test('an agent without PATH, LANG or TZ: a default PATH, nothing made up for the others', () => {
  const env = runEnvironment({}, { name: 'x', home: '' });
  assert.deepEqual(env, { PATH: DEFAULT_PATH, HOME: '/', USER: 'x', LOGNAME: 'x', SHELL: '/bin/sh' });
});

test('a real run sees none of the agent’s variables', async () => {
  process.env.PEPPERCORN_PASSWORD = 'etcd-secret-in-agent';
  process.env.PC_TEST_SMTP_SECRET = 'smtp-secret-in-agent';
  try {
    const o = await runNow(spec('env', { env: { JOB_VAR: 'mine', PEPPERCORN_RUN_ID: 'r1' } })).done;
    assert.equal(o.status, 'succeeded');
    const names = o.tail
      .trim()
      .split('\n')
      .map((l) => l.slice(0, l.indexOf('=')));
    assert.doesNotMatch(o.tail, /secret-in-agent/);
    // PWD is the shell's own (POSIX shells export it).
    const allowed = [
      'PATH',
      'LANG',
      'TZ',
      'HOME',
      'USER',
      'LOGNAME',
      'SHELL',
      'PWD',
      'JOB_VAR',
      'PEPPERCORN_RUN_ID',
    ];
    assert.deepEqual(
      names.filter((n) => !allowed.includes(n)),
      [],
      o.tail,
    );
  } finally {
    delete process.env.PEPPERCORN_PASSWORD;
    delete process.env.PC_TEST_SMTP_SECRET;
  }
});

test('run as another user: its HOME, USER, LOGNAME, SHELL', { skip: !isRoot && 'needs root' }, async () => {
  const o = await runNow(spec('echo "$HOME|$USER|$LOGNAME|$SHELL"', { user: 'nobody' })).done;
  assert.equal(o.status, 'succeeded');
  const f = /^nobody:.*$/m.exec(readFileSync('/etc/passwd', 'utf8'))![0].split(':');
  assert.equal(o.tail.trim(), `${f[5]}|nobody|nobody|${f[6]}`);
});
