// Container jobs and resource limits on real agents with real podman (test image built locally, see
// test/harness/containers.ts), and the whole-tree kill of plain runs through their cgroup.
// c1 has podman; c2 is started with --container-runtime none, so it must never get a container job.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { TestCluster, waitFor, sleep } from '../harness/cluster';
import { containersOf, ensureTestImage, podmanEnv, PODMAN_RUNTIME, TEST_IMAGE } from '../harness/containers';
import { processRunning } from '../../agent/runner/procgroup';
import { readCgroupLayout } from '../../agent/runner/cgroup';

const tc = new TestCluster();
before(async () => {
  ensureTestImage();
  process.env.CONTAINERS_CONF = podmanEnv().CONTAINERS_CONF;
  await tc.start();
  tc.startAgent('c1', ['--container-runtime', PODMAN_RUNTIME]);
  tc.startAgent('c2', ['--container-runtime', 'none']);
  await tc.ready(['c1', 'c2']);
});
after(() => tc.stop());

const runsOf = (job: string) => tc.store.listRuns(job, 20);
const ended = async (job: string) => (await runsOf(job)).filter((r) => r.status !== 'running');

test('nodes advertise their runtime; a container job lands only on a node with one', async () => {
  const nodes = await tc.store.listNodes();
  assert.equal(nodes.find((n) => n.id === 'c1')?.labels.runtime, 'podman');
  assert.equal(nodes.find((n) => n.id === 'c2')?.labels.runtime, undefined);
  // Several jobs, so spreading alone would put some on c2 if the runtime were not required.
  const yaml = [1, 2, 3, 4]
    .map((i) => `name: boxed-${i}\nkind: once\nimage: ${TEST_IMAGE}\npull: never\ncommand: echo ${i}\n`)
    .join('---\n');
  tc.apply(yaml);
  tc.apply('name: plain-1\nkind: once\ncommand: "true"\n---\nname: plain-2\nkind: once\ncommand: "true"\n');
  for (const i of [1, 2, 3, 4])
    assert.equal(await waitFor(`boxed-${i} placed`, () => tc.owner(`boxed-${i}`)), 'c1');
  const plainOwners = [await tc.owner('plain-1'), await tc.owner('plain-2')];
  assert.ok(plainOwners.includes('c2'), `plain jobs still spread: ${plainOwners.join(', ')}`);
  for (const i of [1, 2, 3, 4]) await tc.store.removeJob(`boxed-${i}`);
});

test('a container job runs on schedule, its output is tailed, the record names image and container', async () => {
  tc.apply(
    `name: boxed-cron\nschedule: "*/10 * * * * *"\nimage: ${TEST_IMAGE}\npull: never\nnetwork: none\n` +
      `env: { GREETING: hello-from-env }\n` +
      `command: echo "$GREETING $PEPPERCORN_RUN_ID"; grep -c . /etc/passwd; echo done\n`,
  );
  const runs = await waitFor(
    'two runs of the container job',
    async () => {
      const r = (await ended('boxed-cron')).filter((x) => x.status === 'succeeded');
      return r.length >= 2 && r;
    },
    60_000,
  );
  tc.cli(['job', 'pause', 'boxed-cron']);
  for (const run of runs) {
    assert.equal(run.node, 'c1');
    assert.equal(run.image, TEST_IMAGE);
    assert.equal(run.container, `peppercorn-${run.id}`);
    assert.match(run.containerId ?? '', /^[0-9a-f]{64}$/);
    // Claimed (and the container created) ahead, released at its time, not before.
    assert.ok(run.claimedAt < run.scheduledAt, 'claimed ahead of its time');
    assert.ok(run.startedAt! >= run.scheduledAt, 'released at its time, not before');
    assert.ok(run.tail!.includes(`hello-from-env ${run.id}`), run.tail);
    assert.ok(run.tail!.includes('done'));
  }
  // The output went through the same path as any run: etcd chunks, `peppercorn logs`.
  const logs = tc.cli(['logs', runs[0].id]);
  assert.equal(logs.status, 0, logs.stderr);
  assert.match(logs.stdout, new RegExp(`hello-from-env ${runs[0].id.replace(/\./g, '\\.')}`));
  // `peppercorn runs` shows image and container id.
  const cli = tc.cli(['runs', 'boxed-cron', '--json']);
  const listed = JSON.parse(cli.stdout) as { id: string; image?: string; containerId?: string }[];
  assert.ok(
    listed.some(
      (r) => r.id === runs[0].id && r.image === TEST_IMAGE && r.containerId === runs[0].containerId,
    ),
  );
  const table = tc.cli(['runs', 'boxed-cron']);
  assert.ok(table.stdout.includes(runs[0].containerId!.slice(0, 12)), table.stdout);
  // Removed afterwards.
  for (const run of runs)
    assert.ok(!containersOf('c1').includes(run.container!), `${run.container} still exists`);
  await tc.store.removeJob('boxed-cron');
});

test('a live tail of a container run follows its output until it ends', async () => {
  tc.apply(
    `name: boxed-tail\nkind: once\nimage: ${TEST_IMAGE}\npull: never\ncommand: for i in 1 2 3; do echo line-$i; sleep 1; done\n`,
  );
  const r = tc.cli(['job', 'run', 'boxed-tail']);
  assert.equal(r.status, 0, r.stderr);
  const runId = r.stdout.trim();
  await waitFor('the run to start', async () => (await tc.store.getRun(runId))?.status === 'running');
  const follow = tc.cli(['logs', runId, '--follow']);
  assert.equal(follow.status, 0, follow.stderr);
  assert.deepEqual(
    follow.stdout.split('\n').filter((l) => l.startsWith('line-')),
    ['line-1', 'line-2', 'line-3'],
  );
  await tc.store.removeJob('boxed-tail');
});

test('a timeout stops the container: SIGTERM reaches the command, then the container is gone', async () => {
  tc.apply(
    `name: boxed-timeout\nkind: once\nimage: ${TEST_IMAGE}\npull: never\ntimeout: 3s\n` +
      `command: trap 'echo got-TERM; exit 7' TERM; echo started; while true; do sleep 1; done\n`,
  );
  const runId = tc.cli(['job', 'run', 'boxed-timeout']).stdout.trim();
  const run = await waitFor(
    'the run to time out',
    async () => {
      const x = await tc.store.getRun(runId);
      return x && x.status !== 'running' ? x : undefined;
    },
    60_000,
  );
  assert.equal(run.status, 'timeout');
  assert.ok(run.tail!.includes('started'));
  assert.ok(run.tail!.includes('got-TERM'), `the container's command was stopped with SIGTERM: ${run.tail}`);
  assert.ok(!containersOf('c1').includes(run.container!), 'container removed');
  await tc.store.removeJob('boxed-timeout');
});

test('a memory limit kills a hog, and the record says out of memory (container and plain job)', async () => {
  const hog = 'x=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa; while true; do x="$x$x"; done';
  tc.apply(
    `name: boxed-hog\nkind: once\nimage: ${TEST_IMAGE}\npull: never\nlimits: { memory: 32Mi, pids: 50, cpu: 0.5 }\ncommand: '${hog}'\n` +
      `---\nname: plain-hog\nkind: once\nselector: { runtime: podman }\nlimits: { memory: 32Mi }\ncommand: '${hog}'\n`,
  );
  for (const job of ['boxed-hog', 'plain-hog']) {
    await waitFor(`${job} placed`, () => tc.owner(job));
    const runId = tc.cli(['job', 'run', job]).stdout.trim();
    const run = await waitFor(
      `${job} to end`,
      async () => {
        const x = await tc.store.getRun(runId);
        return x && x.status !== 'running' ? x : undefined;
      },
      60_000,
    );
    assert.equal(run.status, 'failed', `${job}: ${JSON.stringify(run)}`);
    assert.equal(run.oomKilled, true, `${job}: ${JSON.stringify(run)}`);
    assert.match(run.reason ?? '', /out of memory/);
    const shown = tc.cli(['runs', job]);
    assert.match(shown.stdout, /out of memory/);
    await tc.store.removeJob(job);
  }
});

test("a plain run's setsid grandchild is killed with its run (cgroup), on timeout and after exit", async () => {
  const layout = readCgroupLayout();
  assert.notEqual(layout.mode, 'none', 'this machine has cgroups; the whole-tree kill must be tested here');
  const pidFile = tc.path('escapee.pid');
  const pidFile2 = tc.path('escapee2.pid');
  tc.apply(
    `name: escape-timeout\nkind: once\ntimeout: 2s\nselector: { runtime: podman }\n` +
      `command: setsid sh -c 'echo $$ > ${pidFile}; exec sleep 1000' & sleep 1000\n` +
      `---\nname: escape-exit\nkind: once\nselector: { runtime: podman }\n` +
      `command: setsid sh -c 'echo $$ > ${pidFile2}; exec sleep 1000' & sleep 1\n`,
  );
  for (const [job, file] of [
    ['escape-timeout', pidFile],
    ['escape-exit', pidFile2],
  ] as const) {
    await waitFor(`${job} placed`, () => tc.owner(job));
    const runId = tc.cli(['job', 'run', job]).stdout.trim();
    const pid = await waitFor(
      `${job}: the grandchild's pid`,
      () => existsSync(file) && Number(readFileSync(file, 'utf8').trim()),
    );
    const run = await waitFor(`${job} to end`, async () => {
      const x = await tc.store.getRun(runId);
      return x && x.status !== 'running' ? x : undefined;
    });
    assert.equal(run.status, job === 'escape-timeout' ? 'timeout' : 'succeeded');
    await waitFor(`${job}: the setsid grandchild ${pid} to be gone`, () => !processRunning(pid), 10_000);
    await tc.store.removeJob(job);
  }
});

test('kill -9 of the agent leaves no container running once the next agent on that node starts', async () => {
  tc.apply(`name: boxed-long\nkind: once\nimage: ${TEST_IMAGE}\npull: never\ncommand: echo up; sleep 1000\n`);
  await waitFor('boxed-long placed', () => tc.owner('boxed-long'));
  const runId = tc.cli(['job', 'run', 'boxed-long']).stdout.trim();
  const name = `peppercorn-${runId}`;
  await waitFor('the container running', () => containersOf('c1', true).includes(name), 60_000);
  await waitFor('its output', async () => (await tc.store.getRun(runId))?.status === 'running');
  tc.agents.get('c1')!.kill9();
  await tc.agents.get('c1')!.exited();
  // The runtime keeps a detached container going without its client: only the next agent cleans up.
  await sleep(1000);
  const stillThere = containersOf('c1', true).includes(name);
  tc.startAgent('c1', ['--container-runtime', PODMAN_RUNTIME]);
  await tc.ready(['c1', 'c2']);
  await waitFor(
    'the left container removed by the next agent on c1',
    () => !containersOf('c1').includes(name),
    60_000,
  );
  assert.ok(
    tc.agents.get('c1')!.log().includes('left by an earlier agent'),
    'the agent says what it cleaned',
  );
  // Recorded as lost (the default at-most-once policy), not run again.
  const run = await waitFor(
    'the run marked lost',
    async () => {
      const x = await tc.store.getRun(runId);
      return x && x.status !== 'running' ? x : undefined;
    },
    30_000,
  );
  assert.equal(run.status, 'lost');
  process.stdout.write(`# container still running after kill -9, before the next agent: ${stillThere}\n`);
  await tc.store.removeJob('boxed-long');
});
