import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runNow } from '../../agent/runner/exec';

const dir = mkdtempSync(join(tmpdir(), 'pc-runner-flood-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

test('a 50 MB flood: capped file, full count, bounded memory', { timeout: 60_000 }, async () => {
  const cap = 1024 * 1024;
  const logFile = join(dir, 'nested', 'job', 'flood.log');
  let seen = 0;
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  let rssPeak = rssBefore;
  const o = await runNow({
    runId: 'flood',
    command: "head -c 50000000 /dev/zero | tr '\\0' x",
    env: {},
    killGraceMs: 1000,
    logFile,
    logFileCapBytes: cap,
    tailBytes: 1000,
    onOutput: (c) => {
      seen += c.length;
      if ((seen & 0xfffff) < c.length) rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
    },
  }).done;
  rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
  assert.equal(o.status, 'succeeded');
  assert.equal(o.outputBytes, 50_000_000);
  assert.equal(seen, 50_000_000);
  assert.equal(o.tail, 'x'.repeat(1000));
  const marker = `\n[peppercorn] output truncated after ${cap} bytes\n`;
  assert.equal(statSync(logFile).size, cap + marker.length);
  assert.ok(readFileSync(logFile, 'utf8').endsWith(`x${marker}`));
  assert.ok(rssPeak - rssBefore < 100 * 1024 * 1024, `rss grew by ${rssPeak - rssBefore}`);
});
