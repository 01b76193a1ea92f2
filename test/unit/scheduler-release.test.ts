// The last check before a claimed run starts: its claim must still stand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isSingleCopy, releaseRefusal } from '../../agent/scheduler/scheduler';
import type { JobSpec } from '../../agent/core/job/spec';
import type { RunRecord } from '../../agent/core/records';

test('a claimed run is released only while the lease is live, the job ours and not paused', () => {
  const ok = { live: true, stillOwned: true, paused: false };
  assert.equal(releaseRefusal(ok), undefined);
  assert.match(releaseRefusal({ ...ok, live: false }) ?? '', /lease/);
  assert.match(releaseRefusal({ ...ok, stillOwned: false }) ?? '', /left this node/);
  assert.match(releaseRefusal({ ...ok, paused: true }) ?? '', /paused/);
});

test('loops and semaphore holders are single-copy runs; plain cron runs are not', () => {
  const spec = (kind: JobSpec['kind']) => ({ kind }) as JobSpec;
  const run = (holds?: string[]) => ({ holds }) as RunRecord;
  assert.equal(isSingleCopy(spec('loop'), run()), true);
  assert.equal(isSingleCopy(spec('cron'), run(['sem/db/0'])), true);
  assert.equal(isSingleCopy(spec('cron'), run()), false);
  assert.equal(isSingleCopy(spec('once'), run([])), false);
});
