// Alert rules (job field and cluster config) and raising alerts from run records.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateJob } from '../../agent/core/job/spec';
import { effectiveAlertRules } from '../../agent/core/job/alert-rules';
import {
  EMPTY_CONFIG,
  parseAlertingYaml,
  resolveAlert,
  type AlertingConfig,
} from '../../agent/core/alerting';
import { completeRun, skippedRun } from '../../agent/alert/raise';
import type { DepRecord, RunRecord } from '../../agent/core/records';

const base = { name: 'backup', kind: 'cron', schedule: '0 2 * * *', command: 'true' };

test('a job’s alerts field: rules, off, and field-by-field errors', () => {
  const ok = validateJob({
    ...base,
    alerts: { on: ['failure', 'lost'], consecutiveFailures: 3, deadman: '2h' },
  });
  assert.ok(ok.ok);
  assert.deepEqual(ok.job.alerts, { on: ['failure', 'lost'], consecutiveFailures: 3, deadman: '2h' });
  const off = validateJob({ ...base, alerts: 'off' });
  assert.ok(off.ok);
  assert.equal(off.job.alerts, false);
  const bad = validateJob({
    ...base,
    alerts: { on: ['explode'], consecutiveFailures: 1, deadman: '5', chanels: [] },
  });
  assert.ok(!bad.ok);
  const fields = bad.errors.map((e) => e.field).sort();
  assert.deepEqual(fields, ['alerts.chanels', 'alerts.consecutiveFailures', 'alerts.deadman', 'alerts.on']);
  assert.match(
    bad.errors.find((e) => e.field === 'alerts.on')!.message,
    /"explode".*failure, timeout, lost, missed/,
  );
});

test('effective rules: job fields over cluster defaults over the built-in ones; off silences', () => {
  assert.deepEqual(effectiveAlertRules(undefined, undefined), { on: ['failure', 'timeout', 'lost'] });
  assert.deepEqual(effectiveAlertRules({ deadman: '1h' }, { on: ['missed'], channels: ['ops'] }), {
    on: ['missed'],
    channels: ['ops'],
    deadman: '1h',
  });
  assert.equal(effectiveAlertRules(false, { on: ['failure'] }), null);
  assert.equal(effectiveAlertRules(undefined, false), null);
});

test('alerting config: channels validated, passwords refused, rule channels must exist', () => {
  const good = parseAlertingYaml(`
channels:
  ops: { type: webhook, url: "http://127.0.0.1:9/x", format: slack }
  page: { type: command, command: "logger alert" }
  mail: { type: smtp, host: smtp.example.com, from: cron@example.com, to: ops@example.com, passwordEnv: SMTP_PW, user: cron }
defaults: { on: [failure], channels: [ops] }
cluster: { nodeDown: 10s, noLeader: off, channels: [page] }
delivery: { attempts: 3 }
`);
  assert.ok(good.ok, JSON.stringify(!good.ok && good.errors));
  assert.deepEqual(Object.keys(good.config.channels).sort(), ['mail', 'ops', 'page']);
  assert.equal(good.config.cluster.noLeader, undefined);
  assert.equal(good.config.delivery.attempts, 3);
  assert.equal(good.config.delivery.backoff, '5s');
  const mail = good.config.channels.mail;
  assert.ok(mail.type === 'smtp' && mail.port === 25 && mail.to[0] === 'ops@example.com');

  const bad = parseAlertingYaml(`
channels:
  ops: { type: webhook, url: "ftp://x" }
  mail: { type: smtp, host: h, from: nobody, to: [a@b.c], password: hunter2 }
  x: { type: pager }
defaults: { channels: [opz] }
`);
  assert.ok(!bad.ok);
  const byField = Object.fromEntries(bad.errors.map((e) => [e.field, e.message]));
  assert.match(byField['channels.ops.url'], /http/);
  assert.match(byField['channels.mail.password'], /passwordEnv/);
  assert.match(byField['channels.mail.from'], /sender address/);
  assert.match(byField['channels.x.type'], /webhook, command or smtp/);
  assert.match(byField['defaults.channels'], /no channel named "opz"/);

  const ca = parseAlertingYaml(
    'channels:\n  m: { type: smtp, host: h, from: a@b.c, to: d@e.f, caFile: ca.pem }\n',
  );
  assert.ok(
    !ca.ok && /absolute path/.test(ca.errors[0].message) && ca.errors[0].field === 'channels.m.caFile',
  );

  const secrets = parseAlertingYaml(
    'channels:\n' +
      '  hook: { type: webhook, url: "https://h/x", headersEnv: { Authorization: HOOK_TOKEN } }\n' +
      '  m: { type: smtp, host: h, from: a@b.c, to: d@e.f, user: u, passwordEnv: PW, insecure: true }\n',
  );
  assert.ok(secrets.ok, JSON.stringify(!secrets.ok && secrets.errors));
  assert.deepEqual(secrets.config.channels.hook, {
    type: 'webhook',
    url: 'https://h/x',
    format: 'json',
    headersEnv: { Authorization: 'HOOK_TOKEN' },
  });
  assert.equal((secrets.config.channels.m as { insecure?: boolean }).insecure, true);
  const badSecrets = parseAlertingYaml(
    'channels:\n' +
      '  hook: { type: webhook, url: "https://h/x", headersEnv: { Authorization: "not a name" } }\n' +
      '  m: { type: smtp, host: h, from: a@b.c, to: d@e.f, insecure: yes-please }\n',
  );
  assert.ok(!badSecrets.ok);
  const secretErrors = Object.fromEntries(badSecrets.errors.map((e) => [e.field, e.message]));
  assert.match(secretErrors['channels.hook.headersEnv'], /environment variable/);
  assert.match(secretErrors['channels.m.insecure'], /without TLS/);

  const yamlError = parseAlertingYaml('channels: [\n');
  assert.ok(!yamlError.ok && yamlError.errors[0].field === '(yaml)');
});

const config: AlertingConfig = { ...EMPTY_CONFIG, channels: { ops: { type: 'command', command: 'true' } } };

function run(attempt: number, status: RunRecord['status'], at: number): RunRecord {
  return {
    id: `backup.${at}.${attempt}`,
    job: 'backup',
    node: 'n1',
    epoch: 1,
    attempt,
    cause: 'schedule',
    scheduledAt: at,
    claimedAt: at,
    status,
    endedAt: at + 10,
    exitCode: status === 'failed' ? 3 : 0,
  };
}

test('completing runs: one alert per failure, the streak alert once, the last success carried on', () => {
  const ctx = { config, jobAlerts: { on: ['failure' as const], consecutiveFailures: 3 } };
  let prev: DepRecord | undefined;
  const raised: string[] = [];
  const outcomes: RunRecord['status'][] = [
    'succeeded',
    'failed',
    'failed',
    'failed',
    'failed',
    'succeeded',
    'failed',
  ];
  outcomes.forEach((status, i) => {
    const done = completeRun(run(1, status, 1000 * (i + 1)), prev, ctx, 0);
    raised.push(...done.alerts.map((a) => a.id));
    prev = done.completion;
  });
  assert.deepEqual(raised, [
    'backup.2000.1.failure',
    'backup.3000.1.failure',
    'backup.4000.1.failure',
    'backup.4000.1.consecutive-failures',
    'backup.5000.1.failure',
    'backup.7000.1.failure',
  ]);
  assert.equal(prev!.failures, 1);
  assert.equal(prev!.lastSuccessAt, 6010);
  assert.equal(prev!.lastFailureAt, 7010);
  const afterSuccess = completeRun(run(1, 'succeeded', 8000), prev, ctx, 0).completion;
  assert.deepEqual([afterSuccess.lastSuccessAt, afterSuccess.lastFailureAt], [8010, 7010]);
  const first = completeRun(run(1, 'failed', 1), undefined, ctx, 0).alerts[0];
  assert.deepEqual(Object.keys(first.deliveries), ['open:ops']);
  assert.match(first.summary, /backup: run backup\.1\.1 failed \(exit 3\) on n1/);
});

test('a run the leader marked lost whose real outcome arrives later does not count twice', () => {
  const ctx = { config, jobAlerts: { on: ['lost' as const, 'failure' as const], consecutiveFailures: 2 } };
  const a = completeRun(run(1, 'failed', 1000), undefined, ctx, 0);
  const lost = completeRun(run(1, 'lost', 2000), a.completion, ctx, 0);
  assert.deepEqual(
    lost.alerts.map((x) => x.rule),
    ['lost', 'consecutive-failures'],
  );
  const real = completeRun(run(1, 'failed', 2000), lost.completion, ctx, 0);
  assert.equal(real.completion.failures, 2);
  assert.deepEqual(
    real.alerts.map((x) => x.rule),
    ['failure'],
    'the streak alert for this run was already raised',
  );
});

test('skipped runs raise `missed` only when asked; off and resolution notices', () => {
  const skipped = { ...run(1, 'skipped', 5000), count: 4, reason: 'no node could run it' };
  assert.deepEqual(skippedRun(skipped, { config, jobAlerts: undefined }, 0), []);
  const [missed] = skippedRun(skipped, { config, jobAlerts: { on: ['missed'] } }, 0);
  assert.equal(missed.id, 'backup.5000.1.missed');
  assert.match(missed.summary, /4 scheduled times not launched — no node could run it/);
  assert.deepEqual(completeRun(run(1, 'failed', 1), undefined, { config, jobAlerts: false }, 0).alerts, []);
  const resolved = resolveAlert(missed, 'backup succeeded again', 9);
  assert.equal(resolved.state, 'resolved');
  assert.deepEqual(Object.keys(resolved.deliveries).sort(), ['open:ops', 'resolved:ops']);
  const quiet = resolveAlert({ ...missed, notifyResolved: false }, 'x', 9);
  assert.deepEqual(Object.keys(quiet.deliveries), ['open:ops']);
});
