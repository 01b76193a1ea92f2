// The overload judge (agent/node/overload.ts): when a node counts as overloaded, since when,
// when its alert is due, and when it has recovered.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CALM_MS,
  DEFAULT_OVERLOAD,
  judgeOverload,
  overloadAlertDue,
  type OverloadSample,
  type OverloadState,
} from '../../agent/node/overload';

const opts = DEFAULT_OVERLOAD;
const sample = (at: number, lagMs: number, lateMs = 0): OverloadSample => ({ at, lagMs, lateMs });

function run(samples: OverloadSample[], start: OverloadState = {}): OverloadState[] {
  const out: OverloadState[] = [];
  let s = start;
  for (const x of samples) out.push((s = judgeOverload(s, x, opts)));
  return out;
}

test('under both thresholds the node is not overloaded', () => {
  const states = run([sample(1000, 0), sample(2000, opts.lagMs - 1, opts.lateMs - 1)]);
  assert.deepEqual(states, [{}, {}]);
});

test('a lagging loop or late launches start an overload, dated back by what was seen', () => {
  assert.equal(run([sample(10_000, 7000)])[0].since, 3000, 'a loop blocked 7 s was overloaded 7 s ago');
  assert.equal(run([sample(10_000, 0, 1500)])[0].since, 8500, 'launches 1.5 s late');
  assert.equal(
    run([sample(10_000, opts.lagMs)])[0].since,
    10_000 - opts.lagMs,
    'the threshold itself counts',
  );
});

test('the overload keeps its start while it lasts, and remembers its worst sample', () => {
  const [, , third] = run([sample(1000, 600), sample(2000, 3000), sample(3000, 700)]);
  assert.equal(third.since, 400);
  assert.deepEqual(third.worst, sample(2000, 3000));
});

test('it ends only after CALM_MS of calm samples; a hot sample in between starts the calm again', () => {
  const hot = sample(0, 1000);
  const states = run([
    hot,
    sample(1000, 0),
    sample(1000 + CALM_MS - 1, 0),
    sample(1000 + CALM_MS, 900),
    sample(2000 + CALM_MS, 0),
    sample(2000 + 2 * CALM_MS, 0),
  ]);
  assert.equal(states[1].calmSince, 1000);
  assert.ok(states[2].since !== undefined, 'still overloaded just before the calm period ends');
  assert.equal(states[3].calmSince, undefined, 'a hot sample ends the calm');
  assert.equal(states[3].since, -1000, 'same overload, same start');
  assert.ok(states[4].since !== undefined);
  assert.deepEqual(states[5], {}, 'recovered');
});

test('the alert is due once the overload has lasted alertAfterMs', () => {
  const [s] = run([sample(20_000, 600)]);
  assert.equal(overloadAlertDue(s, 20_000 - 600 + opts.alertAfterMs - 1, opts), false);
  assert.equal(overloadAlertDue(s, 20_000 - 600 + opts.alertAfterMs, opts), true);
  assert.equal(overloadAlertDue({}, 1e12, opts), false);
  // A stall longer than alertAfterMs is due at once: it lasted that long.
  const [stall] = run([sample(50_000, opts.alertAfterMs + 1000)]);
  assert.equal(overloadAlertDue(stall, 50_000, opts), true);
});
