// Services without etcd: batching of streams, saved clusters and their secrets, the editor's check.
import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBatcher } from '../../agent/console/server/batcher';
import {
  ClearTextRefused,
  ConnectionStore,
  storagePolicy,
  type SecretCodec,
} from '../../agent/console/server/connection-store';
import { validateReport } from '../../agent/console/server/validate-report';
import { parseConsoleArgs } from '../../agent/console/server/console-command';

test('stream output is batched into frames: by time, and at once past the size cap', () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    const frames: [string, number | undefined][] = [];
    const b = createBatcher((f, mark) => frames.push([f.toString(), mark]), { intervalMs: 16, maxBytes: 10 });
    b.push(Buffer.from('ab'), 1);
    b.push(Buffer.from('cd'), 2);
    assert.deepEqual(frames, [], 'nothing sent before the frame interval');
    mock.timers.tick(16);
    assert.deepEqual(frames, [['abcd', 2]], 'one frame for both chunks, resuming after the last');
    // Frames end between pushes only: a reader's resume mark is always exact.
    b.push(Buffer.from('012345'), 3);
    b.push(Buffer.from('6789ab'), 4);
    assert.deepEqual(
      frames.slice(1),
      [['012345', 3]],
      'the frame is cut before the push that would overflow it',
    );
    b.push(Buffer.from('0123456789abcdefghijk'), 5);
    assert.deepEqual(
      frames.slice(2),
      [
        ['6789ab', 4],
        ['0123456789abcdefghijk', 5],
      ],
      'a push larger than the cap goes alone, whole',
    );
    b.push(Buffer.from('tail'));
    b.flush();
    assert.deepEqual(frames.at(-1), ['tail', undefined], 'no mark: the reader keeps its last one');
    b.close();
    b.push(Buffer.from('late'), 9);
    mock.timers.tick(100);
    assert.deepEqual(frames.at(-1), ['tail', undefined], 'nothing after close');
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

const codecWith = (available: boolean, backend?: string): SecretCodec => ({
  ...fakeCodec(available),
  backend: backend === undefined ? undefined : () => backend,
});

test('where a password would go: keyring, clear text (no keyring, or Linux basic_text), or memory', () => {
  assert.equal(storagePolicy(codecWith(true), true).mode, 'keyring', 'macOS/Windows: encryption available');
  assert.equal(storagePolicy(codecWith(true, 'gnome_libsecret'), true).mode, 'keyring');
  assert.equal(storagePolicy(codecWith(true, 'kwallet5'), true).mode, 'keyring');
  // Linux without a keyring: "available", but with a key built into Chromium.
  const basic = storagePolicy(codecWith(true, 'basic_text'), true);
  assert.equal(basic.mode, 'clear-text');
  assert.match(basic.note, /No OS keyring.*basic_text.*clear text/s);
  assert.equal(storagePolicy(codecWith(true, 'unknown'), true).mode, 'clear-text');
  assert.match(storagePolicy(codecWith(false), true).note, /offers no encryption/);
  assert.equal(storagePolicy(undefined, true).mode, 'clear-text');
  assert.equal(storagePolicy(codecWith(false), false).mode, 'memory', 'the web console writes nothing');
});

test('without a keyring, a password is refused unless the user agrees to clear text', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pc-conn-'));
  try {
    const file = join(dir, 'clusters.json');
    const store = new ConnectionStore({ file, codec: codecWith(true, 'basic_text') });
    const list = store.list();
    assert.equal(list.secureStorage, false);
    assert.match(list.clearTextWarning ?? '', /clear text/);
    const input = { name: 'x', endpoints: ['http://e1:2379'], prefix: '/', user: 'ops', password: 'hunter2' };
    assert.throws(() => store.save(input), ClearTextRefused);
    assert.equal(store.list().profiles.length, 0, 'nothing saved');
    // Without a password there is nothing to protect: saved.
    const p = store.save({ ...input, password: undefined });
    assert.doesNotMatch(readFileSync(file, 'utf8'), /hunter2/);
    // With the user's yes: in clear text, marked so, and read back.
    const saved = store.save({ ...input, id: p.id, storeInClearText: true });
    assert.equal(saved.passwordInClearText, true);
    assert.match(readFileSync(file, 'utf8'), /"passwordClearText": "hunter2"/);
    assert.doesNotMatch(JSON.stringify(store.list()), /hunter2/);
    const reloaded = new ConnectionStore({ file, codec: codecWith(true, 'basic_text') });
    assert.equal(reloaded.connectOptions(p.id).password, 'hunter2');
    // Editing other fields keeps the agreement; a keyring appearing later encrypts it.
    reloaded.save({ ...input, id: p.id, name: 'renamed', password: undefined });
    assert.match(readFileSync(file, 'utf8'), /"passwordClearText": "hunter2"/);
    const withKeyring = new ConnectionStore({ file, codec: codecWith(true, 'gnome_libsecret') });
    withKeyring.persist();
    assert.doesNotMatch(readFileSync(file, 'utf8'), /hunter2/);
    assert.equal(
      new ConnectionStore({ file, codec: codecWith(true, 'gnome_libsecret') }).connectOptions(p.id).password,
      'hunter2',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the web console keeps passwords in memory: no file, no question', () => {
  const store = new ConnectionStore();
  const p = store.save({ name: 'x', endpoints: ['http://e1:2379'], prefix: '/', password: 'hunter2' });
  assert.equal(store.connectOptions(p.id).password, 'hunter2');
  assert.equal(store.list().clearTextWarning, undefined);
  assert.match(store.list().storageNote, /in memory/);
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
