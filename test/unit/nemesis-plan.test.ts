// The nemesis plan is a pure function of (seed, duration): the same seed replays the same
// schedule, every fault is followed by its recovery, faults never overlap, and operations
// are valid for the state the plan has reached.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planNemesis, FAULTS, type Action } from '../nemesis/plan';
import { NEMESIS_JOBS } from '../nemesis/jobs';

const RECOVERY: Record<string, string> = {
  kill9: 'start',
  groupkill9: 'start',
  term: 'start',
  stop: 'cont',
  partition: 'heal',
  'etcd-kill': 'etcd-start',
  fill: 'relieve',
};

test('the same seed gives the same plan; another seed another one', () => {
  assert.deepEqual(planNemesis(7, 60_000), planNemesis(7, 60_000));
  assert.notDeepEqual(planNemesis(7, 60_000), planNemesis(8, 60_000));
});

test('actions are in time order, within the duration, and include operations and faults', () => {
  for (const seed of [1, 2, 3, 42, 1234]) {
    const plan = planNemesis(seed, 120_000);
    assert.ok(plan.length > 20, `seed ${seed}: ${plan.length} actions`);
    for (let i = 1; i < plan.length; i++) assert.ok(plan[i].at >= plan[i - 1].at);
    const faults = plan.filter((a) => (FAULTS as string[]).includes(a.op));
    assert.ok(faults.length >= 5, `seed ${seed}: ${faults.length} faults`);
    assert.ok(plan.some((a) => 'job' in a));
    // Only a recovery may fall past the end (it heals a fault started before it).
    for (const a of plan) if (a.at > 120_000) assert.ok(Object.values(RECOVERY).includes(a.op), a.op);
  }
});

test('faults come one at a time, each followed by its own recovery', () => {
  for (let seed = 0; seed < 50; seed++) {
    const plan = planNemesis(seed, 90_000).filter(
      (a) => a.op in RECOVERY || Object.values(RECOVERY).includes(a.op),
    );
    for (let i = 0; i < plan.length; i += 2) {
      const [f, r] = [plan[i], plan[i + 1]] as [Action, Action];
      assert.ok(f.op in RECOVERY, `seed ${seed}: ${f.op} where a fault was expected`);
      assert.equal(r?.op, RECOVERY[f.op], `seed ${seed}: ${f.op} is not followed by its recovery`);
      assert.ok(r.at > f.at);
      if ('node' in f) assert.equal((r as { node: string }).node, f.node);
      if ('member' in f) assert.equal((r as { member: number }).member, f.member);
    }
  }
});

test('job operations are valid for the state reached; cordons are lifted', () => {
  for (let seed = 0; seed < 50; seed++) {
    const exists = new Map(NEMESIS_JOBS.map((j) => [j.name, true]));
    const paused = new Map(NEMESIS_JOBS.map((j) => [j.name, false]));
    let cordoned: string | undefined;
    for (const a of planNemesis(seed, 90_000)) {
      if ('job' in a) {
        if (a.op === 'reapply')
          assert.equal(exists.get(a.job), false, `seed ${seed}: re-apply of a live job`);
        else assert.equal(exists.get(a.job), true, `seed ${seed}: ${a.op} of removed job ${a.job}`);
        if (a.op === 'rm') exists.set(a.job, false);
        if (a.op === 'reapply') {
          exists.set(a.job, true);
          paused.set(a.job, false);
        }
        if (a.op === 'pause' || a.op === 'resume') {
          assert.equal(paused.get(a.job), a.op === 'resume', `seed ${seed}: ${a.op} of ${a.job}`);
          paused.set(a.job, a.op === 'pause');
        }
      } else if (a.op === 'cordon' || a.op === 'drain') {
        assert.equal(cordoned, undefined, `seed ${seed}: two nodes cordoned at once`);
        cordoned = a.node;
      } else if (a.op === 'uncordon') {
        assert.equal(a.node, cordoned);
        cordoned = undefined;
      }
    }
    assert.equal(cordoned, undefined, `seed ${seed}: a node left cordoned`);
  }
});
