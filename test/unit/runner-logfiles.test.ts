import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pruneLogs, readLog, runLogPath } from '../../agent/runner/logfiles';

function freshDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'pc-runner-logs-'));
  process.on('exit', () => rmSync(d, { recursive: true, force: true }));
  return d;
}

function writeLog(dataDir: string, job: string, runId: string, bytes: number, mtimeMs: number): string {
  const p = runLogPath(dataDir, job, runId);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, Buffer.alloc(bytes, 'x'));
  utimesSync(p, mtimeMs / 1000, mtimeMs / 1000);
  return p;
}

test('runLogPath layout, and names cannot escape their directory', () => {
  assert.equal(runLogPath('/var/lib/pc', 'backup', 'r-1'), '/var/lib/pc/logs/backup/r-1.log');
  assert.equal(runLogPath('/d', '../etc', 'a/b'), '/d/logs/..%2Fetc/a%2Fb.log');
  assert.equal(runLogPath('/d', '..', '.'), '/d/logs/%2E%2E/%2E.log');
});

test('pruneLogs by age removes old files and empty job dirs', async () => {
  const d = freshDir();
  const now = Date.now();
  const old = writeLog(d, 'a', '1', 10, now - 3_600_000);
  const fresh = writeLog(d, 'b', '2', 10, now - 1000);
  const r = await pruneLogs(d, { maxAgeMs: 60_000, maxTotalBytes: 1e9, now });
  assert.deepEqual(r, { removed: 1, freedBytes: 10 });
  assert.equal(existsSync(old), false);
  assert.equal(existsSync(dirname(old)), false);
  assert.equal(existsSync(fresh), true);
});

test('pruneLogs by size removes the oldest first', async () => {
  const d = freshDir();
  const now = Date.now();
  const a = writeLog(d, 'j', 'a', 100, now - 4000);
  const b = writeLog(d, 'k', 'b', 100, now - 3000);
  const c = writeLog(d, 'j', 'c', 100, now - 2000);
  const r = await pruneLogs(d, { maxAgeMs: 3_600_000, maxTotalBytes: 150, now });
  assert.deepEqual(r, { removed: 2, freedBytes: 200 });
  assert.equal(existsSync(a), false);
  assert.equal(existsSync(b), false);
  assert.equal(existsSync(c), true);
  assert.equal(existsSync(dirname(b)), false);
});

test('pruneLogs on a missing logs dir is a no-op', async () => {
  assert.deepEqual(await pruneLogs(join(freshDir(), 'none'), { maxAgeMs: 1, maxTotalBytes: 1 }), {
    removed: 0,
    freedBytes: 0,
  });
});

test('readLog with offset, negative offset and maxBytes', async () => {
  const d = freshDir();
  const p = join(d, 'x.log');
  writeFileSync(p, '0123456789');
  assert.equal((await readLog(p, {})).toString(), '0123456789');
  assert.equal((await readLog(p, { offset: 3, maxBytes: 4 })).toString(), '3456');
  assert.equal((await readLog(p, { offset: -3 })).toString(), '789');
  assert.equal((await readLog(p, { offset: 50 })).length, 0);
  await assert.rejects(readLog(join(d, 'missing.log'), {}), { code: 'ENOENT' });
});
