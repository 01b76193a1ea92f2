// The contract reuses core's types by type-only imports: they must leave no agent code in the
// renderer bundle (it runs in a browser sandbox, and would only grow). The bundle is built by
// scripts/build-renderer.js before the tests run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../harness/cluster';

test('the renderer bundle carries no agent/core code', () => {
  const bundle = readFileSync(join(ROOT, 'dist', 'renderer', 'app.js'), 'utf8');
  // Text that only core's run-time code holds: records' decoding, the job model, the mirror, etcd access.
  for (const marker of [
    'fix or delete the key (etcdctl del',
    'a job spec must be a map of fields',
    'required; the shell command to run with /bin/sh -c',
    'check that etcd is running',
    'etcd3',
  ])
    assert.equal(bundle.includes(marker), false, `the renderer bundle contains core code ("${marker}")`);
  // …while the pure module shared with the renderer is in it (the check can see what it looks for).
  assert.match(bundle, /not connected|Waiting for the cluster/);
});
