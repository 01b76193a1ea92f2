// The scheduler's decisions, as tables: a time due while a run is in flight (overlap.ts),
// why a claim failed (claim-conflict.ts), a run's recorded outcome and a failed outcome
// write (outcome.ts). The effects that act on them are tried against real etcd in the
// integration tests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planOverlap } from '../../agent/scheduler/overlap';
import { claimConflict } from '../../agent/scheduler/claim-conflict';
import { outcomeConflict, recordedOutcome } from '../../agent/scheduler/outcome';
import type { RunRecord } from '../../agent/core/records';
import type { RunOutcome } from '../../agent/runner/exec';

const T = Date.UTC(2026, 10, 27, 12, 0, 0);

test('planOverlap: each policy, decided at the time and not before', () => {
  const base = {
    launch: T,
    cursor: T,
    now: T + 5,
    busy: ['j.1'],
    overlap: 'skip' as const,
    catchUpAll: false,
    lateLimitMs: 60_000,
    nextRunId: 'j.2',
  };
  assert.deepEqual(planOverlap({ ...base, busy: [] }), { kind: 'go' });
  assert.deepEqual(planOverlap({ ...base, launch: undefined }), { kind: 'go' });
  assert.deepEqual(planOverlap({ ...base, overlap: 'allow' }), { kind: 'go' });
  assert.deepEqual(planOverlap({ ...base, now: T - 300 }), { kind: 'wait', ms: 300 });
  assert.deepEqual(planOverlap({ ...base, overlap: 'queue' }), { kind: 'queue' });
  assert.deepEqual(planOverlap(base), {
    kind: 'skip',
    skip: { first: T, last: T, count: 1, reason: 'the previous run j.1 was still running (overlap: skip)' },
  });
  assert.deepEqual(planOverlap({ ...base, overlap: 'replace' }), {
    kind: 'replace',
    reason: 'replaced by j.2 (overlap: replace)',
  });
  // Catching up missed times (misfire: all) waits for the run, whatever the overlap policy.
  const missed = { ...base, catchUpAll: true, now: T + 61_000 };
  assert.deepEqual(planOverlap(missed), { kind: 'resume-on-end' });
  assert.deepEqual(planOverlap({ ...missed, now: T + 59_000 }).kind, 'skip');
  assert.deepEqual(planOverlap({ ...missed, cursor: T + 1000 }).kind, 'skip');
});

test('claimConflict: the first broken condition explains the failure', () => {
  const expected = { epoch: 7, assignRev: 20, cursorRev: 30, jobCreate: 5, launching: true };
  const found = { nodeCreate: 7, assignMod: 20, cursorMod: 30, run: false, jobCreate: 5 };
  assert.equal(claimConflict(found, expected), 'slot-taken');
  assert.equal(claimConflict({ ...found, run: true }, expected), 'run-exists');
  assert.equal(claimConflict({ ...found, run: true }, { ...expected, launching: false }), 'slot-taken');
  assert.equal(claimConflict({ ...found, cursorMod: 31, run: true }, expected), 'cursor-moved');
  assert.equal(claimConflict({ ...found, cursorMod: undefined }, expected), 'cursor-moved');
  assert.equal(
    claimConflict({ ...found, cursorMod: undefined }, { ...expected, cursorRev: 0 }),
    'slot-taken',
  );
  assert.equal(claimConflict({ ...found, jobCreate: 9, cursorMod: 31 }, expected), 'recreated');
  assert.equal(claimConflict({ ...found, jobCreate: undefined }, expected), 'recreated');
  assert.equal(claimConflict({ ...found, assignMod: 21, jobCreate: 9 }, expected), 'unassigned');
  assert.equal(claimConflict({ ...found, assignMod: undefined }, expected), 'unassigned');
  assert.equal(claimConflict({ ...found, nodeCreate: 8, assignMod: 21 }, expected), 'lease-gone');
  assert.equal(claimConflict({ ...found, nodeCreate: undefined }, expected), 'lease-gone');
});

const claimed: RunRecord = {
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
const exit = (o: Partial<RunOutcome>): RunOutcome => ({
  status: 'succeeded',
  exitCode: 0,
  signal: null,
  startedAt: T + 2,
  endedAt: T + 50,
  outputBytes: 3,
  tail: 'ok\n',
  ...o,
});
const ctx = { retries: 0, retryDelayMs: () => 1000, now: T + 60 };

test('recordedOutcome: the status, times and output of the run as it ended', () => {
  const { run, retry } = recordedOutcome(claimed, exit({}), ctx);
  assert.equal(retry, undefined);
  assert.deepEqual(run, {
    ...claimed,
    status: 'succeeded',
    startedAt: T + 2,
    endedAt: T + 50,
    exitCode: 0,
    signal: null,
    tail: 'ok\n',
    outputBytes: 3,
  });
  assert.equal(claimed.status, 'running', 'the claimed record is not changed');
  const killed = recordedOutcome(claimed, exit({ status: 'killed', signal: 'SIGTERM', error: 'replaced' }), {
    ...ctx,
    retries: 3,
  });
  assert.equal(killed.run.status, 'failed');
  assert.equal(killed.run.reason, 'replaced');
  assert.equal(killed.retry, undefined, 'a run the agent stopped itself is not retried');
  const oom = recordedOutcome(claimed, exit({ status: 'failed', oomKilled: true, containerId: 'c1' }), ctx);
  assert.equal(oom.run.oomKilled, true);
  assert.equal(oom.run.containerId, 'c1');
});

test('recordedOutcome: a run never started is skipped, and says why', () => {
  const { run } = recordedOutcome(claimed, exit({ status: 'killed', startedAt: 0 }), {
    ...ctx,
    notReleased: 'the job was paused before its launch time',
  });
  assert.equal(run.status, 'skipped');
  assert.equal(run.reason, 'claimed, but not started at its time: the job was paused before its launch time');
  assert.equal(run.startedAt, undefined);
  const spawnFailed = recordedOutcome(
    claimed,
    exit({ status: 'failed', startedAt: 0, error: 'no shell' }),
    ctx,
  );
  assert.equal(spawnFailed.run.status, 'failed');
});

test('recordedOutcome: a failed attempt within its retries asks for the next one', () => {
  const { run, retry } = recordedOutcome(claimed, exit({ status: 'timeout', exitCode: null }), {
    ...ctx,
    retries: 1,
    retryDelayMs: (attempt) => attempt * 30_000,
  });
  assert.deepEqual(retry, {
    ref: { job: 'j', scheduledAt: T, attempt: 2 },
    trigger: {
      at: T + 60,
      by: 'node n1',
      reason: `retry 1 of 1 after the timeout run ${claimed.id}`,
      notBefore: T + 50 + 30_000,
    },
  });
  assert.match(run.reason ?? '', /^retrying as j\.\d+\.2 at 2026-11-27T12:00:30\.050Z$/);
  const last = recordedOutcome({ ...claimed, attempt: 2 }, exit({ status: 'failed' }), {
    ...ctx,
    retries: 1,
  });
  assert.equal(last.retry, undefined);
});

test('outcomeConflict: slots taken by others are left alone; a gone record still frees the holds', () => {
  const running = { run: { ...claimed }, modRev: 40 };
  assert.deepEqual(
    outcomeConflict({ ours: ['s0', 's1'], slotCreates: [9, 12], slotRev: 9, found: running }),
    {
      kind: 'fewer-slots',
      ours: ['s0'],
    },
  );
  assert.deepEqual(outcomeConflict({ ours: [], slotCreates: [], slotRev: 9, found: undefined }), {
    kind: 'release-only',
  });
  assert.deepEqual(
    outcomeConflict({
      ours: [],
      slotCreates: [],
      slotRev: 9,
      found: { run: { ...claimed, status: 'succeeded' }, modRev: 41 },
    }),
    { kind: 'release-only' },
  );
  assert.deepEqual(
    outcomeConflict({
      ours: ['s0'],
      slotCreates: [9],
      slotRev: 9,
      found: { run: { ...claimed, status: 'lost', reason: 'node n1 died' }, modRev: 44 },
    }),
    { kind: 'overwrite', claimRev: 44, reason: "node n1 died; the run's real outcome arrived later" },
  );
});
