import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { OutputBatcher } from '../../agent/runner/output';

function recorder(delayMs = 0) {
  const sent: { data: string; seq: number }[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const send = async (data: Buffer, seq: number) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    if (delayMs) await sleep(delayMs);
    sent.push({ data: data.toString(), seq });
    inFlight--;
  };
  return { sent, send, maxInFlight: () => maxInFlight };
}

test('splits at maxBatchBytes and sends sequentially with increasing seq', async () => {
  const r = recorder(5);
  const b = new OutputBatcher({ flushMs: 10_000, maxBatchBytes: 4, capBytes: 1000, send: r.send });
  b.push(Buffer.from('abcdefghij'));
  b.push(Buffer.from('kl'));
  await b.close();
  assert.deepEqual(r.sent, [
    { data: 'abcd', seq: 0 },
    { data: 'efgh', seq: 1 },
    { data: 'ijkl', seq: 2 },
  ]);
  assert.equal(r.maxInFlight(), 1);
  assert.equal(b.shippedBytes, 12);
  assert.equal(b.droppedBytes, 0);
});

test('flushes flushMs after the first unflushed byte', async () => {
  const r = recorder();
  const b = new OutputBatcher({ flushMs: 50, maxBatchBytes: 1000, capBytes: 1000, send: r.send });
  b.push(Buffer.from('a'));
  b.push(Buffer.from('b'));
  await sleep(20);
  assert.equal(r.sent.length, 0);
  await sleep(80);
  assert.deepEqual(r.sent, [{ data: 'ab', seq: 0 }]);
  b.push(Buffer.from('c'));
  await b.close();
  assert.deepEqual(r.sent[1], { data: 'c', seq: 1 });
});

test('cap: excess is dropped and counted, final marker sent on close', async () => {
  const r = recorder();
  const b = new OutputBatcher({ flushMs: 10_000, maxBatchBytes: 100, capBytes: 5, send: r.send });
  b.push(Buffer.from('abc'));
  b.push(Buffer.from('defgh'));
  b.push(Buffer.from('ij'));
  await b.close();
  assert.equal(b.droppedBytes, 5);
  assert.equal(b.shippedBytes, 5);
  assert.deepEqual(
    r.sent.map((s) => s.data),
    ['abcde', "\n[peppercorn] output beyond 5 bytes is in the node's log file\n"],
  );
  assert.deepEqual(
    r.sent.map((s) => s.seq),
    [0, 1],
  );
});

test('no marker when nothing was cut', async () => {
  const r = recorder();
  const b = new OutputBatcher({ flushMs: 10, maxBatchBytes: 100, capBytes: 5, send: r.send });
  b.push(Buffer.from('abcde'));
  await b.close();
  assert.deepEqual(
    r.sent.map((s) => s.data),
    ['abcde'],
  );
});

test('a failed send is reported and dropped; later sends continue', async () => {
  const sent: string[] = [];
  const errors: unknown[] = [];
  const b = new OutputBatcher({
    flushMs: 10_000,
    maxBatchBytes: 2,
    capBytes: 100,
    send: async (data, seq) => {
      if (seq === 1) throw new Error('etcd down');
      sent.push(`${seq}:${data}`);
    },
    onError: (e) => errors.push(e),
  });
  b.push(Buffer.from('aabbcc'));
  await b.close();
  assert.deepEqual(sent, ['0:aa', '2:cc']);
  assert.equal(errors.length, 1);
  assert.equal(b.shippedBytes, 4);
  assert.equal(b.failedBytes, 2);
});

test('close waits for sends in flight and is idempotent', async () => {
  const r = recorder(30);
  const b = new OutputBatcher({ flushMs: 10_000, maxBatchBytes: 1, capBytes: 100, send: r.send });
  b.push(Buffer.from('xyz'));
  await Promise.all([b.close(), b.close()]);
  assert.equal(r.sent.length, 3);
  b.push(Buffer.from('late'));
  assert.equal(b.droppedBytes, 4);
});
