// The agent/CLI config fails closed: one strict validator, secrets only from private files
// or the environment, never a silent fallback to a default etcd.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateConfig, readConfigFile, ConfigError } from '../../agent/core/agent-config';
import { resolveConnection } from '../../agent/cli/connection';
import { explain } from '../../agent/cli/commands/explain';

const dir = mkdtempSync(join(tmpdir(), 'pc-config-'));
const file = (name: string, text: string, mode = 0o600) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  chmodSync(p, mode);
  return p;
};
const problems = (v: unknown) => {
  const r = validateConfig(v);
  return r.ok ? [] : r.problems.map((p) => `${p.field}: ${p.message}`);
};

test('unknown keys are refused with "did you mean"; wrong types are named with the key', () => {
  assert.deepEqual(problems({ etdc: 'http://x:2379' }), ['etdc: unknown key "etdc"; did you mean "etcd"?']);
  assert.deepEqual(problems({ endpoints: ['http://x:2379'] }), [
    'endpoints: unknown key "endpoints"; did you mean "etcd"?',
  ]);
  assert.deepEqual(problems({ password: 12345 }), [
    'password: must be a string, got the number 12345; quote it: "12345"',
  ]);
  assert.deepEqual(problems({ leaseTtl: 'five' }), ['leaseTtl: must be a whole number ≥ 2, got a string']);
  assert.deepEqual(problems({ historyWindow: '5 minutes' }), [
    'historyWindow: "5 minutes" is not a duration; use e.g. 30s, 1m30s or 2h (units ms, s, m, h, d)',
  ]);
  assert.match(problems({ frobnicate: 1 })[0], /unknown key "frobnicate"; known keys: etcd, prefix/);
  assert.deepEqual(problems([1, 2]), ['(file): must be a map, got a list']);
});

test('endpoints: a string, a comma list, or a YAML list', () => {
  for (const etcd of ['http://a:2379', 'http://a:2379,http://b:2379', ['http://a:2379', 'http://b:2379']]) {
    const p = file('ok.yaml', `etcd: ${JSON.stringify(etcd)}\n`);
    const c = resolveConnection({ config: p }, {});
    assert.deepEqual(
      c.connect.endpoints,
      typeof etcd === 'string' && !etcd.includes(',')
        ? ['http://a:2379']
        : ['http://a:2379', 'http://b:2379'],
    );
  }
});

test('a malformed config never falls back to http://127.0.0.1:2379', () => {
  for (const [text, field] of [
    ['etcd: [http://a:2379, 5]\n', 'etcd[1]'],
    ['etcd: {a: b}\n', 'etcd'],
    ['password: 12345\n', 'password'],
    ['prefix: [\n', '(yaml)'],
  ]) {
    const p = file('bad.yaml', text);
    assert.throws(
      () => resolveConnection({ config: p }, {}),
      (err: Error) =>
        err instanceof ConfigError &&
        err.message.includes(`  ${field}: `) &&
        /nothing was used/.test(err.message),
      text,
    );
  }
  assert.throws(() => resolveConnection({ config: join(dir, 'missing.yaml') }, {}), /cannot read/);
  assert.throws(() => resolveConnection({}, { PEPPERCORN_CONFIG: join(dir, 'missing.yaml') }), /cannot read/);
});

test('a password is taken only from a private file or the environment; never from the command line', () => {
  const open = file('open.yaml', 'etcd: https://a:2379\nuser: u\npassword: s3cret\n', 0o644);
  assert.throws(() => readConfigFile(open), /readable by others \(mode 0644\); run: chmod 600 /);
  const group = file('group.yaml', 'etcd: https://a:2379\nuser: u\npassword: s3cret\n', 0o640);
  assert.throws(() => readConfigFile(group), /readable by its group/);
  const priv = file('priv.yaml', 'etcd: https://a:2379\nuser: u\npassword: s3cret\n');
  assert.equal(resolveConnection({ config: priv }, {}).connect.password, 's3cret');
  const pw = file('pw', 'from-file\n');
  assert.equal(
    resolveConnection({ passwordFile: pw, user: 'u', etcd: 'https://a:2379' }, {}).connect.password,
    'from-file',
  );
  const openPw = file('openpw', 'x\n', 0o604);
  assert.throws(() => resolveConnection({ passwordFile: openPw }, {}), /chmod 600/);
  assert.throws(
    () => resolveConnection({ password: 'x' }, {}),
    /--password is not accepted.*PEPPERCORN_PASSWORD.*--password-file/,
  );
  // Over http:// the password is used, with a warning.
  const plain = resolveConnection({ user: 'u', etcd: 'http://a:2379' }, { PEPPERCORN_PASSWORD: 'p' });
  assert.match(plain.warnings.join(), /password over plain http:\/\/ to http:\/\/a:2379/);
  assert.deepEqual(resolveConnection({ etcd: 'https://a:2379' }, { PEPPERCORN_PASSWORD: 'p' }).warnings, []);
});

test('TLS: --cert/--key without --cacert use the system CAs; half a pair or http:// is refused', () => {
  const c = resolveConnection({ etcd: 'https://a:2379', cert: '/c.pem', key: '/k.pem' }, {});
  assert.equal(c.connect.cacert, undefined);
  assert.equal(c.connect.cert, '/c.pem');
  assert.throws(
    () => resolveConnection({ etcd: 'https://a:2379', cert: '/c.pem' }, {}),
    /--cert and --key go together/,
  );
  assert.throws(() => resolveConnection({ etcd: 'http://a:2379', cacert: '/ca.pem' }, {}), /plain http:\/\//);
});

test('explain prints a field from the same definition, and suggests a near miss', () => {
  assert.match(
    explain('job.retries'),
    /^FIELD: job\.retries\nTYPE: {2}a number of retries, or \{ count, backoff \}\n\nRetry a failed run/,
  );
  assert.match(explain('job.retries'), /count +a whole number ≥ 0, required/);
  assert.match(explain('config.etcd'), /etcd endpoints/);
  assert.match(explain('alerting.delivery.attempts'), /Attempts per notice/);
  assert.throws(() => explain('job.retrys'), /no such field; did you mean job\.retries\?/);
  assert.throws(() => explain('nope'), /start with job, alerting, config/);
});
