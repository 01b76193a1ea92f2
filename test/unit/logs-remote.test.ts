// The decisions behind reading any run's whole log: where --tail and --since start, which source a
// reader uses, and which requests a node accepts. Pure: no etcd, no files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  INDEX_STEP_MS,
  decodeIndexEntry,
  encodeIndexEntry,
  sinceStart,
  tailStart,
  tailStartOf,
  type IndexEntry,
} from '../../agent/core/log-seek';
import { LOG_WINDOW_BYTES, parseLogRequest, isRequestId, newRequestId } from '../../agent/core/log-requests';
import { planSource, shippedOutput } from '../../agent/api/run-output';
import { shipCapMarker } from '../../agent/core/ship-marker';
import { keys } from '../../agent/core/keys';
import type { RunRecord } from '../../agent/core/records';

test('tailStart: the start of the last N lines, a final newline ending the last line', () => {
  const cases: [string, number, string][] = [
    ['a\nb\nc\n', 1, 'c\n'],
    ['a\nb\nc\n', 2, 'b\nc\n'],
    ['a\nb\nc\n', 3, 'a\nb\nc\n'],
    ['a\nb\nc\n', 9, 'a\nb\nc\n'],
    ['a\nb\nc', 1, 'c'],
    ['a\nb\nc', 2, 'b\nc'],
    ['a\n\n\n', 2, '\n\n'],
    ['\n', 1, '\n'],
    ['', 3, ''],
    ['a\nb\n', 0, ''],
  ];
  for (const [text, n, want] of cases) {
    const b = Buffer.from(text);
    assert.equal(b.subarray(tailStart(b, n)).toString(), want, `${JSON.stringify(text)} --tail ${n}`);
  }
});

test('tailStartOf reading backwards in small blocks agrees with tailStart on the whole', async () => {
  let seed = 7;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let round = 0; round < 200; round++) {
    const len = Math.floor(rand() * 120);
    const buf = Buffer.from(Array.from({ length: len }, () => (rand() < 0.2 ? 0x0a : 0x61)));
    const file = { size: len, read: async (at: number, n: number) => buf.subarray(at, at + n) };
    for (const lines of [0, 1, 2, 5, 50]) {
      const block = 1 + Math.floor(rand() * 9);
      assert.equal(await tailStartOf(file, lines, block), tailStart(buf, lines), `round ${round}`);
    }
  }
});

test('sinceStart: from the first index step that can hold output written at or after `since`', async () => {
  const idx: IndexEntry[] = [
    { t: 10_000, offset: 0 },
    { t: 13_000, offset: 100 },
    { t: 14_000, offset: 250 },
    { t: 20_000, offset: 400 },
  ];
  const index = { count: idx.length, entry: (i: number) => decodeIndexEntry(encodeIndexEntry(idx[i])) };
  const file = { size: 500, mtimeMs: 20_500 };
  const cases: [number, number][] = [
    [0, 0], // before everything
    [10_000, 0],
    [10_000 + INDEX_STEP_MS - 1, 0], // output of the first step may be this late
    [10_000 + INDEX_STEP_MS, 100], // the first step's output is all older
    [12_999, 100],
    [13_000, 100],
    [14_500, 250],
    [15_000, 400],
    [20_000, 400],
    [20_999, 400],
    [21_000, 500], // nothing written since
  ];
  for (const [since, want] of cases)
    assert.equal(await sinceStart(since, index, file), want, `since ${since}`);
  // Without an index all output came within a step before the file's mtime.
  const none = { count: 0, entry: () => ({ t: 0, offset: 0 }) };
  assert.equal(await sinceStart(20_500, none, file), 0);
  assert.equal(await sinceStart(20_501, none, file), 500);
});

const run = (over: Partial<RunRecord>): RunRecord => ({
  id: 'j.1.1',
  job: 'j',
  node: 'n1',
  epoch: 1,
  attempt: 1,
  cause: 'manual',
  scheduledAt: 1,
  claimedAt: 1,
  status: 'succeeded',
  outputBytes: 30,
  ...over,
});

test('planSource: etcd when it holds the output whole, else the node, else what etcd has', () => {
  const whole = { contiguous: true, bytes: 30, capped: false };
  const capped = { contiguous: true, bytes: 20, capped: true };
  const expired = { contiguous: true, bytes: 0, capped: false };
  const gap = { contiguous: false, bytes: 30, capped: false };
  const cases: [RunRecord | null, typeof whole, boolean, { since?: number; follow?: boolean }, string][] = [
    [null, whole, true, {}, 'none'],
    [run({}), whole, true, {}, 'etcd'],
    [run({}), whole, false, {}, 'etcd'],
    [run({}), whole, true, { since: 5 }, 'node'], // only the node's file has times
    [run({}), whole, false, { since: 5 }, 'etcd-partial'],
    [run({}), capped, true, {}, 'node'],
    [run({}), capped, false, {}, 'etcd-partial'],
    [run({}), expired, true, {}, 'node'],
    [run({ outputBytes: 0 }), expired, true, {}, 'etcd'], // printed nothing: nothing to fetch
    [run({}), gap, true, {}, 'node'],
    [
      run({ status: 'running', outputBytes: undefined }),
      { ...whole, bytes: 12 },
      true,
      { follow: true },
      'etcd',
    ],
    [run({ status: 'running' }), capped, true, { follow: true }, 'node'],
    [run({ node: '', status: 'skipped', outputBytes: undefined }), expired, false, {}, 'etcd'],
  ];
  cases.forEach(([r, shipped, alive, want, source], i) =>
    assert.equal(planSource(r, shipped, alive, want), source, `case ${i}`),
  );
});

test('shippedOutput: the cap marker is not output; a missing chunk breaks contiguity', () => {
  const c = (seq: number, text: string) => ({ seq, data: Buffer.from(text) });
  assert.deepEqual(shippedOutput([c(0, 'ab'), c(1, 'cd')]), { contiguous: true, bytes: 4, capped: false });
  assert.deepEqual(shippedOutput([c(0, 'ab'), c(1, shipCapMarker(2))]), {
    contiguous: true,
    bytes: 2,
    capped: true,
  });
  assert.equal(shippedOutput([c(1, 'cd')]).contiguous, false);
  assert.equal(shippedOutput([c(0, 'ab'), c(2, 'cd')]).contiguous, false);
  // Output that merely mentions the marker mid-run is output.
  assert.equal(shippedOutput([c(0, shipCapMarker(2)), c(1, 'x')]).capped, false);
});

test('parseLogRequest refuses what a node must not act on, and caps the window', () => {
  const p = (v: unknown) => parseLogRequest(Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)));
  assert.deepEqual(p({ v: 1, run: 'big.17.1', maxBytes: 1 << 30, offset: 5 }), {
    run: 'big.17.1',
    offset: 5,
    tailLines: undefined,
    since: undefined,
    maxBytes: LOG_WINDOW_BYTES,
  });
  const refusals: [unknown, RegExp][] = [
    ['{not json', /not JSON/],
    [[1], /not an object/],
    [{ run: '../../etc/passwd', maxBytes: 1 }, /is not a run id/],
    [{ run: 'big.17.1/../x', maxBytes: 1 }, /is not a run id/],
    [{ run: 'Big.17.1', maxBytes: 1 }, /is not a run id/],
    [{ run: 'big.17.1', maxBytes: 0 }, /maxBytes/],
    [{ run: 'big.17.1', maxBytes: 1, offset: -1 }, /offset/],
    [{ run: 'big.17.1', maxBytes: 1, offset: 1.5 }, /offset/],
    [{ run: 'big.17.1', maxBytes: 1, tailLines: 1e12 }, /tailLines/],
    [{ run: 'big.17.1', maxBytes: 1, since: 'yesterday' }, /since/],
    [{ run: 'big.17.1', maxBytes: 1, pad: 'x'.repeat(2000) }, /larger than/],
    [{ v: 99, run: 'big.17.1', maxBytes: 1 }, /format v99, newer than this agent understands/],
  ];
  for (const [v, why] of refusals) assert.match(p(v) as string, why, JSON.stringify(v).slice(0, 60));
});

test('request ids and request keys: one segment, nothing else', () => {
  const id = newRequestId();
  assert.ok(isRequestId(id));
  assert.ok(!isRequestId('../x') && !isRequestId('') && !isRequestId(id + '/x'));
  assert.equal(keys.logRequestId('n1', keys.logRequest('n1', id)), id);
  assert.equal(keys.logRequestId('n1', `logreq/n1/${id}/x`), null);
  assert.equal(keys.logRequestId('n1', `logreq/n10/${id}`), null);
  assert.ok(
    keys.logResponseEnd(id) > keys.logResponseChunk(id, 99_999_999),
    'the end sorts after every chunk',
  );
});
