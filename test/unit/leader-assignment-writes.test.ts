import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  splitFenced,
  writeFenced,
  describeMoves,
  WRITES_IN_FLIGHT,
  MOVES_LOGGED_EACH,
} from '../../agent/leader/assignment-writes';
import { MAX_TXN_OPS } from '../../agent/core/job/apply-plan';
import type { IOperation } from 'etcd3';

test('fenced batches: the leader compare and the shared compares fit beside the operations', () => {
  const ops = Array.from({ length: 10_000 }, (_, i) => i);
  const batches = splitFenced(ops, 0);
  assert.deepEqual(batches.flat(), ops);
  for (const b of batches) assert.ok(b.length + 1 <= MAX_TXN_OPS);
  assert.equal(batches[0].length, MAX_TXN_OPS - 1);
  // Two mod-revision compares on every transaction (settling an orphan run).
  for (const b of splitFenced(ops.slice(0, 300), 2)) assert.ok(b.length + 1 + 2 <= MAX_TXN_OPS);
  assert.deepEqual(splitFenced([], 0), []);
  assert.throws(() => splitFenced([1], MAX_TXN_OPS - 1), /no room/);
});

test('fenced writes: a few in flight, every batch once, and none started after one fails', async () => {
  const batches = Array.from({ length: 20 }, (_, i) => [i as unknown as IOperation]);
  let inFlight = 0;
  let most = 0;
  const seen: number[] = [];
  const ok = await writeFenced(batches, async (b) => {
    inFlight++;
    most = Math.max(most, inFlight);
    await new Promise((r) => setTimeout(r, 1));
    inFlight--;
    seen.push(b[0] as unknown as number);
    return true;
  });
  assert.equal(ok, true);
  assert.deepEqual(
    [...seen].sort((a, b) => a - b),
    batches.map((_, i) => i),
  );
  assert.equal(most, WRITES_IN_FLIGHT);

  const started: number[] = [];
  const failed = await writeFenced(batches, async (b) => {
    const i = b[0] as unknown as number;
    started.push(i);
    await new Promise((r) => setTimeout(r, 1));
    return i !== 2; // a deposed leader: the fence fails
  });
  assert.equal(failed, false);
  // Those already in flight finish; nothing is started after the failure is known.
  assert.ok(started.length < batches.length, `${started.length} started`);
});

test('move log: one line each when few, one per node when many', () => {
  const few = [{ job: 'a', node: 'n1', reason: 'new job (or its assignment was missing)' }];
  assert.deepEqual(describeMoves(few), ['assign a → n1: new job (or its assignment was missing)']);
  const many = Array.from({ length: 3000 }, (_, i) => ({
    job: `j-${i}`,
    node: `n${(i % 3) + 1}`,
    reason: i < 2999 ? 'new job (or its assignment was missing)' : 'node n4 is gone',
  }));
  const lines = describeMoves(many);
  assert.equal(lines.length, 3);
  assert.equal(lines[0], 'assign 1000 jobs → n1 (j-0 …): 1000 × new job (or its assignment was missing)');
  assert.match(lines[2], /^assign 1000 jobs → n3 \(j-2 …\): 999 × new job .*; 1 × node n4 is gone$/);
  assert.equal(describeMoves(many.slice(0, MOVES_LOGGED_EACH)).length, MOVES_LOGGED_EACH);
});
