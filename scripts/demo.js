// `npm run demo`: a local sandbox — etcd on free loopback ports, three agents,
// the sample jobs from examples/jobs.yaml — and where to look. Ctrl-C stops it
// all. `npm run demo -- --for 30` stops by itself after 30 s.
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const { ensureEtcd } = require('./ensure-etcd');

const root = join(__dirname, '..');
const harness = join(root, 'dist', 'test', 'harness', 'cluster.js');

async function main() {
  ensureEtcd();
  if (!existsSync(harness)) {
    console.error('not built yet: run `npm install` (or `npm run build`) first');
    process.exit(1);
  }
  const { TestCluster } = require(harness);
  const forIdx = process.argv.indexOf('--for');
  const seconds = forIdx > 0 ? Number(process.argv[forIdx + 1]) : 0;
  const tc = new TestCluster();
  let stopping = false;
  const stop = async (code) => {
    if (stopping) return;
    stopping = true;
    console.log('\nstopping the sandbox…');
    await tc.stop();
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));
  try {
    await tc.start();
    for (const id of ['node-a', 'node-b', 'node-c']) tc.startAgent(id, ['--labels', `zone=${id.slice(-1)}`]);
    await tc.ready(['node-a', 'node-b', 'node-c']);
    const alerting = tc.cli(['alerts', 'config', 'apply', '-f', join(root, 'examples', 'alerting.yaml')]);
    process.stdout.write(alerting.stdout + alerting.stderr);
    const apply = tc.cli(['job', 'apply', '-f', join(root, 'examples', 'jobs.yaml')]);
    process.stdout.write(apply.stdout + apply.stderr);
    const env = `PEPPERCORN_ETCD=${tc.etcd.endpoint} PEPPERCORN_PREFIX=${tc.prefix}`;
    console.log(`
Peppercorn sandbox is up: etcd at ${tc.etcd.endpoint}, three agents (node-a, node-b, node-c).
In another terminal:

  export ${env}
  npx peppercorn nodes                 # who is alive, who leads
  npx peppercorn job ls                # jobs, owners, next run
  npx peppercorn runs heartbeat        # run history
  npx peppercorn job run deploy-hook   # trigger; prints a run id
  npx peppercorn logs <run id> --follow
  npx peppercorn alerts                # the job "flaky" fails now and then; notices go to
                                       # \${TMPDIR:-/tmp}/peppercorn-demo-alerts.jsonl
  npx peppercorn console               # the console in your browser

Agent logs and data: ${tc.dir}
Try killing an agent: kill -9 ${tc.agents.get('node-a').pid}   (node-a) — its jobs move to the others.
${seconds ? `Stopping by itself in ${seconds} s.` : 'Ctrl-C stops everything.'}
`);
    if (seconds) {
      await new Promise((r) => setTimeout(r, seconds * 1000));
      const nodes = tc.cli(['nodes']);
      const runs = tc.cli(['runs', 'heartbeat', '--limit', '3']);
      process.stdout.write(nodes.stdout + '\n' + runs.stdout);
      await stop(0);
    }
  } catch (err) {
    console.error(`demo failed: ${err.message}`);
    await stop(1);
  }
}

void main();
