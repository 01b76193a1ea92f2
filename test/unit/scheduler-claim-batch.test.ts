// Claims of one moment share a transaction, within etcd's per-transaction limit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planBatches } from '../../agent/scheduler/claim-batch';

const claim = (compares = 6, ops = 3, alone = false) => ({ compares, ops, alone });

test('claims are grouped in order until a group would pass the limit', () => {
  assert.deepEqual(planBatches([], 128), []);
  assert.deepEqual(planBatches([claim()], 128), [[0]]);
  assert.deepEqual(
    planBatches(
      Array.from({ length: 50 }, () => claim()),
      128,
    ),
    [
      Array.from({ length: 21 }, (_, i) => i),
      Array.from({ length: 21 }, (_, i) => i + 21),
      [42, 43, 44, 45, 46, 47, 48, 49],
    ],
  );
  // Writes count too: a claim with skipped records and alerts is bigger.
  assert.deepEqual(planBatches([claim(6, 100), claim(6, 20), claim(6, 20)], 128), [[0, 1], [2]]);
});

test('a claim holding semaphore slots, or too big to share, goes alone', () => {
  assert.deepEqual(planBatches([claim(), claim(8, 4, true), claim(), claim()], 128), [[1], [0, 2, 3]]);
  assert.deepEqual(planBatches([claim(), claim(6, 200), claim()], 128), [[1], [0, 2]]);
});

test('no group passes the limit, whatever the mix', () => {
  const claims = Array.from({ length: 500 }, (_, i) => claim(4 + (i % 7), 2 + ((i * 13) % 40), i % 11 === 0));
  const batches = planBatches(claims, 128);
  assert.deepEqual(
    batches.flat().sort((a, b) => a - b),
    claims.map((_, i) => i),
  );
  for (const b of batches) {
    assert.ok(b.reduce((n, i) => n + claims[i].compares, 0) <= 128);
    assert.ok(b.reduce((n, i) => n + claims[i].ops, 0) <= 128);
    if (b.some((i) => claims[i].alone)) assert.equal(b.length, 1);
  }
});
