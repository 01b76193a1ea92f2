import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TailBuffer } from '../../agent/runner/tail';

test('keeps the last N bytes across wraps', () => {
  const t = new TailBuffer(5);
  t.push(Buffer.from('ab'));
  assert.equal(t.toString(), 'ab');
  t.push(Buffer.from('cdef'));
  assert.equal(t.toString(), 'bcdef');
  t.push(Buffer.from('g'));
  assert.equal(t.toString(), 'cdefg');
  t.push(Buffer.from('0123456789'));
  assert.equal(t.toString(), '56789');
});

test('zero capacity keeps nothing', () => {
  const t = new TailBuffer(0);
  t.push(Buffer.from('abc'));
  assert.equal(t.toString(), '');
});

test('drops a character cut at the front', () => {
  // '€' is 3 bytes (e2 82 ac); the last 3 bytes of 'a€b' are 82 ac 62.
  const t = new TailBuffer(3);
  t.push(Buffer.from('a€b'));
  assert.equal(t.toString(), 'b');
  const whole = new TailBuffer(4);
  whole.push(Buffer.from('a€b'));
  assert.equal(whole.toString(), '€b');
});
