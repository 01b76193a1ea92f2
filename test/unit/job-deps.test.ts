// Dependencies in the job model: validation, cycles, the graph.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateJob } from '../../agent/core/job/spec';
import { findCycle, renderGraph, conditionMet } from '../../agent/core/job/deps';

const child = { name: 'child', kind: 'once', command: 'true' };

test('after: names, conditions and the shorthand condition are normalised', () => {
  const r = validateJob({ ...child, after: ['a', { job: 'b', condition: 'always' }], condition: 'failure' });
  assert.ok(r.ok);
  assert.deepEqual(r.job.after, [
    { job: 'a', condition: 'failure' },
    { job: 'b', condition: 'always' },
  ]);
});

test('after: is refused on clock jobs, on itself, twice, and with a bad condition', () => {
  const errs = (spec: object) =>
    (validateJob(spec) as { ok: false; errors: { field: string; message: string }[] }).errors;
  assert.match(
    errs({ ...child, kind: 'cron', schedule: '@daily', after: ['a'] })[0].message,
    /kind once without at/,
  );
  assert.match(errs({ ...child, after: ['child'] })[0].message, /cannot run after itself/);
  assert.match(errs({ ...child, after: ['a', 'a'] })[0].message, /listed twice/);
  assert.match(
    errs({ ...child, after: [{ job: 'a', condition: 'sometimes' }] })[0].message,
    /use success, failure or always/,
  );
  assert.match(errs({ ...child, condition: 'success' })[0].message, /only with after/);
});

test('cycles are found and spelled out in running order', () => {
  const dep = (job: string) => [{ job, condition: 'success' as const }];
  assert.deepEqual(findCycle([{ name: 'a' }, { name: 'b', after: dep('a') }]), null);
  assert.deepEqual(
    findCycle([
      { name: 'a', after: dep('b') },
      { name: 'b', after: dep('a') },
    ]),
    ['a', 'b', 'a'],
  );
});

test('the graph shows each root with what runs after it', () => {
  const dep = (job: string, condition: 'success' | 'failure' = 'success') => ({ job, condition });
  const text = renderGraph([
    { name: 'extract' },
    { name: 'transform', after: [dep('extract')] },
    { name: 'alert', after: [dep('extract', 'failure')] },
  ]);
  assert.equal(text, 'extract\n├── alert [on failure]\n└── transform [on success]');
});

test('conditions', () => {
  assert.equal(conditionMet('success', 'succeeded'), true);
  assert.equal(conditionMet('success', 'failed'), false);
  assert.equal(conditionMet('failure', 'timeout'), true);
  assert.equal(conditionMet('always', 'lost'), false);
});
