// Container and limit fields of the job model, the cgroup layout reading, the container's create
// arguments and placement of container jobs: pure parts, table tests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateJob, type FieldError } from '../../agent/core/job/spec';
import { checkImageReference, parseMemory } from '../../agent/core/job/isolation';
import { limitHome, parseCgroupMounts } from '../../agent/runner/cgroup';
import { createArgs, envFileText, runtimeLimitFlags } from '../../agent/runner/container';
import { rlimitArgs } from '../../agent/runner/limits';
import { planAssignments, type LiveNode } from '../../agent/leader/assign';

const base = { name: 'boxed', kind: 'once', command: 'echo hi' };

function errors(input: object): FieldError[] {
  const r = validateJob({ ...base, ...input });
  return r.ok ? [] : r.errors;
}

test('valid container and limit fields are kept as written', () => {
  const r = validateJob({
    ...base,
    image: 'registry.example.com:5000/team/tool:1.2@sha256:' + 'a'.repeat(64),
    pull: 'always',
    volumes: ['/srv/data:/data:ro', 'cache:/cache'],
    network: 'none',
    limits: { cpu: 0.5, memory: '256Mi', pids: 200 },
  });
  assert.ok(r.ok, JSON.stringify(!r.ok && r.errors));
  assert.deepEqual(r.job.limits, { cpu: 0.5, memory: '256Mi', pids: 200 });
  assert.equal(r.job.network, 'none');
  // Limits apply to plain jobs too.
  assert.ok(validateJob({ ...base, limits: { memory: '1Gi' } }).ok);
});

test('bad values are explained field by field', () => {
  const cases: [object, string, RegExp][] = [
    [{ limits: { memory: 256 } }, 'limits.memory', /256 has no unit; add one, e.g. 256Mi/],
    [{ limits: { memory: '256' } }, 'limits.memory', /has no unit/],
    [{ limits: { memory: '256Qb' } }, 'limits.memory', /not a memory unit/],
    [{ limits: { memory: '1k' } }, 'limits.memory', /too small/],
    [{ limits: { cpu: '2' } }, 'limits.cpu', /number of CPUs/],
    [{ limits: { pids: 0 } }, 'limits.pids', /whole number/],
    [{ limits: { disk: '1G' } }, 'limits.disk', /unknown limit "disk"; use cpu, memory or pids/],
    [{ image: 'Ubuntu:22.04' }, 'image', /lower case/],
    [{ image: 'alpine:3.20 --privileged' }, 'image', /white space/],
    [{ image: 'https://docker.io/alpine' }, 'image', /is a URL/],
    [{ image: 'alpine::3' }, 'image', /not an image reference/],
    [{ image: 'alpine', pull: 'sometimes' }, 'pull', /use never, missing or always/],
    [{ pull: 'always' }, 'pull', /only applies to container jobs; add an image/],
    [{ image: 'alpine', network: 'my net' }, 'network', /use none, host or the name/],
    [{ image: 'alpine', volumes: ['data'] }, 'volumes[0]', /not a volume/],
    [{ image: 'alpine', volumes: ['/a:data'] }, 'volumes[0]', /absolute path inside the container/],
    [{ image: 'alpine', volumes: ['/a:/b:rx'] }, 'volumes[0]', /"rx" .* not a volume option/],
    [{ container: 'alpine' }, 'container', /did you mean "image"/],
  ];
  for (const [input, field, message] of cases) {
    const errs = errors(input);
    const e = errs.find((x) => x.field === field);
    assert.ok(e, `${JSON.stringify(input)}: no error on ${field}: ${JSON.stringify(errs)}`);
    assert.match(e.message, message, JSON.stringify(input));
  }
});

test('image references: the OCI grammar', () => {
  for (const ok of [
    'alpine',
    'alpine:3.20',
    'docker.io/library/alpine',
    'localhost/x:1',
    'a.b:5000/c/d_e-f:v1.0',
  ])
    assert.equal(checkImageReference(ok), null, ok);
  for (const bad of ['', ':tag', 'alpine:', 'ALPINE', 'a//b', 'alpine@sha256:xyz'])
    assert.notEqual(checkImageReference(bad), null, bad);
});

test('memory sizes: binary and decimal units', () => {
  assert.equal(parseMemory('256Mi'), 256 * 1024 ** 2);
  assert.equal(parseMemory('1Gi'), 1024 ** 3);
  assert.equal(parseMemory('512M'), 512e6);
  assert.equal(parseMemory('512MB'), 512e6);
  assert.equal(parseMemory('8388608b'), 8388608);
  assert.equal(parseMemory('1.5Gi'), 1.5 * 1024 ** 3);
});

test('cgroup layouts: v2, hybrid (this VM), v1, none', () => {
  const v2 = parseCgroupMounts(
    'cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid 0 0\n',
    'cpuset cpu io memory pids\n',
  );
  assert.equal(v2.mode, 'v2');
  assert.equal(limitHome(v2, 'memory'), 'v2');
  const hybridMounts = [
    'tmpfs /sys/fs/cgroup tmpfs rw 0 0',
    'cgroup /sys/fs/cgroup/cpu cgroup rw,relatime,cpu 0 0',
    'cgroup /sys/fs/cgroup/memory cgroup rw,relatime,memory 0 0',
    'cgroup /sys/fs/cgroup/pids cgroup rw,relatime,pids 0 0',
    'cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0',
  ].join('\n');
  const hybrid = parseCgroupMounts(hybridMounts, '');
  assert.equal(hybrid.mode, 'hybrid');
  assert.equal(hybrid.unified, '/sys/fs/cgroup/unified');
  assert.equal(limitHome(hybrid, 'memory'), 'v1');
  assert.equal(hybrid.v1.memory, '/sys/fs/cgroup/memory');
  const v1 = parseCgroupMounts('cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,cpu,cpuacct 0 0\n');
  assert.equal(v1.mode, 'v1');
  assert.equal(limitHome(v1, 'cpu'), 'v1');
  assert.equal(limitHome(v1, 'memory'), undefined);
  assert.equal(parseCgroupMounts('proc /proc proc rw 0 0').mode, 'none');
});

test('a container is created without any env value on its command line, labelled with node and run', () => {
  const args = createArgs({
    image: 'alpine:3.20',
    runId: 'boxed.1700000000000.1',
    nodeId: 'n1',
    agentKey: 'n1.abc',
    command: 'echo "$TOKEN"',
    env: { TOKEN: 's3cret' },
    limitFlags: runtimeLimitFlags({ memoryBytes: 256 * 1024 ** 2, cpu: 0.5, pids: 200 }),
    envFile: '/var/lib/peppercorn/n1/containers/x.env',
    volumes: ['/srv:/srv:ro'],
    network: 'none',
  });
  assert.ok(!args.join(' ').includes('s3cret'));
  assert.ok(args.includes('--env-file'));
  for (const [flag, value] of [
    ['--name', 'peppercorn-boxed.1700000000000.1'],
    ['--pull', 'missing'],
    ['--network', 'none'],
    ['--memory', '268435456b'],
    ['--cpus', '0.5'],
    ['--pids-limit', '200'],
    ['--volume', '/srv:/srv:ro'],
  ])
    assert.equal(args[args.indexOf(flag) + 1], value, flag);
  assert.ok(args.includes('peppercorn.node=n1') && args.includes('peppercorn.run=boxed.1700000000000.1'));
  assert.equal(args.at(-1), 'echo "$TOKEN"');
  assert.equal(envFileText({ A: '1', B: 'x y' }), 'A=1\nB=x y\n');
  assert.throws(() => envFileText({ A: 'two\nlines' }), /line break/);
});

test('rlimit fallback: memory as address space, pids as processes, cpu has none', () => {
  const l = { memoryBytes: 1 << 28, pids: 50, cpu: 0.5 };
  assert.deepEqual(rlimitArgs(l, ['memory', 'pids', 'cpu']), [`--as=${1 << 28}`, '--nproc=50']);
  assert.deepEqual(rlimitArgs(l, ['cpu']), []);
});

test('a container job is placed only on a node with a runtime label, and says why when none has one', () => {
  const nodes: LiveNode[] = [
    { id: 'a', epoch: 1, labels: {}, capacity: 0 },
    { id: 'b', epoch: 2, labels: { runtime: 'podman' }, capacity: 0 },
  ];
  const jobs = Array.from({ length: 4 }, (_, i) => ({ name: `j${i}`, selector: {}, needs: ['runtime'] }));
  const plan = planAssignments(jobs, nodes, new Map());
  assert.deepEqual([...new Set([...plan.moves.values()].map((o) => o.node))], ['b']);
  // It leaves a node that lost its runtime (restarted without one: same id, same epoch here).
  const current = new Map([['j0', { node: 'a', epoch: 1 }]]);
  assert.equal(planAssignments(jobs.slice(0, 1), nodes, current).moves.get('j0')?.node, 'b');
  const none = planAssignments(jobs.slice(0, 1), nodes.slice(0, 1), new Map());
  assert.match(none.unplaced.get('j0') ?? '', /a runtime label .* podman or docker/);
});
