// One classifier of etcd errors (agent/core/etcd.ts), used by the CLI and the console: by the
// error's class, so Peppercorn's own messages that mention etcd are shown as they are.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  EtcdPermissionDeniedError,
  GRPCDeadlineExceededError,
  GRPCUnavailableError,
  ClientClosedError,
} from 'etcd3';
import { BrokenCircuitError } from 'cockatiel';
import { isEtcdError, readableError } from '../../agent/core/etcd';

const endpoints = ['http://127.0.0.1:2379'];

test('errors from etcd, its client and the circuit breaker are etcd errors; ours are not', () => {
  for (const err of [
    new GRPCUnavailableError('14 UNAVAILABLE: No connection established'),
    new GRPCDeadlineExceededError('4 DEADLINE_EXCEEDED'),
    new EtcdPermissionDeniedError('etcdserver: permission denied'),
    new ClientClosedError('KV'),
    new BrokenCircuitError(),
  ])
    assert.equal(isEtcdError(err), true, err.constructor.name);
  for (const err of [
    new Error('no etcd endpoints given; pass --etcd http://127.0.0.1:2379 or set PEPPERCORN_ETCD'),
    new TypeError('x is not a function'),
    'a string',
    undefined,
  ])
    assert.equal(isEtcdError(err), false, String(err));
});

test('readableError names the endpoints for etcd failures and keeps other messages as they are', () => {
  assert.match(
    readableError(new GRPCUnavailableError('14 UNAVAILABLE: No connection established'), endpoints),
    /^cannot reach etcd at http:\/\/127\.0\.0\.1:2379 \(.*\); check that etcd is running/,
  );
  assert.match(
    readableError(new EtcdPermissionDeniedError('etcdserver: permission denied'), endpoints),
    /refused the credentials \(etcdserver: permission denied\); check --user/,
  );
  const ours = 'no etcd endpoints given; pass --etcd http://127.0.0.1:2379 or set PEPPERCORN_ETCD';
  assert.equal(readableError(new Error(ours), endpoints), ours);
  // Not connected yet: no endpoints to name, the error as it is.
  assert.equal(readableError(new GRPCUnavailableError('14 UNAVAILABLE'), undefined), '14 UNAVAILABLE');
});
