// The last check before a claimed run starts: its claim must still stand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isSingleCopy, pickSlots, prunable, releaseRefusal } from '../../agent/scheduler/rules';
import { keys } from '../../agent/core/keys';
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

test('pruning never takes a run in flight; final and unreadable records go', () => {
  const rec = (status: RunRecord['status']) => ({ status }) as RunRecord;
  assert.equal(prunable(rec('running')), false);
  for (const s of ['succeeded', 'failed', 'timeout', 'lost', 'skipped'] as const)
    assert.equal(prunable(rec(s)), true, s);
  assert.equal(prunable(undefined), true);
});

test('pickSlots takes the first free slot of each semaphore, or names the full one', () => {
  const taken = new Set(['sem-a-0', 'sem-b-0', 'sem-b-1']);
  const slotKey = (name: string, i: number) => keys.semaphoreSlot(name, i);
  const has = (k: string) => [...taken].some((t) => k === slotKey(t.split('-')[1], Number(t.split('-')[2])));
  assert.deepEqual(pickSlots([{ name: 'a', size: 2 }], has), { slots: [slotKey('a', 1)] });
  assert.deepEqual(
    pickSlots(
      [
        { name: 'a', size: 2 },
        { name: 'b', size: 2 },
      ],
      has,
    ),
    { full: 'b' },
  );
  assert.deepEqual(pickSlots([], has), { slots: [] });
});
