// The agent's log: JSON lines (or text), levels, journald priorities, job/run fields.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  createLogger,
  chooseFormat,
  parseLevel,
  journalPriority,
  formatText,
} from '../../agent/logger/logger';
import { subjectOf } from '../../agent/logger/subject';

function capture(format: 'json' | 'text', journal = false, level?: 'debug' | 'info') {
  const lines: string[] = [];
  const { log } = createLogger({
    node: 'n1',
    format,
    journal,
    level,
    out: { write: (s: string) => lines.push(s) },
  });
  return { log, lines };
}

test('JSON lines parse one by one, with node, level, time and message', () => {
  const { log, lines } = capture('json');
  log('joined as n1 (epoch 7, lease TTL 5s)');
  log('lease keepalive failed: deadline exceeded');
  assert.equal(lines.length, 2);
  for (const l of lines) assert.ok(l.endsWith('\n') && !l.slice(0, -1).includes('\n'));
  const [a, b] = lines.map((l) => JSON.parse(l));
  assert.equal(a.node, 'n1');
  assert.equal(a.level, 30);
  assert.equal(a.msg, 'joined as n1 (epoch 7, lease TTL 5s)');
  assert.ok(!Number.isNaN(Date.parse(a.time)));
  assert.equal(b.level, 40);
});

test('lines about a job or a run carry job and run; explicit fields win', () => {
  const { log, lines } = capture('json');
  log('job nightly-report assigned to this node');
  log('claim of nightly-report.1767225600000.2 had committed after all; launching it now');
  log('recording the outcome of a-b.1767225600000.1 failed (timeout); retrying');
  log('assign backup → n2: spread');
  log('pruning runs of backup: etcd unavailable');
  log('elected leader (revision 12)');
  log('started', { job: 'x', run: 'x.1767225600000.1', level: 'error', extra: 1 });
  const o = lines.map((l) => JSON.parse(l));
  assert.deepEqual([o[0].job, o[0].run], ['nightly-report', undefined]);
  assert.deepEqual([o[1].job, o[1].run], ['nightly-report', 'nightly-report.1767225600000.2']);
  assert.deepEqual([o[2].job, o[2].run, o[2].level], ['a-b', 'a-b.1767225600000.1', 40]);
  assert.equal(o[3].job, 'backup');
  assert.equal(o[4].job, 'backup');
  assert.equal('job' in o[5], false);
  assert.deepEqual([o[6].job, o[6].run, o[6].level, o[6].extra], ['x', 'x.1767225600000.1', 50, 1]);
});

test('levels: wording of trouble is warn or error; below the chosen level is dropped', () => {
  assert.equal(subjectOf('joined as n1').level, 'info');
  assert.equal(subjectOf('campaign failed: x; will retry').level, 'warn');
  assert.equal(subjectOf('lease lost: expired; stopping all claims').level, 'warn');
  assert.equal(subjectOf('gave up recording the outcome of j.1767225600000.1').level, 'error');
  const info = capture('json', false, 'info');
  info.log('run j.1767225600000.1 launched', { level: 'debug' });
  assert.equal(info.lines.length, 0);
  const debug = capture('json', false, 'debug');
  debug.log('run j.1767225600000.1 launched', { level: 'debug' });
  assert.equal(JSON.parse(debug.lines[0]).level, 20);
});

test('journald: each line starts with its syslog priority', () => {
  assert.deepEqual(
    (['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const).map(journalPriority),
    [7, 7, 6, 4, 3, 2],
  );
  const { log, lines } = capture('json', true);
  log('elected leader (revision 3)');
  log('compaction failed: x');
  assert.match(lines[0], /^<6>\{/);
  assert.match(lines[1], /^<4>\{/);
  assert.equal(JSON.parse(lines[1].slice(3)).msg, 'compaction failed: x');
});

test('text: readable, one line, fields as key=value', () => {
  const { log, lines } = capture('text');
  log('run j.1767225600000.1 failed: exit 3', { exitCode: 3 });
  assert.match(lines[0], /^\d{4}-\d\d-\d\dT\S+Z WARN  \[n1\] run j\.1767225600000\.1 failed: exit 3 /);
  assert.match(lines[0], / job=j run=j\.1767225600000\.1 exitCode=3\n$/);
  assert.equal(formatText('not json\n'), 'not json\n');
});

test('format: JSON unless a terminal; bad names are refused with the choices', () => {
  assert.equal(chooseFormat(undefined, false), 'json');
  assert.equal(chooseFormat(undefined, true), 'text');
  assert.equal(chooseFormat('json', true), 'json');
  assert.equal(chooseFormat('text', false), 'text');
  assert.throws(() => chooseFormat('xml', false), /unknown log format "xml": use json or text/);
  assert.throws(() => parseLevel('loud'), /unknown log level "loud": use one of trace, debug/);
});
