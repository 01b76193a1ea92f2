import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitParts, writeBytes, PART_LIMITS, type StagedWrite } from '../../agent/core/job/apply-parts';
import { MAX_TXN_OPS } from '../../agent/core/job/apply-plan';
import { mergeCursor } from '../../agent/core/staged-apply';

const created = (name: string, valueChars = 100): { name: string; writes: StagedWrite[] } => ({
  name,
  writes: [
    { put: `audit/jobs/${name}`, value: 'a'.repeat(valueChars) },
    { put: `jobs/${name}`, value: 'j'.repeat(valueChars) },
    { cursor: `cursors/${name}`, value: { t: 1000, n: 0 } },
  ],
});

const cursorsIn = (part: StagedWrite[]) => part.filter((w) => 'cursor' in w).length;
const bytesOf = (part: StagedWrite[]) => part.reduce((n, w) => n + writeBytes(w), 0);

test('parts: 10,000 created jobs fit etcd limits, in order, no job split across parts', () => {
  const groups = Array.from({ length: 10_000 }, (_, i) => created(`job-${i}`));
  const parts = splitParts(groups);
  // Every write once, in order.
  assert.deepEqual(
    parts.flat(),
    groups.flatMap((g) => g.writes),
  );
  for (const p of parts) {
    assert.ok(
      p.length + 1 <= MAX_TXN_OPS,
      `${p.length} writes and the record's own op exceed ${MAX_TXN_OPS}`,
    );
    assert.ok(cursorsIn(p) + 1 <= MAX_TXN_OPS);
    assert.ok(bytesOf(p) <= PART_LIMITS.bytes);
    // Whole jobs: a part starts with an audit put and holds multiples of 3 writes.
    assert.equal(p.length % 3, 0);
    assert.ok('put' in p[0] && p[0].put.startsWith('audit/'));
  }
  // Full parts: 42 jobs of 3 writes (126 ≤ 127).
  assert.equal(parts[0].length, 126);
  assert.equal(parts.length, Math.ceil(10_000 / 42));
});

test('parts: split by bytes before operations when values are large', () => {
  const groups = Array.from({ length: 50 }, (_, i) => created(`big-${i}`, 30_000));
  const parts = splitParts(groups);
  assert.ok(parts.length > 1);
  for (const p of parts) assert.ok(bytesOf(p) <= PART_LIMITS.bytes);
  assert.equal(parts.flat().length, 150);
});

test('parts: split by compares when the limit on compares binds first', () => {
  const groups = Array.from({ length: 10 }, (_, i) => created(`c-${i}`));
  const parts = splitParts(groups, { writes: 100, compares: 4, bytes: 1 << 20 });
  // The record's compare plus 3 cursors per part.
  assert.deepEqual(
    parts.map((p) => cursorsIn(p)),
    [3, 3, 3, 1],
  );
});

test('parts: a job too large for one transaction is refused with its name', () => {
  assert.throws(
    () => splitParts([created('ok'), created('huge', 600_000)]),
    /job "huge" alone is too large for one etcd transaction/,
  );
  assert.throws(
    () => splitParts([created('x')], { writes: 2, compares: 10, bytes: 1 << 20 }),
    /job "x" alone is too large/,
  );
});

test('parts: nothing to write, no parts', () => {
  assert.deepEqual(splitParts([]), []);
});

test('cursor merge: never moves a cursor back; a reset loop count stays reset', () => {
  assert.deepEqual(mergeCursor({ t: 100, n: 0 }, undefined), { t: 100, n: 0 });
  // A claim moved it past the staged time meanwhile.
  assert.deepEqual(mergeCursor({ t: 100, n: 0 }, { t: 250, n: 3 }), { t: 250, n: 0 });
  // Loop count kept (not reset by the apply): the claims' count wins.
  assert.deepEqual(mergeCursor({ t: 100, n: 2 }, { t: 90, n: 5 }), { t: 100, n: 5 });
  // A tombstone's removedAt does not survive into the re-created job's cursor.
  assert.deepEqual(mergeCursor({ t: 100 }, { t: 120, removedAt: 50 }), { t: 120 });
});
