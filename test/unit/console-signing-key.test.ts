// The console's signing key: read from a file where the services run, kept like a password
// (encrypted with the OS keyring), never returned to the renderer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConnectionStore,
  ClearTextRefused,
  type SecretCodec,
} from '../../agent/console/server/connection-store';
import { generateKeyFiles, signJob, verifyJob, loadTrustedKeys } from '../../agent/core/signing';
import { validateJob } from '../../agent/core/job/spec';

const codec = (available: boolean, backend?: string): SecretCodec => ({
  available: () => available,
  backend: backend === undefined ? undefined : () => backend,
  encrypt: (s) => 'enc:' + Buffer.from(s).toString('base64'),
  decrypt: (s) => Buffer.from(s.slice(4), 'base64').toString(),
});

test('a signing key is stored encrypted, never shown, and signs after a restart', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pc-signkey-'));
  try {
    const made = generateKeyFiles(join(dir, 'ops.key'));
    const file = join(dir, 'clusters.json');
    const store = new ConnectionStore({ file, codec: codec(true) });
    const p = store.save({
      name: 'prod',
      endpoints: ['http://e1:2379'],
      prefix: '/',
      signingKeyFile: join(dir, 'ops.key'),
    });
    assert.equal(p.signingKeyId, made.id);
    const pem = readFileSync(join(dir, 'ops.key'), 'utf8');
    const secret = pem.split('\n')[1];
    assert.doesNotMatch(JSON.stringify(store.list()), new RegExp(secret.slice(0, 20)));
    assert.doesNotMatch(readFileSync(file, 'utf8'), /PRIVATE KEY|MC4CAQ/);
    // Saving again without naming a key keeps it; after a restart it still signs.
    store.save({ id: p.id, name: 'prod', endpoints: ['http://e1:2379'], prefix: '/' });
    const reloaded = new ConnectionStore({ file, codec: codec(true) });
    const key = reloaded.signingKey(p.id);
    assert.ok(key);
    const r = validateJob({ name: 'x', schedule: '@daily', command: 'true' });
    assert.ok(r.ok);
    assert.equal(verifyJob(signJob(r.job, key), loadTrustedKeys([made.pubPath])).ok, true);
    assert.equal(reloaded.get(p.id)?.signingKeyId, made.id);
    // An empty file name forgets it.
    reloaded.save({ id: p.id, name: 'prod', endpoints: ['http://e1:2379'], prefix: '/', signingKeyFile: '' });
    assert.equal(reloaded.signingKey(p.id), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('without a keyring a signing key is refused unless the user agrees to clear text', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pc-signkey-'));
  try {
    generateKeyFiles(join(dir, 'ops.key'));
    const store = new ConnectionStore({ file: join(dir, 'c.json'), codec: codec(true, 'basic_text') });
    const input = {
      name: 'p',
      endpoints: ['http://e:2379'],
      prefix: '/',
      signingKeyFile: join(dir, 'ops.key'),
    };
    assert.throws(() => store.save(input), ClearTextRefused);
    assert.equal(store.save({ ...input, storeInClearText: true }).signingKeyId?.length, 16);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
