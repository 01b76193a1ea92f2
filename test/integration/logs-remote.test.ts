// Any run's whole log, from anywhere: past etcd's window and cap, `peppercorn logs` reads the log
// file from the node that ran it (asked through etcd), byte for byte as the command wrote it; a
// node answers only for its own runs; with the node down, the CLI says so and shows what etcd has.
// The oracle is the command's own copy of its output (tee), not the agent's.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { TestCluster, waitFor, CLI } from '../harness/cluster';
import { keys } from '../../agent/core/keys';
import { askNode } from '../../agent/api/run-output';
import { LOG_WINDOW_BYTES, newRequestId } from '../../agent/core/log-requests';

const tc = new TestCluster();

before(async () => {
  await tc.start();
  tc.startAgent('holder', ['--labels', 'role=holder']);
  tc.startAgent('other', ['--labels', 'role=other']);
  await tc.ready(['holder', 'other']);
});
after(() => tc.stop());

/** The CLI with its stdout as bytes, through a pipe, unbounded. */
function cli(args: string[]): Promise<{ status: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, ...args], { env: tc.env() });
    const out: Buffer[] = [];
    let err = '';
    p.stdout.on('data', (d: Buffer) => out.push(d));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('close', (status) => resolve({ status, stdout: Buffer.concat(out), stderr: err }));
  });
}

/** Runs a once-job on `role`'s node to completion; returns the run id. */
async function runJob(name: string, role: string, command: string): Promise<string> {
  tc.apply(`name: ${name}\nkind: once\nselector: { role: ${role} }\ncommand: '${command}'\n`);
  await waitFor(`${name} to be assigned`, async () => (await tc.owner(name)) !== null);
  const id = await tc.store.trigger(name, 'test');
  await waitFor(
    `${name} to succeed`,
    async () => (await tc.store.getRun(id))?.status === 'succeeded',
    60_000,
  );
  return id;
}

// About 5 MB of numbered lines with some odd bytes, and the command's own copy of it.
const BIG = (file: string) =>
  `i=0; while [ $i -lt 200 ]; do printf "\\033[1mblock %d\\033[0m tab\\there é\\n" $i; seq $((i*4000)) $((i*4000+3999)); i=$((i+1)); done | tee ${file}`;

let bigRun = '';
let expected: Buffer;

test('a 5 MB run is read whole from its node, byte for byte, past the etcd cap', async () => {
  const file = tc.path('big.expected');
  bigRun = await runJob('big', 'holder', BIG(file));
  expected = readFileSync(file);
  assert.ok(expected.length > 5_000_000, `the run wrote ${expected.length} bytes`);
  assert.equal((await tc.store.getRun(bigRun))?.outputBytes, expected.length);
  const r = await cli(['logs', bigRun]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.length, expected.length);
  assert.ok(r.stdout.equals(expected), 'the same bytes the command wrote');
});

test('after the etcd window (shipped chunks gone) the output still comes whole from the node', async () => {
  // What etcd's lease expiry does after the window: the chunks are gone.
  await tc.cluster.ns.delete().prefix(keys.logs(bigRun)).exec();
  assert.equal((await tc.store.readLogs(bigRun)).chunks.length, 0);
  const r = await cli(['logs', bigRun]);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(r.stdout.equals(expected), 'the same bytes the command wrote');
  // Every request and answer was cleaned up by the reader.
  const left = await tc.cluster.ns.getAll().prefix('logre').keys();
  assert.deepEqual(left, []);
});

test('--tail N gives the last N lines; --since a duration covering the run gives all of it', async () => {
  const lines = expected.toString('latin1').split('\n');
  lines.pop(); // the final newline ends the last line
  const tail = await cli(['logs', bigRun, '--tail', '7']);
  assert.equal(tail.status, 0, tail.stderr);
  assert.equal(tail.stdout.toString('latin1'), lines.slice(-7).join('\n') + '\n');
  const none = await cli(['logs', bigRun, '--tail', '0']);
  assert.equal(none.stdout.length, 0);
  const since = await cli(['logs', bigRun, '--since', '1h']);
  assert.ok(since.stdout.equals(expected), '--since 1h: the whole run');
  const bad = await cli(['logs', bigRun, '--since', 'yesterday']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--since takes a duration back from now \(30s, 10m, 2h\) or a time/);
});

test('--since a time gives the output written from then on (the command says when that is)', async () => {
  const mark = tc.path('since.mark');
  // The command notes the time between its two lines, by its own clock, seconds from each.
  const id = await runJob(
    'timed',
    'holder',
    `echo early-line; sleep 2; date +%s%3N > ${mark}; sleep 2; echo late-line; echo last-line`,
  );
  const at = new Date(Number(readFileSync(mark, 'utf8').trim())).toISOString();
  const r = await cli(['logs', id, '--since', at]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.toString(), 'late-line\nlast-line\n');
  const all = await cli(['logs', id, '--since', new Date(Date.now() - 3_600_000).toISOString()]);
  assert.equal(all.stdout.toString(), 'early-line\nlate-line\nlast-line\n');
});

/** A request written straight into etcd, as any etcd client could: the node's answer. */
async function ask(node: string, body: object) {
  const lease = tc.cluster.ns.lease(10);
  try {
    return await askNode(tc.cluster, lease, node, { maxBytes: LOG_WINDOW_BYTES, ...body } as never, 15_000);
  } finally {
    await lease.revoke();
  }
}

test("a node refuses another node's run, a path-like id and an unknown run", async () => {
  const otherRun = await runJob('elsewhere', 'other', 'echo from-other');
  const notMine = await ask('holder', { run: otherRun });
  assert.equal(notMine.answer.code, 'refused');
  assert.equal(notMine.answer.error, `run ${otherRun} ran on node other, not on holder`);
  assert.equal(notMine.data.length, 0);
  // The right node answers for it.
  const mine = await ask('other', { run: otherRun });
  assert.equal(mine.data.toString(), 'from-other\n');
  for (const bad of ['../../etc/passwd', 'big/../../x.1.1', 'big.1.1/../../x', '/etc/passwd']) {
    const r = await ask('holder', { run: bad });
    assert.equal(r.answer.code, 'refused', bad);
    assert.match(r.answer.error!, /is not a run id/);
  }
  const unknown = await ask('holder', { run: 'big.1.1' });
  assert.equal(unknown.answer.error, 'no run big.1.1 in the history');
  const huge = await ask('holder', { run: bigRun, maxBytes: 1 << 30, offset: 0 });
  assert.equal(huge.data.length, LOG_WINDOW_BYTES, 'a window is capped whatever is asked');
  assert.ok(huge.data.equals(expected.subarray(0, LOG_WINDOW_BYTES)));
  const resumed = await ask('holder', { run: bigRun, offset: expected.length - 10 });
  assert.ok(resumed.data.equals(expected.subarray(-10)), 'reading resumes at any offset');
  // A request nobody can be answered on (no lease) or with an id that is not one is dropped.
  const stray = keys.logRequest('holder', `${newRequestId()}/x`);
  await tc.cluster.ns
    .put(stray)
    .value(JSON.stringify({ run: bigRun, maxBytes: 10 }))
    .exec();
  const unleased = keys.logRequest('holder', newRequestId());
  await tc.cluster.ns
    .put(unleased)
    .value(JSON.stringify({ run: bigRun, maxBytes: 10 }))
    .exec();
  await waitFor('the malformed requests to be deleted', async () => {
    const left = await tc.cluster.ns.getAll().prefix(keys.logRequests('holder')).keys();
    return left.length === 0;
  });
  assert.deepEqual(await tc.cluster.ns.getAll().prefix('logresp/').keys(), [], 'and nothing was answered');
});

test('with its node down, logs says so and shows what etcd has: shipped chunks, then the record tail', async () => {
  // A second big run whose shipped chunks are still in etcd (the first MiB), then its node dies.
  const file = tc.path('big2.expected');
  const id = await runJob('big2', 'holder', BIG(file));
  const out = readFileSync(file);
  const shipped = (await tc.store.readLogs(id)).chunks;
  assert.ok(shipped.length > 0);
  tc.agents.get('holder')!.kill9();
  await waitFor('holder to be seen down', async () =>
    (await tc.store.listNodes()).some((n) => n.id === 'holder' && !n.alive),
  );
  const r = await cli(['logs', id]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /node holder is down: its log file cannot be read now; showing what etcd has/);
  const record = (await tc.store.getRun(id))!;
  const tail = Buffer.from(record.tail!);
  assert.ok(tail.length > 0 && tail.length <= 4096);
  // The first MiB as shipped, then the last bytes kept with the run; the gap is named.
  const head = out.subarray(0, 1 << 20);
  assert.ok(r.stdout.subarray(0, head.length).equals(head), 'the shipped first MiB');
  assert.ok(r.stdout.subarray(head.length).equals(out.subarray(-tail.length)), 'then the tail');
  assert.match(
    r.stderr,
    new RegExp(
      `bytes ${head.length}–${out.length - tail.length} of ${out.length} are only in the log file on holder`,
    ),
  );
  // The first run's chunks were deleted: only its record's tail is left.
  const old = await cli(['logs', bigRun]);
  assert.match(old.stderr, /node holder is down/);
  assert.match(
    old.stderr,
    /the shipped output has expired; showing the last \d+ of \d+ bytes kept with the run/,
  );
  assert.ok(old.stdout.equals(expected.subarray(-old.stdout.length)) && old.stdout.length > 0);
  // --since cannot be honoured from etcd, and says why.
  const since = await cli(['logs', id, '--since', '1h']);
  assert.match(since.stderr, /--since needs the node/);
});
