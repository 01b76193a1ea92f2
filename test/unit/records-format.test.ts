// Every record carries its format version; a newer one is refused (never misread), an older
// one (no `v`) is read as format 1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decode,
  encode,
  onNewerFormat,
  CorruptValueError,
  NewerFormatError,
  RECORD_FORMAT,
  type NewerFormatError as NFE,
} from '../../agent/core/records';
import { decodeAlerting } from '../../agent/core/alerting';

const cursor = { t: 1000, n: 2 };

test('encode writes v first; decode reads it and hands the record back without it', () => {
  assert.equal(RECORD_FORMAT, 1);
  const text = encode(cursor);
  assert.equal(text, '{"v":1,"t":1000,"n":2}');
  assert.deepEqual(decode('cursor', 'cursors/x', text), cursor);
});

test('a record written before formats were numbered (no v) is format 1', () => {
  assert.deepEqual(decode('cursor', 'cursors/x', JSON.stringify(cursor)), cursor);
});

test('a newer format is refused with what to do, and reported to listeners', () => {
  const seen: NFE[] = [];
  const off = onNewerFormat((e) => seen.push(e));
  try {
    assert.throws(
      () => decode('cursor', 'cursors/x', JSON.stringify({ v: 2, t: 'changed meaning' })),
      (err: unknown) =>
        err instanceof NewerFormatError &&
        err instanceof CorruptValueError && // callers that skip corrupt values skip it too
        err.format === 2 &&
        /record at cursors\/x has format v2, newer than this agent understands \(v1\); left alone: upgrade this node/.test(
          err.message,
        ),
    );
  } finally {
    off();
  }
  assert.deepEqual(
    seen.map((e) => [e.key, e.format]),
    [['cursors/x', 2]],
  );
});

test('a v that is not a format version is a corrupt value', () => {
  for (const v of ['1', 0, 1.5, null])
    assert.throws(
      () => decode('cursor', 'cursors/x', JSON.stringify({ v, t: 1 })),
      /corrupt value at cursors\/x: field "v" \(the format version\) should be a whole number from 1/,
    );
});

test('the alerting config carries v too', () => {
  const cfg = { channels: {}, cluster: {}, delivery: {} };
  assert.equal(decodeAlerting(encode(cfg)).ok, true);
  const newer = decodeAlerting(JSON.stringify({ v: 9, ...cfg }));
  assert.equal(newer.ok, false);
  assert.match((newer as { problem: string }).problem, /format v9, newer than this agent understands/);
});
