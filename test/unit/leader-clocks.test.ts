// Clock skew: each node against the median of all clocks, the leader's own counted once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { judgeClocks } from '../../agent/leader/clocks';

test('a node 90 s ahead is found off; nodes within the threshold are not', () => {
  const off = judgeClocks(
    new Map([
      ['a', 12],
      ['b', -30],
      ['c', 90_000],
    ]),
    1000,
    'a',
  );
  assert.deepEqual([...off], [['c', 90_000]]);
});

test('a leader whose own clock is off does not condemn the others', () => {
  // Every node reads the same offset from the leader: the leader is the odd one out.
  const off = judgeClocks(
    new Map([
      ['b', 5010],
      ['c', 4990],
    ]),
    1000,
    'a',
  );
  assert.deepEqual([...off], [['a', -4990]]);
});

test("the leader's own report counts once, as its clock", () => {
  // As it happens in a cluster: the skewed leader publishes too, and reads its own report
  // as about 0. Counted besides the leader's 0 it made two votes against two, and every
  // node was found off.
  const off = judgeClocks(
    new Map([
      ['c1', -90_000],
      ['c2', -89_990],
      ['c3', 7],
    ]),
    1000,
    'c3',
  );
  assert.deepEqual([...off], [['c3', 89_990]]);
});

test('with no other node, nothing is judged off', () => {
  assert.equal(judgeClocks(new Map(), 1000, 'a').size, 0);
  assert.equal(judgeClocks(new Map([['a', 3]]), 1000, 'a').size, 0);
});
