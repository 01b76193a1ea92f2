import { test } from 'node:test';
import { runnerFixture } from './runner-fixture';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runNow } from '../../agent/runner/exec';

const { dir, spec } = runnerFixture('exec');

const isRoot = process.getuid?.() === 0;

test('exit 0 is succeeded, with output in tail, log file and onOutput', async () => {
  const chunks: Buffer[] = [];
  const s = spec('echo out; echo err >&2', { onOutput: (c) => chunks.push(c) });
  const o = await runNow(s).done;
  assert.equal(o.status, 'succeeded');
  assert.equal(o.exitCode, 0);
  assert.equal(o.signal, null);
  assert.ok(o.startedAt > 0 && o.endedAt >= o.startedAt);
  assert.equal(o.outputBytes, 8);
  assert.equal(Buffer.concat(chunks).length, 8);
  assert.equal([...o.tail].sort().join(''), [...'out\nerr\n'].sort().join(''));
  assert.equal(readFileSync(s.logFile, 'utf8').length, 8);
});

test('non-zero exit is failed with the exit code', async () => {
  const o = await runNow(spec('exit 3')).done;
  assert.equal(o.status, 'failed');
  assert.equal(o.exitCode, 3);
});

test('death by signal is failed with the signal', async () => {
  const o = await runNow(spec('kill -TERM $$')).done;
  assert.equal(o.status, 'failed');
  assert.equal(o.signal, 'SIGTERM');
  assert.equal(o.exitCode, null);
});

test('env vars reach the command, over the agent env', async () => {
  const o = await runNow(
    spec('printf "%s %s" "$PEPPERCORN_RUN_ID" "$PATH"', { env: { PEPPERCORN_RUN_ID: 'abc' } }),
  ).done;
  assert.equal(o.tail, `abc ${process.env.PATH}`);
});

test('workdir is the cwd', async () => {
  const o = await runNow(spec('pwd', { workdir: dir })).done;
  assert.equal(o.tail, `${dir}\n`);
});

test('missing workdir fails with a clear error and no throw', async () => {
  const s = spec('echo hi', { workdir: join(dir, 'nope') });
  const o = await runNow(s).done;
  assert.equal(o.status, 'failed');
  assert.equal(o.startedAt, 0);
  assert.match(o.error ?? '', /working directory .*nope does not exist/);
  assert.match(readFileSync(s.logFile, 'utf8'), /does not exist/);
});

test('workdir that is a file fails with a clear error', async () => {
  const o = await runNow(spec('echo hi', { workdir: '/etc/passwd' })).done;
  assert.equal(o.status, 'failed');
  assert.match(o.error ?? '', /not a directory/);
});

test('unknown user fails with a clear error', async () => {
  const o = await runNow(spec('echo hi', { user: 'peppercorn-no-such-user' })).done;
  assert.equal(o.status, 'failed');
  assert.match(o.error ?? '', isRoot ? /unknown user/ : /agent is not root/);
});

test('runs as another user when root', { skip: !isRoot && 'needs root' }, async () => {
  const uid = Number(/^nobody:[^:]*:(\d+):/m.exec(readFileSync('/etc/passwd', 'utf8'))?.[1]);
  const o = await runNow(spec('id -u; echo "$HOME $USER $LOGNAME"', { user: 'nobody' })).done;
  assert.equal(o.status, 'succeeded');
  const [id, idents] = o.tail.trim().split('\n');
  assert.equal(Number(id), uid);
  assert.match(idents, / nobody nobody$/);
  // The second run takes the cached account.
  const again = await runNow(spec('id -u', { user: 'nobody' })).done;
  assert.equal(Number(again.tail.trim()), uid);
});

test('a broken onOutput callback does not break the run', async () => {
  const o = await runNow(
    spec('echo hi', {
      onOutput: () => {
        throw new Error('boom');
      },
    }),
  ).done;
  assert.equal(o.status, 'succeeded');
});

test('tail keeps the last bytes, cut at a character boundary', async () => {
  // 'é' is 2 bytes: 5 bytes of tail starts in the middle of one.
  const o = await runNow(spec("printf 'ééé'", { tailBytes: 5 })).done;
  assert.equal(o.outputBytes, 6);
  assert.equal(o.tail, 'éé');
});

test(
  'release and cancel while the user lookup is still pending',
  { skip: !isRoot && 'needs root' },
  async () => {
    // 'daemon' is resolved for the first time here, so the spawn waits for getent.
    const released = await runNow(spec('id -un', { user: 'daemon' })).done;
    assert.equal(released.status, 'succeeded');
    assert.equal(released.tail, 'daemon\n');
    const bad = await runNow(spec('true', { user: 'bin', workdir: join(dir, 'nope') })).done;
    assert.equal(bad.status, 'failed');
    assert.equal(bad.startedAt, 0);
    assert.match(bad.error ?? '', /does not exist/);
  },
);
