import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration, parseDuration } from '../../agent/core/job/duration';

test('parseDuration reads single and compound units', () => {
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('10s'), 10_000);
  assert.equal(parseDuration('1m30s'), 90_000);
  assert.equal(parseDuration('2h'), 7_200_000);
  assert.equal(parseDuration('1d'), 86_400_000);
  assert.equal(parseDuration('1h30m15s'), 5_415_000);
  assert.equal(parseDuration('1s250ms'), 1_250);
  assert.equal(parseDuration('0s'), 0);
  assert.equal(parseDuration('1.5h'), 5_400_000);
  assert.equal(parseDuration(' 10s '), 10_000);
});

test('parseDuration refuses a bare number and says to add a unit', () => {
  assert.throws(() => parseDuration('30'), {
    message: 'invalid duration "30": a bare number has no unit; add a unit, e.g. 30s',
  });
  assert.throws(() => parseDuration('0'), /add a unit/);
});

test('parseDuration names the bad text', () => {
  assert.throws(() => parseDuration('10x'), {
    message: 'invalid duration "10x": unknown unit "x"; use ms, s, m, h or d',
  });
  assert.throws(() => parseDuration('10S'), /unknown unit "S"/);
  assert.throws(() => parseDuration('1m30'), {
    message: 'invalid duration "1m30": "30" has no unit; add a unit, e.g. 30s',
  });
  assert.throws(() => parseDuration(''), /invalid duration "": empty/);
  assert.throws(() => parseDuration('-5s'), /must not be negative/);
  assert.throws(() => parseDuration('abc'), /invalid duration "abc": unexpected "abc"/);
  assert.throws(() => parseDuration('1s 2s'), /invalid duration "1s 2s"/);
  assert.throws(() => parseDuration('0.5ms'), /finer than a millisecond/);
});

test('formatDuration renders the shortest compound form', () => {
  assert.equal(formatDuration(90_000), '1m30s');
  assert.equal(formatDuration(500), '500ms');
  assert.equal(formatDuration(0), '0s');
  assert.equal(formatDuration(1_250), '1s250ms');
  assert.equal(formatDuration(86_400_000), '1d');
  assert.equal(formatDuration(90_000_000), '1d1h');
  assert.equal(formatDuration(5_415_000), '1h30m15s');
  assert.equal(formatDuration(-10_000), '-10s');
});

test('formatDuration and parseDuration round-trip', () => {
  for (const ms of [1, 999, 1000, 61_000, 3_600_001, 123_456_789]) {
    assert.equal(parseDuration(formatDuration(ms)), ms);
  }
});
