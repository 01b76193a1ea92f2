// The CLI as an operator's tool: help and exit statuses of every command, complete output
// through pipes, the spec workflow (validate, diff, dry run, prune) and runs you can wait on.
// Real etcd, real agent, real CLI processes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestCluster, CLI, ROOT, waitFor } from '../harness/cluster';
import { keys } from '../../agent/core/keys';

const tc = new TestCluster();
before(() => tc.start());
after(() => tc.stop());

/** A shell pipeline with the CLI as `pc`. */
function sh(script: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(
    '/bin/bash',
    ['-c', `set -o pipefail; pc() { "${process.execPath}" "${CLI}" "$@"; }; ${script}`],
    {
      env: tc.env(),
      encoding: 'utf8',
      timeout: 120_000,
      maxBuffer: 64 << 20,
    },
  );
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A staged apply leaves neither its lock nor its parts once it returns. */
async function assertNoApplyLeft(): Promise<void> {
  const { ns } = tc.cluster;
  assert.equal((await ns.get(keys.applyLock).exec()).kvs.length, 0);
  assert.equal(Number(await ns.getAll().prefix(keys.applyParts).count()), 0);
}

const COMMANDS = [
  [],
  ['job'],
  ['job', 'apply'],
  ['job', 'validate'],
  ['job', 'diff'],
  ['job', 'ls'],
  ['job', 'get'],
  ['job', 'rm'],
  ['job', 'pause'],
  ['job', 'resume'],
  ['job', 'run'],
  ['job', 'next'],
  ['job', 'graph'],
  ['runs'],
  ['logs'],
  ['nodes'],
  ['node'],
  ['node', 'cordon'],
  ['node', 'uncordon'],
  ['node', 'drain'],
  ['node', 'forget'],
  ['alerts'],
  ['alerts', 'resolve'],
  ['alerts', 'config'],
  ['alerts', 'config', 'apply'],
  ['alerts', 'test'],
  ['import-crontab'],
  ['explain'],
  ['agent'],
  ['console'],
  ['completion'],
];

test('every command has --help (status 0, usage and examples or arguments) and refuses an unknown flag with 2', () => {
  for (const cmd of COMMANDS) {
    const help = tc.cli([...cmd, '--help']);
    assert.equal(help.status, 0, `${cmd.join(' ')} --help: ${help.stderr}`);
    assert.match(
      help.stdout,
      new RegExp(`^Usage: peppercorn${cmd.map((c) => ` ${c}`).join('')}`),
      cmd.join(' '),
    );
    assert.equal(help.stderr, '');
    const bad = tc.cli([...cmd, '--no-such-flag']);
    assert.equal(bad.status, 2, `${cmd.join(' ')} --no-such-flag`);
    // (A missing required option or argument is reported first where there is one.)
    assert.match(
      bad.stderr,
      /^peppercorn: (unknown option '?--no-such-flag|required option|missing required argument)/,
      cmd.join(' '),
    );
  }
  // Leaf commands show examples; the root shows the exit statuses.
  for (const cmd of [
    ['job', 'apply'],
    ['job', 'run'],
    ['logs'],
    ['import-crontab'],
    ['explain'],
    ['completion'],
  ])
    assert.match(tc.cli([...cmd, '--help']).stdout, /Examples?:/, cmd.join(' '));
  assert.match(tc.cli(['--help']).stdout, /Exit status:\n {2}0 {4}ok\n {2}1 {4}failure/);
  const none = tc.cli([]);
  assert.equal(none.status, 2);
  assert.match(none.stderr, /^Usage: peppercorn/);
  const missing = tc.cli(['job', 'get']);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /missing required argument 'name'/);
  assert.equal(tc.cli(['job', 'nope']).status, 2);
  assert.equal(tc.cli(['job', 'ls', '-o', 'xml']).status, 2);
});

test('--version prints the package version; completion scripts load in their shells', () => {
  const v = tc.cli(['--version']);
  assert.equal(v.status, 0);
  assert.equal(v.stdout.trim(), JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
  const bash = sh(
    `source <(pc completion bash); COMP_WORDS=(peppercorn job ap); COMP_CWORD=2; _peppercorn; echo "\${COMPREPLY[@]}"; COMP_WORDS=(peppercorn job apply --dr); COMP_CWORD=3; _peppercorn; echo "\${COMPREPLY[@]}"`,
  );
  assert.equal(bash.status, 0, bash.stderr);
  assert.deepEqual(bash.stdout.trim().split('\n'), ['apply', '--dry-run']);
  const zsh = spawnSync('zsh', ['--version']);
  if (!zsh.error) {
    const z = sh(
      `pc completion zsh > /tmp/_pc_zsh_$$ && zsh -n /tmp/_pc_zsh_$$; rc=$?; rm -f /tmp/_pc_zsh_$$; exit $rc`,
    );
    assert.equal(z.status, 0, z.stderr);
  } else assert.equal(tc.cli(['completion', 'zsh']).status, 0);
  assert.equal(tc.cli(['completion', 'fish']).status, 2);
});

test('3,000 jobs: `job ls --json | jq length` is complete, and `| head -1` leaves no trace', async () => {
  const n = 3000;
  const yaml = Array.from(
    { length: n },
    (_, i) =>
      `name: bulk-${String(i).padStart(4, '0')}\nkind: cron\nschedule: "0 0 1 1 *"\ncommand: "true"\nlabels: { set: bulk }\n`,
  ).join('---\n');
  const applied = tc.cli(['job', 'apply', '-f', '-'], yaml);
  assert.equal(applied.status, 0, applied.stderr);
  // 3,000 jobs take 3 writes each (spec, cursor, audit entry): staged, committed at once, nothing left behind.
  await assertNoApplyLeft();
  const json = tc.cli(['job', 'ls', '--json']);
  assert.ok(json.stdout.length > 64 * 1024, `${json.stdout.length} bytes: more than one pipe buffer`);
  const count = sh('pc job ls --json | jq length');
  assert.equal(count.status, 0, count.stderr);
  assert.equal(count.stdout.trim(), String(n));
  const yamlCount = sh('pc job ls -o yaml | grep -c "^- name:"');
  assert.equal(yamlCount.stdout.trim(), String(n));
  assert.equal(sh('pc job ls -o name | wc -l').stdout.trim(), String(n));
  for (const format of ['', '-o json', '-o wide', '-o name']) {
    const head = sh(`pc job ls ${format} | head -1`);
    assert.equal(head.stderr, '', `job ls ${format} | head -1`);
    assert.equal(head.status, 0);
    assert.equal(head.stdout.split('\n').length, 2);
  }
  // Pruning by label: keep one, the 2,999 others go (6 deletes and an audit entry each: many transactions, said first).
  const pruned = tc.cli(
    ['job', 'apply', '-f', '-', '--prune', '-l', 'set=bulk', '-o', 'json'],
    yaml.split('---\n')[0],
  );
  assert.equal(pruned.status, 0, pruned.stderr);
  await assertNoApplyLeft();
  const results = JSON.parse(pruned.stdout) as { name: string; result: string }[];
  assert.equal(results.filter((r) => r.result === 'pruned').length, n - 1);
  assert.deepEqual(
    JSON.parse(tc.cli(['job', 'ls', '-l', 'set=bulk', '--json']).stdout).map((j: { name: string }) => j.name),
    ['bulk-0000'],
  );
  assert.equal(tc.cli(['job', 'rm', 'bulk-0000']).status, 0);
});

test('validate is offline; diff, apply --dry-run and --prune -l against etcd', async () => {
  const a = (cmd: string) =>
    `name: team-a\nkind: cron\nschedule: "@daily"\ncommand: ${cmd}\nlabels: { team: billing }\n`;
  const b = `name: team-b\nkind: once\ncommand: "true"\nlabels: { team: billing }\n`;
  const other = `name: other-team\nkind: once\ncommand: "true"\nlabels: { team: web }\n`;
  // validate: no etcd needed (an unreachable endpoint), every problem named, status 2.
  const offline = ['--etcd', 'http://127.0.0.1:9'];
  const ok = tc.cli([...offline, 'job', 'validate', '-f', '-'], `${a('"true"')}---\n${b}`);
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /2 job spec\(s\) valid: team-a, team-b/);
  const bad = tc.cli([...offline, 'job', 'validate', '-f', '-'], `${a('"true"')}retries: { count: -1 }\n`);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /retries\.count: must be a whole number/);

  assert.equal(tc.cli(['job', 'apply', '-f', '-'], `${a('"true"')}---\n${b}---\n${other}`).status, 0);
  // diff: the changed field only, status 1; nothing to change, status 0.
  const file = tc.write('billing.yaml', a('"echo changed"'));
  const diff = tc.cli(['job', 'diff', '-f', file]);
  assert.equal(diff.status, 1, diff.stderr);
  assert.match(diff.stdout, /^--- job\/team-a \(stored\)\n\+\+\+ job\/team-a \(file\)\n@@/);
  assert.match(diff.stdout, /\n-command: "true"\n\+command: echo changed\n/);
  assert.doesNotMatch(diff.stdout, /team-b/);
  const pdiff = tc.cli(['job', 'diff', '-f', file, '--prune', '-l', 'team=billing']);
  assert.match(pdiff.stdout, /--- job\/team-b \(stored\)\n\+\+\+ \/dev\/null/);
  assert.equal(tc.cli(['job', 'diff', '-f', '-'], `${a('"true"')}---\n${b}`).status, 0);

  // dry run: says what would happen, stores nothing.
  const dry = tc.cli(['job', 'apply', '-f', file, '--dry-run', '--prune', '-l', 'team=billing']);
  assert.equal(dry.status, 0, dry.stderr);
  assert.equal(dry.stdout, 'job/team-a updated (dry run)\njob/team-b pruned (dry run)\n');
  assert.equal((await tc.store.getJob('team-a')).spec.command, 'true');
  assert.ok(await tc.store.getJob('team-b'));

  // --prune needs -l; with it, only jobs carrying the labels and missing from the file go.
  assert.equal(tc.cli(['job', 'apply', '-f', file, '--prune']).status, 2);
  const applied = tc.cli(['job', 'apply', '-f', file, '--prune', '-l', 'team=billing', '--json']);
  assert.equal(applied.status, 0, applied.stderr);
  assert.deepEqual(JSON.parse(applied.stdout), [
    { name: 'team-a', result: 'updated' },
    { name: 'team-b', result: 'pruned' },
  ]);
  const names = (await tc.store.listJobs()).map((j) => j.spec.name).filter((n) => !n.startsWith('bulk-'));
  assert.ok(
    names.includes('team-a') && names.includes('other-team') && !names.includes('team-b'),
    names.join(),
  );

  // get -o yaml round-trips: applying it back changes nothing.
  const got = tc.cli(['job', 'get', 'team-a', '-o', 'yaml']);
  assert.equal(got.status, 0);
  assert.equal(tc.cli(['job', 'apply', '-f', '-'], got.stdout).stdout, 'job/team-a unchanged\n');
  assert.equal(tc.cli(['job', 'diff', '-f', '-'], got.stdout).status, 0);
  assert.equal(tc.cli(['job', 'ls', '-l', 'team=billing', '-o', 'name']).stdout, 'job/team-a\n');
});

test('an apply that fits one transaction is all or nothing: a conflict stores none of it', async () => {
  // 60 new jobs (120 writes) fit one transaction; the last names a parent that does not exist.
  const specs = Array.from({ length: 60 }, (_, i) => `name: atomic-${i}\nkind: once\ncommand: "true"\n`);
  specs.push('name: atomic-child\nkind: once\nafter: [no-such-parent]\ncommand: "true"\n');
  const r = tc.cli(['job', 'apply', '-f', '-'], specs.join('---\n'));
  assert.equal(r.status, 2);
  assert.match(r.stderr, /no job named "no-such-parent"[^]*nothing was stored/);
  assert.doesNotMatch(r.stderr, /transactions/);
  assert.equal((await tc.store.listJobs()).filter((j) => j.spec.name.startsWith('atomic-')).length, 0);
});

test('job run --wait and logs --follow exit with the run status; job ls and runs show outcomes in the job zone', async () => {
  tc.startAgent('waiter');
  await tc.ready(['waiter']);
  tc.apply(
    [
      'name: w-ok\nkind: once\ntimezone: Europe/Paris\ncommand: echo hello-wait\n',
      'name: w-fail\nkind: once\ncommand: echo failing; exit 3\n',
      'name: w-slow\nkind: once\ncommand: sleep 1; echo slow-done; exit 7\n',
      'name: w-paris\nkind: cron\nschedule: "0 2 * * *"\ntimezone: Europe/Paris\ncommand: "true"\n',
    ].join('---\n'),
  );
  await waitFor('the jobs to be owned', async () =>
    (await tc.store.listJobs())
      .filter((j) => j.spec.name.startsWith('w-'))
      .every((j) => j.owner === 'waiter'),
  );
  const ok = tc.cli(['job', 'run', 'w-ok', '--wait', '--follow']);
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(ok.stdout, 'hello-wait\n');
  assert.match(ok.stderr, /\[run w-ok\.\d+\.1 succeeded, exit 0\]/);
  const fail = tc.cli(['job', 'run', 'w-fail', '--wait']);
  assert.equal(fail.status, 3, fail.stderr);
  assert.match(fail.stdout, /^w-fail\.\d+\.1\n$/);
  assert.match(fail.stderr, /failed, exit 3/);
  // logs --follow of a run just asked for (no record yet) waits for it and exits with its status.
  const id = tc.cli(['job', 'run', 'w-slow']).stdout.trim();
  const follow = tc.cli(['logs', id, '--follow']);
  assert.equal(follow.status, 7, follow.stderr);
  assert.equal(follow.stdout, 'slow-done\n');
  // A wait that gives up says so and exits 1; the run goes on.
  const timed = tc.cli(['job', 'run', 'w-slow', '--wait', '--timeout', '200ms']);
  assert.equal(timed.status, 1);
  assert.match(timed.stderr, /after --timeout; it goes on/);

  const ls = JSON.parse(tc.cli(['job', 'ls', '--json']).stdout) as {
    name: string;
    last: { status: string; endedAt: string } | null;
    next: string | null;
  }[];
  const byName = new Map(ls.map((j) => [j.name, j]));
  assert.equal(byName.get('w-ok')!.last!.status, 'succeeded');
  assert.equal(byName.get('w-fail')!.last!.status, 'failed');
  assert.match(byName.get('w-ok')!.last!.endedAt, /Z$/, 'UTC in JSON');
  assert.match(byName.get('w-paris')!.next!, /T0[01]:00:00\.000Z$/, 'UTC in JSON');
  const table = tc.cli(['job', 'ls']).stdout;
  assert.match(table, /w-fail .* failed \d+s ago/);
  assert.match(table, /w-paris .*T02:00:00\+0[12]:00/, "next time in the job's zone");
  const next = tc.cli(['job', 'next', 'w-paris', '-n', '2']).stdout;
  assert.match(
    next,
    /^\d{4}-\d\d-\d\dT02:00:00\+0[12]:00\n\d{4}-\d\d-\d\dT02:00:00\+0[12]:00\n\(times in Europe\/Paris\)\n$/,
  );
  const runs = tc.cli(['runs', 'w-ok']).stdout;
  assert.match(runs, /RUN +STATUS +NODE +SCHEDULED +DURATION +EXIT/);
  assert.match(runs, /w-ok\.\d+\.1 +succeeded +waiter +\S+\+0[12]:00 +\d+\.\d{3}s +0/);
  const wide = tc.cli(['runs', 'w-fail', '-o', 'wide']).stdout;
  assert.match(wide, /manual +1 +waiter/);
  assert.equal(tc.cli(['runs', 'w-fail', '-o', 'name']).stdout.trim().split('\n').length, 1);
});
