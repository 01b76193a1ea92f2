// A short seeded nemesis run (test/nemesis/): 3-member etcd, 4 agents, jobs of every kind and
// policy, a seeded schedule of operations and faults, then the checker. `npm run nemesis`
// runs longer ones with any seed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runNemesis, removeNemesisDir } from '../nemesis/run';

const SEED = Number(process.env.NEMESIS_SEED ?? 20250);
const DURATION_MS = 50_000;

test(`nemesis: seed ${SEED}, ${DURATION_MS / 1000} s, no violation of the promises`, async () => {
  const r = await runNemesis(SEED, DURATION_MS);
  if (r.violations.length === 0) removeNemesisDir(r);
  assert.deepEqual(
    r.violations,
    [],
    `seed ${SEED}: ${r.violations.length} violation(s) (logs in ${r.dir}); operation log:\n${r.log.join('\n')}`,
  );
});
