// Each channel against a real receiver on loopback: a webhook, a shell command, SMTP.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { noticeOf, send } from '../../agent/alert/channels';
import { newAlert } from '../../agent/core/alerting';
import { WebhookReceiver, SmtpReceiver, TEST_CA_FILE } from '../harness/receivers';
import { processRunning } from '../../agent/runner/procgroup';
import { waitFor } from '../harness/cluster';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { redactKnown } from '../../agent/core/redact';

const alert = newAlert(
  {
    id: 'backup.1000.1.failure',
    rule: 'failure',
    job: 'backup',
    run: 'backup.1000.1',
    summary: 'backup failed',
  },
  ['ops'],
  true,
  1000,
);
const notice = noticeOf(alert, 'open', '/peppercorn/');
const hook = new WebhookReceiver();
const smtp = new SmtpReceiver();
const dir = mkdtempSync(join(tmpdir(), 'pc-alert-'));
before(async () => {
  await hook.start();
  await smtp.start();
});
after(async () => {
  await hook.stop();
  await smtp.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('webhook: JSON body with the idempotency key (header and body), no delivery bookkeeping', async () => {
  await send({ type: 'webhook', url: hook.url, format: 'json', headers: { 'x-token': 't' } }, notice, 5000);
  const r = hook.requests.at(-1)!;
  assert.equal(r.key, 'backup.1000.1.failure:open');
  assert.equal(r.body.idempotencyKey, 'backup.1000.1.failure:open');
  assert.equal((r.body.alert as { summary: string }).summary, 'backup failed');
  assert.equal((r.body.alert as { deliveries?: unknown }).deliveries, undefined);
});

test('webhook: Slack-compatible body', async () => {
  await send({ type: 'webhook', url: hook.url, format: 'slack' }, noticeOf(alert, 'resolved', '/p/'), 5000);
  const r = hook.requests.at(-1)!;
  assert.deepEqual(Object.keys(r.body), ['text']);
  assert.match(String(r.body.text), /^\[peppercorn \/p\/\] RESOLVED failure: backup failed/);
});

test('webhook: a non-2xx answer or no listener is a readable error', async () => {
  hook.failWith = 503;
  await assert.rejects(send({ type: 'webhook', url: hook.url, format: 'json' }, notice, 5000), /HTTP 503/);
  hook.failWith = undefined;
  await assert.rejects(
    send({ type: 'webhook', url: 'http://127.0.0.1:1/x', format: 'json' }, notice, 5000),
    /ECONNREFUSED/,
  );
});

test('webhook: a receiver that never answers times out', async () => {
  hook.hold = () => true;
  await assert.rejects(
    send({ type: 'webhook', url: hook.url, format: 'json' }, notice, 300),
    /did not answer/,
  );
  hook.hold = undefined;
});

test('command: the alert on stdin and in the environment; exit status decides', async () => {
  const out = join(dir, 'cmd.json');
  await send(
    { type: 'command', command: `cat > ${out}; echo "$PEPPERCORN_ALERT_KEY" >> ${out}` },
    notice,
    5000,
  );
  const [json, key] = readFileSync(out, 'utf8').trim().split('\n');
  assert.equal(JSON.parse(json).alert.id, 'backup.1000.1.failure');
  assert.equal(key, 'backup.1000.1.failure:open');
  await assert.rejects(
    send({ type: 'command', command: 'echo nope >&2; exit 4' }, notice, 5000),
    /exited with 4: nope/,
  );
});

test('command: one that hangs (ignoring SIGTERM, with a child) is killed at the timeout', async () => {
  const pidFile = join(dir, 'child.pid');
  await assert.rejects(
    send({ type: 'command', command: `trap '' TERM; sleep 30 & echo $! > ${pidFile}; wait` }, notice, 500),
    /did not finish within 500 ms/,
  );
  const pid = Number(readFileSync(pidFile, 'utf8'));
  // SIGKILL is asynchronous, and an orphan may linger as init's zombie: processRunning knows.
  await waitFor('the command’s child to be killed with it', () => !processRunning(pid), 5000);
});

test('smtp: a plain-text mail with the alert, AUTH PLAIN from the environment (in clear only when insecure)', async () => {
  process.env.PC_TEST_SMTP_PW = 's3cret';
  await send(
    {
      type: 'smtp',
      host: '127.0.0.1',
      port: smtp.port,
      secure: false,
      insecure: true,
      from: 'cron@example.com',
      to: ['ops@example.com', 'dev@example.com'],
      user: 'cron',
      passwordEnv: 'PC_TEST_SMTP_PW',
    },
    notice,
    5000,
  );
  const m = smtp.mails.at(-1)!;
  assert.equal(m.from, 'cron@example.com');
  assert.deepEqual(m.to, ['ops@example.com', 'dev@example.com']);
  assert.equal(m.auth, '\0cron\0s3cret');
  assert.match(m.data, /^Subject: \[peppercorn\] ALERT failure: backup failed$/m);
  assert.match(m.data, /Message-ID: <backup\.1000\.1\.failure:open@peppercorn>/);
  await assert.rejects(
    send(
      {
        type: 'smtp',
        host: '127.0.0.1',
        port: smtp.port,
        secure: false,
        from: 'a@b.c',
        to: ['d@e.f'],
        passwordEnv: 'PC_UNSET_X',
      },
      notice,
      5000,
    ),
    /PC_UNSET_X .* is not set/,
  );
});

test('smtp over TLS: STARTTLS when offered, or TLS from the start; the certificate is verified', async () => {
  const starttls = new SmtpReceiver('starttls');
  const implicit = new SmtpReceiver('implicit');
  await starttls.start();
  await implicit.start();
  try {
    const mail = { type: 'smtp' as const, host: '127.0.0.1', from: 'a@b.c', to: ['d@e.f'] };
    await send({ ...mail, port: starttls.port, secure: false, caFile: TEST_CA_FILE }, notice, 5000);
    assert.equal(starttls.mails.length, 1);
    assert.equal(starttls.mails[0].secure, true, 'upgraded with STARTTLS before the message');
    await send({ ...mail, port: implicit.port, secure: true, caFile: TEST_CA_FILE }, notice, 5000);
    assert.equal(implicit.mails.length, 1);
    assert.equal(implicit.mails[0].secure, true);
    // Without the CA, the self-signed server is refused, readably, and nothing is sent.
    await assert.rejects(
      send({ ...mail, port: starttls.port, secure: false }, notice, 5000),
      /SMTP 127\.0\.0\.1:\d+: self-signed certificate/,
    );
    assert.equal(starttls.mails.length, 1);
    await assert.rejects(
      send({ ...mail, port: implicit.port, secure: true, caFile: '/nonexistent/ca.pem' }, notice, 5000),
      /cannot read the SMTP CA file \/nonexistent\/ca\.pem/,
    );
  } finally {
    await starttls.stop();
    await implicit.stop();
  }
});

test('smtp: a server that does not offer STARTTLS (stripped) gets no login; the error says what to do', async () => {
  process.env.PC_TEST_SMTP_PW = 's3cret-stripped';
  const before = smtp.mails.length;
  const authsBefore = smtp.auths.length;
  const channel = {
    type: 'smtp' as const,
    host: '127.0.0.1',
    port: smtp.port,
    secure: false,
    from: 'cron@example.com',
    to: ['ops@example.com'],
    user: 'cron',
    passwordEnv: 'PC_TEST_SMTP_PW',
  };
  await assert.rejects(send(channel, notice, 5000), (err: Error) => {
    assert.match(err.message, /did not offer STARTTLS.*refused.*insecure: true/);
    assert.doesNotMatch(err.message, /s3cret/);
    return true;
  });
  assert.equal(smtp.mails.length, before, 'nothing sent');
  assert.equal(smtp.auths.length, authsBefore, 'no AUTH line reached the server');
  // Without a login, a mail may still go in clear (nothing secret in it but the alert).
  await send({ ...channel, user: undefined, passwordEnv: undefined }, notice, 5000);
  assert.equal(smtp.mails.length, before + 1);
});

test('smtp: a STARTTLS that fails (certificate not trusted) sends no login in clear', async () => {
  const starttls = new SmtpReceiver('starttls');
  await starttls.start();
  try {
    process.env.PC_TEST_SMTP_PW = 's3cret-tls';
    await assert.rejects(
      send(
        {
          type: 'smtp',
          host: '127.0.0.1',
          port: starttls.port,
          secure: false,
          insecure: true, // allows a server without STARTTLS, not a failed one
          from: 'a@b.c',
          to: ['d@e.f'],
          user: 'cron',
          passwordEnv: 'PC_TEST_SMTP_PW',
        },
        notice,
        5000,
      ),
      /self-signed certificate/,
    );
    assert.equal(starttls.auths.length, 0);
  } finally {
    await starttls.stop();
  }
});

test('webhook: headers from the agents’ environment (headersEnv); secrets redacted from errors', async () => {
  // A receiver that refuses and echoes what it got: the token and the URL's path.
  const echo = createServer((req, res) => {
    res.statusCode = 401;
    res.end(`bad token ${req.headers.authorization} for ${req.url}`);
  });
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(echo.address() as AddressInfo).port}/services/T0001/B0002/XyZtokenPathPart123`;
  try {
    const env = { PC_HOOK_TOKEN: 'Bearer tok-9a8b7c6d' };
    await assert.rejects(
      send(
        { type: 'webhook', url, format: 'json', headersEnv: { Authorization: 'PC_HOOK_TOKEN' } },
        notice,
        5000,
        env,
      ),
      (err: Error) => {
        assert.match(
          err.message,
          /HTTP 401: bad token \[redacted\] for \/services\/T0001\/B0002\/\[redacted\]/,
        );
        assert.doesNotMatch(err.message, /tok-9a8b7c6d|XyZtokenPathPart123/);
        return true;
      },
    );
    // The variable is read from the environment given (the agents'), never elsewhere.
    await assert.rejects(
      send(
        { type: 'webhook', url, format: 'json', headersEnv: { Authorization: 'PC_HOOK_TOKEN' } },
        notice,
        5000,
        {},
      ),
      /environment variable PC_HOOK_TOKEN \(the Authorization header of the webhook\) is not set/,
    );
    // Once read, the token is redacted from anything else this process reports.
    assert.equal(redactKnown('leaked Bearer tok-9a8b7c6d here'), 'leaked [redacted] here');
  } finally {
    echo.close();
  }
  // And it arrives as a header.
  await send(
    { type: 'webhook', url: hook.url, format: 'json', headersEnv: { 'x-token': 'PC_HOOK_TOKEN2' } },
    notice,
    5000,
    { PC_HOOK_TOKEN2: 'secret-header-value' },
  );
  assert.equal(hook.requests.at(-1)!.headers['x-token'], 'secret-header-value');
});
