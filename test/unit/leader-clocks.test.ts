// Clock skew: each node against the median of all clocks, the leader's own included.
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
  );
  assert.deepEqual([...off], [['c', 89_994]]);
});

test('a leader whose own clock is off does not condemn the others', () => {
  // Every node reads the same offset from the leader: the leader is the odd one out.
  const off = judgeClocks(
    new Map([
      ['a', 5000],
      ['b', 5010],
      ['c', 4990],
    ]),
    1000,
  );
  assert.equal(off.size, 0);
});

test('with no other node, nothing is judged off', () => {
  assert.equal(judgeClocks(new Map(), 1000).size, 0);
});
