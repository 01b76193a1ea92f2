// The lease as the keepalive thread shares it with the main thread (agent/node/lease-state.ts),
// read through a second view of the same memory, as the other thread reads it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LeaseState, SharedLease, monotonicMs } from '../../agent/node/lease-state';
import { leaseGone } from '../../agent/node/lease-worker';

test('an acknowledgement moves the deadline forward only; a new lease sets its own', () => {
  const writer = new SharedLease();
  const reader = new SharedLease(writer.buffer);
  assert.equal(reader.state, LeaseState.None);
  writer.granted(10_000, 7000);
  assert.equal(reader.state, LeaseState.Live);
  assert.equal(reader.deadlineMs, 10_000);
  writer.acknowledged(12_000.5, 9000);
  assert.equal(reader.deadlineMs, 12_000.5);
  assert.equal(reader.lastAckMs, 9000);
  // A late answer to an older keepalive cannot shorten the deadline.
  writer.acknowledged(11_000, 9500);
  assert.equal(reader.deadlineMs, 12_000.5);
  writer.lost();
  assert.equal(reader.state, LeaseState.Lost);
  writer.granted(5000, 4000);
  assert.equal(reader.deadlineMs, 5000, 'a new lease does not inherit the old deadline');
  assert.equal(reader.state, LeaseState.Live);
});

test('the monotonic clock is the same in every thread and does not go back', () => {
  const a = monotonicMs();
  const b = monotonicMs();
  assert.ok(b >= a && a > 0);
  assert.ok(Math.abs(monotonicMs() - Number(process.hrtime.bigint()) / 1e6) < 50);
});

test('only a lease etcd no longer has counts as gone, not an unreachable etcd', () => {
  class EtcdLeaseInvalidError extends Error {}
  assert.equal(leaseGone(new EtcdLeaseInvalidError('lease 1234 not found')), true);
  assert.equal(leaseGone(new Error('etcdserver: requested lease not found')), true);
  assert.equal(leaseGone(new Error('14 UNAVAILABLE: No connection established')), false);
  assert.equal(leaseGone(new Error('lease keepalive timed out after 750 ms')), false);
});
