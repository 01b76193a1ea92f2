// Imported first by runner-spawner-suite.test.ts: the runner's tests then run with the spawner
// forking the runs, as in the agent.
import { before } from 'node:test';
import { startSpawner, stopSpawner, whenSpawnerReady } from '../../agent/runner/spawner';

if (!startSpawner()) throw new Error('the spawner cannot start here (no perl or setpriv)');
process.on('exit', () => stopSpawner());
before(async () => {
  if (!(await whenSpawnerReady())) throw new Error('the spawner died before it was ready');
});
