// Services without etcd: batching of streams, saved clusters and their secrets, the editor's check.
import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBatcher } from '../../electron/services/batcher';
import { ConnectionStore, type SecretCodec } from '../../electron/services/connections';
import { validateReport } from '../../electron/services/console-services';
import { parseConsoleArgs } from '../../electron/services/console-command';

test('stream output is batched into frames: by time, and at once past the size cap', () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    const frames: string[] = [];
    const b = createBatcher((f) => frames.push(f.toString()), { intervalMs: 16, maxBytes: 10 });
    b.push(Buffer.from('ab'));
    b.push(Buffer.from('cd'));
    assert.deepEqual(frames, [], 'nothing sent before the frame interval');
    mock.timers.tick(16);
    assert.deepEqual(frames, ['abcd'], 'one frame for both chunks');
    b.push(Buffer.from('0123456789abcdefghijk'));
    assert.deepEqual(frames.slice(1), ['0123456789', 'abcdefghij', 'k'], 'a large push is split at the cap');
    b.push(Buffer.from('tail'));
    b.flush();
    assert.equal(frames.at(-1), 'tail');
    b.close();
    b.push(Buffer.from('late'));
    mock.timers.tick(100);
    assert.equal(frames.at(-1), 'tail', 'nothing after close');
  } finally {
    mock.timers.reset();
  }
});

const fakeCodec = (available: boolean): SecretCodec => ({
  available: () => available,
  encrypt: (s) => 'enc:' + Buffer.from(s).toString('base64'),
  decrypt: (s) => Buffer.from(s.slice(4), 'base64').toString(),
});

test('passwords never come back to the renderer, and are stored only encrypted', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pc-conn-'));
  try {
    const file = join(dir, 'clusters.json');
    const store = new ConnectionStore({ file, codec: fakeCodec(true) });
    const p = store.save({
      name: 'prod',
      endpoints: ['http://e1:2379'],
      prefix: 'prod',
      user: 'ops',
      password: 'hunter2',
    });
    assert.equal(p.hasPassword, true);
    assert.equal(p.prefix, '/prod/');
    assert.doesNotMatch(JSON.stringify(store.list()), /hunter2/);
    assert.doesNotMatch(readFileSync(file, 'utf8'), /hunter2/);
    // Saving without a password keeps it; the services still connect with it.
    store.save({ id: p.id, name: 'prod', endpoints: ['http://e1:2379'], prefix: '/prod/', user: 'ops' });
    const reloaded = new ConnectionStore({ file, codec: fakeCodec(true) });
    assert.equal(reloaded.connectOptions(p.id).password, 'hunter2');
    assert.equal(reloaded.list().secureStorage, true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('without a keyring, passwords are not written to disk and the user is told', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pc-conn-'));
  try {
    const file = join(dir, 'clusters.json');
    const store = new ConnectionStore({ file, codec: fakeCodec(false) });
    store.save({ name: 'x', endpoints: ['http://e1:2379'], prefix: '/', password: 'hunter2' });
    assert.doesNotMatch(readFileSync(file, 'utf8'), /hunter2|enc:/);
    assert.equal(store.list().secureStorage, false);
    assert.match(store.list().storageNote, /No OS keyring/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the editor's check uses the job model: reasons per field, YAML and 10 next times", () => {
  const bad = validateReport({ name: 'x', kind: 'cron', schedule: '61 * * * *', command: 'true' });
  assert.equal(bad.ok, false);
  assert.ok(bad.errors.some((e) => e.field === 'schedule' && /minute/.test(e.message)));
  const good = validateReport(
    { name: 'x', kind: 'cron', schedule: '0 9 * * *', timezone: 'Europe/Paris', command: 'true' },
    Date.UTC(2030, 0, 1),
  );
  assert.equal(good.ok, true);
  assert.equal(good.next?.length, 10);
  // 09:00 in Paris in January is 08:00 UTC.
  assert.equal(new Date(good.next![0]).toISOString(), '2030-01-01T08:00:00.000Z');
  assert.match(good.yaml!, /timezone: Europe\/Paris/);
  assert.equal(validateReport({ name: 'l', kind: 'loop', command: 'true' }).next, undefined);
});

test('console arguments: --port N and --no-open; anything else is a usage error', () => {
  assert.deepEqual(parseConsoleArgs([]), { port: 0, open: true });
  assert.deepEqual(parseConsoleArgs(['--port', '8080', '--no-open']), { port: 8080, open: false });
  assert.deepEqual(parseConsoleArgs(['--port=9000']), { port: 9000, open: true });
  assert.throws(() => parseConsoleArgs(['--port', 'x']), /--port takes a port number/);
  assert.throws(() => parseConsoleArgs(['--bogus']), /unknown option "--bogus"/);
});
