// Secrets stay with the agent and its files stay private, with a real agent (root) and real jobs:
// a job running as nobody, and an alert command, see a minimal environment that holds none of the
// agent's secrets; the data dir is 0700 and run logs 0600; and a `user:` job released by a start
// line still runs although the data dir is closed to it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { AgentProc, CLI, TestCluster, waitFor } from '../harness/cluster';
import { SmtpReceiver } from '../harness/receivers';
import { runLogPath } from '../../agent/runner/logfiles';
import type { RunRecord } from '../../agent/core/records';

const isRoot = process.getuid?.() === 0;
const tc = new TestCluster();
const ETCD_SECRET = 'etcd-pw-4f9c1d';
const SMTP_SECRET = 'smtp-pw-8b27e0';
const alertEnvFile = tc.path('alert-env.txt');
const testEnvFile = tc.path('test-env.txt');
const smtp = new SmtpReceiver('plain');
let agent: AgentProc;

/** The variable names a run may see (runner/environment.ts), plus what the shell itself exports. */
const MINIMAL = ['PATH', 'LANG', 'TZ', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'PWD'];

function names(envDump: string): string[] {
  return envDump
    .split('\n')
    .filter((l) => /^[A-Za-z_][A-Za-z0-9_]*=/.test(l))
    .map((l) => l.slice(0, l.indexOf('=')));
}

before(async () => {
  await tc.start();
  await smtp.start();
  const r = tc.cli(
    ['alerts', 'config', 'apply', '-f', '-'],
    `channels:\n  page: { type: command, command: "env > ${alertEnvFile}" }\n` +
      `  local: { type: command, command: "env > ${testEnvFile}" }\n` +
      `  mail: { type: smtp, host: 127.0.0.1, port: ${smtp.port}, from: a@b.c, to: d@e.f, user: u, passwordEnv: OPERATOR_CLOUD_KEY, insecure: true }\n` +
      `  hook: { type: webhook, url: "http://127.0.0.1:${smtp.port}/", headersEnv: { Authorization: OPERATOR_CLOUD_KEY } }\n` +
      // Jobs without their own alerts notify `page` only: the other channels are for alerts test.
      `defaults: { channels: [page] }\ncluster: { nodeDown: off, noLeader: off }\ndelivery: { attempts: 3, backoff: 200ms, timeout: 10s }\n`,
  );
  assert.equal(r.status, 0, r.stderr);
  // A data dir left open by an earlier install: the agent makes it private.
  const dataDir = tc.path('n1');
  mkdirSync(dataDir, { mode: 0o755 });
  chmodSync(dataDir, 0o755);
  // The password without a user is not used to log in (this etcd has no auth), but it is a secret
  // in the agent's environment all the same, as is the SMTP password an alert channel would name.
  agent = new AgentProc('n1', dataDir, tc.path('n1.log'), ['--lease-ttl', '3'], {
    ...tc.env(),
    PEPPERCORN_PASSWORD: ETCD_SECRET,
    SMTP_PASSWORD: SMTP_SECRET,
  });
  tc.agents.set('n1', agent);
  await tc.ready(['n1']);
});
after(async () => {
  await tc.stop();
  await smtp.stop();
});

async function firstRun(job: string, done: (r: RunRecord) => boolean): Promise<RunRecord> {
  return waitFor(`a finished run of ${job}`, async () =>
    (await tc.store.listRuns(job, 20)).find((r) => r.status !== 'running' && done(r)),
  );
}

test(
  'a user: nobody job, released by a start line, runs with a 0700 data dir and sees none of the agent’s secrets',
  { skip: !isRoot && 'needs root (run as another user)' },
  async () => {
    tc.apply(
      `name: as-nobody\nkind: cron\nschedule: "* * * * * *"\nuser: nobody\n` +
        `env: { JOB_VAR: mine }\ncommand: "env; echo I am $(id -un)"\n`,
    );
    const run = await firstRun('as-nobody', (r) => r.cause === 'schedule');
    tc.apply(`name: as-nobody\nkind: cron\nschedule: "* * * * * *"\ncommand: "true"\npaused: true\n`);
    assert.equal(run.status, 'succeeded', `${run.reason ?? ''} ${run.tail ?? ''}`);
    const out = run.tail ?? '';
    assert.match(out, /^I am nobody$/m);
    assert.match(out, /^USER=nobody$/m);
    assert.match(out, /^JOB_VAR=mine$/m);
    assert.doesNotMatch(out, new RegExp(`${ETCD_SECRET}|${SMTP_SECRET}`));
    const extra = names(out).filter(
      (n) => !MINIMAL.includes(n) && n !== 'JOB_VAR' && !n.startsWith('PEPPERCORN_'),
    );
    assert.deepEqual(extra, [], out);
    const pcVars = names(out).filter((n) => n.startsWith('PEPPERCORN_'));
    assert.deepEqual(pcVars.sort(), [
      'PEPPERCORN_ATTEMPT',
      'PEPPERCORN_JOB',
      'PEPPERCORN_NODE',
      'PEPPERCORN_RUN_ID',
      'PEPPERCORN_SCHEDULED_AT',
    ]);
  },
);

test('the data dir is 0700, run log directories 0700 and run logs 0600', async () => {
  tc.apply(`name: prints\nkind: once\ncommand: "echo private output"\n`);
  const runId = (tc.cli(['job', 'run', 'prints']).stdout || '').trim();
  const run = await firstRun('prints', (r) => r.id === runId);
  assert.equal(run.status, 'succeeded');
  const mode = (p: string) => (statSync(p).mode & 0o777).toString(8);
  const log = runLogPath(agent.dataDir, 'prints', runId);
  assert.equal(mode(agent.dataDir), '700', 'made private at start although it was 0755');
  assert.equal(mode(join(agent.dataDir, 'logs')), '700');
  assert.equal(mode(join(agent.dataDir, 'logs', 'prints')), '700');
  assert.equal(mode(log), '600');
  assert.equal(mode(join(agent.dataDir, 'lease.json')), '600');
  assert.match(agent.log(), /data dir .* was open to others \(mode 755\); made it private/);
});

test('an alert command runs with the minimal environment: no agent secret', async () => {
  tc.apply(`name: fails\nkind: once\ncommand: "exit 3"\nalerts: { on: [failure], channels: [page] }\n`);
  tc.cli(['job', 'run', 'fails']);
  await waitFor(
    'the alert command to run',
    () => existsSync(alertEnvFile) && readFileSync(alertEnvFile, 'utf8'),
  );
  const out = readFileSync(alertEnvFile, 'utf8');
  assert.match(out, /^PEPPERCORN_ALERT_RULE=failure$/m);
  assert.doesNotMatch(out, new RegExp(`${ETCD_SECRET}|${SMTP_SECRET}`));
  const extra = names(out).filter((n) => !MINIMAL.includes(n) && !n.startsWith('PEPPERCORN_ALERT_'));
  assert.deepEqual(extra, [], out);
});

test('alerts test from a workstation: a command channel only with --allow-command and a minimal environment; no secret of the operator read', async () => {
  // The operator's shell holds a secret; the alerting config in etcd names it.
  const operator = { ...tc.env(), OPERATOR_CLOUD_KEY: 'cloud-key-5e6f7a' };
  const alertsTest = (...args: string[]) =>
    spawnSync(process.execPath, [CLI, 'alerts', 'test', ...args], { env: operator, encoding: 'utf8' });

  const refused = alertsTest('local');
  assert.equal(refused.status, 2, refused.stderr);
  assert.match(
    refused.stderr,
    /runs a command .* on this machine; check it, then run peppercorn alerts test local --allow-command/,
  );
  assert.equal(existsSync(testEnvFile), false, 'the command did not run');

  const allowed = alertsTest('local', '--allow-command');
  assert.equal(allowed.status, 0, allowed.stderr);
  const env = readFileSync(testEnvFile, 'utf8');
  assert.doesNotMatch(env, /cloud-key-5e6f7a|PEPPERCORN_ETCD/);
  const extra = names(env).filter((n) => !MINIMAL.includes(n) && !n.startsWith('PEPPERCORN_ALERT_'));
  assert.deepEqual(extra, [], env);

  for (const channel of ['mail', 'hook']) {
    const r = alertsTest(channel);
    assert.equal(r.status, 2, r.stderr);
    assert.match(
      r.stderr,
      /takes a secret from the agents' environment .*OPERATOR_CLOUD_KEY.*does not read your environment/,
    );
    assert.doesNotMatch(r.stderr, /cloud-key-5e6f7a/);
  }
  assert.deepEqual(smtp.auths, [], 'nothing reached the SMTP server');
  assert.deepEqual(smtp.mails, []);
});
