// A run whose node died is settled once, as lost; the job's policy says whether it re-runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { settleLost } from '../../agent/leader/lost-run';
import type { RunRecord } from '../../agent/core/records';
import type { JobSpec } from '../../agent/core/job/spec';
import { EMPTY_CONFIG } from '../../agent/core/alerting';

const T = Date.UTC(2026, 10, 27, 12, 0, 0);
const running: RunRecord = {
  id: 'j.1795780800000.1',
  job: 'j',
  node: 'n1',
  epoch: 7,
  attempt: 1,
  cause: 'schedule',
  scheduledAt: T,
  claimedAt: T - 400,
  status: 'running',
};
const ctx = (policy?: JobSpec['policy']) => ({
  node: 'n1',
  job: { name: 'j', kind: 'cron', command: 'true', ...(policy ? { policy } : {}) } as JobSpec,
  prev: undefined,
  raise: { config: EMPTY_CONFIG, jobAlerts: undefined },
  leader: 'n2',
  now: T + 9000,
});

test('at-most-once: lost, complete, not re-run', () => {
  const s = settleLost(running, ctx());
  assert.equal(s.run.status, 'lost');
  assert.equal(s.run.endedAt, T + 9000);
  assert.equal(
    s.run.reason,
    'node n1 died while this run was in flight (its outcome is unknown); policy at-most-once: not re-run',
  );
  assert.equal(s.rerun, undefined);
  assert.equal(s.completion?.run, running.id);
  assert.equal(running.status, 'running', 'the record read is not changed');
});

test('at-least-once: the first attempt is re-run once, and is not yet complete', () => {
  const s = settleLost(running, ctx('at-least-once'));
  assert.equal(s.completion, undefined);
  assert.deepEqual(s.rerun, {
    ref: { job: 'j', scheduledAt: T, attempt: 2 },
    trigger: { at: T + 9000, by: 'leader n2', reason: `re-run of ${running.id} after its node died` },
  });
  assert.ok(s.alerts.every((a) => a.rule === 'lost'));
  const second = settleLost({ ...running, attempt: 2 }, ctx('at-least-once'));
  assert.equal(second.rerun, undefined, 'a re-run that is lost too is not re-run again');
  assert.ok(second.completion);
});
