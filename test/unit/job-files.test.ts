import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jobsToYaml, parseJobFile, type SpecFileError } from '../../agent/core/job/files';
import type { JobSpec } from '../../agent/core/job/spec';

function jobsOf(text: string, source = 'jobs.yaml'): JobSpec[] {
  const result = parseJobFile(text, source);
  assert.ok(result.ok, `expected success, got ${JSON.stringify(result.ok ? null : result.problems)}`);
  return result.jobs;
}

function problemsOf(text: string, source = 'jobs.yaml'): SpecFileError[] {
  const result = parseJobFile(text, source);
  assert.equal(result.ok, false, 'expected the file to be rejected');
  return result.ok ? [] : result.problems;
}

test('a single YAML spec', () => {
  const jobs = jobsOf('name: backup\nschedule: "0 2 * * *"\ncommand: ./backup.sh\n');
  assert.deepEqual(jobs, [
    {
      name: 'backup',
      kind: 'cron',
      schedule: '0 2 * * *',
      timezone: 'UTC',
      command: './backup.sh',
      env: {},
      selector: {},
      policy: 'at-most-once',
      paused: false,
    },
  ]);
});

test('a list, a jobs key and several documents, mixed', () => {
  const text = [
    'name: a',
    'schedule: "@daily"',
    'command: one',
    '---',
    '- name: b',
    '  kind: loop',
    '  command: two',
    '- name: c',
    '  kind: once',
    '  command: three',
    '---',
    'jobs:',
    '  - name: d',
    '    schedule: "@every 10s"',
    '    command: four',
    '---',
    '# an empty document is fine',
    '',
  ].join('\n');
  assert.deepEqual(
    jobsOf(text).map((job) => `${job.name}:${job.kind}:${job.command}`),
    ['a:cron:one', 'b:loop:two', 'c:once:three', 'd:cron:four'],
  );
});

test('JSON input: a list and a jobs object', () => {
  const list =
    '[{"name":"x","schedule":"*/5 * * * *","command":"a"},{"name":"y","kind":"loop","command":"b","times":3}]';
  assert.deepEqual(
    jobsOf(list, 'jobs.json').map((job) => [job.name, job.schedule ?? job.times]),
    [
      ['x', '*/5 * * * *'],
      ['y', 3],
    ],
  );
  assert.equal(jobsOf('{"jobs":[{"name":"z","kind":"once","command":"c"}]}', 'jobs.json')[0].name, 'z');
});

test('malformed YAML names line and column', () => {
  assert.deepEqual(problemsOf('name: a\ncommand: [x, y\nkind: loop\n'), [
    {
      where: 'jobs.yaml',
      errors: [
        {
          field: 'yaml',
          message:
            'Flow sequence in block collection must be sufficiently indented and end with a ] at line 3, column 1',
        },
      ],
    },
  ]);
  const second = problemsOf('name: a\nkind: loop\ncommand: x\n---\nname: b\nname: c\n');
  assert.equal(second.length, 1);
  assert.equal(second[0].where, 'jobs.yaml: document 2');
  assert.equal(second[0].errors[0].message, 'Map keys must be unique at line 6, column 1');
});

test('an unquoted */5 schedule gets a quoting hint', () => {
  const [problem] = problemsOf('name: a\nschedule: */5 * * * *\ncommand: x\n');
  assert.equal(
    problem.errors[0].message,
    'Unexpected alias at node end at line 2, column 15; values starting with "*" must be quoted, e.g. schedule: "*/5 * * * *"',
  );
});

test('invalid specs are located by document, item and job name; nothing is accepted', () => {
  const text = [
    'name: good',
    'kind: loop',
    'command: x',
    '---',
    '- name: fine',
    '  kind: loop',
    '  command: y',
    '- name: backup',
    '  schedule: "0 2 * * *"',
    '  comand: z',
  ].join('\n');
  assert.deepEqual(problemsOf(text), [
    {
      where: 'jobs.yaml: document 2, item 2 (job "backup")',
      errors: [
        { field: 'comand', message: 'unknown field "comand"; did you mean "command"?' },
        { field: 'command', message: 'required; the shell command to run with /bin/sh -c' },
      ],
    },
  ]);
  assert.deepEqual(
    problemsOf('- kind: loop\n  command: x\n').map((p) => p.where),
    ['jobs.yaml: item 1'],
  );
  assert.deepEqual(
    problemsOf('name: x\nkind: loop\ncommand: x\n---\nname: y\n').map((p) => p.where),
    ['jobs.yaml: document 2 (job "y")'],
  );
});

test('duplicate names are a problem', () => {
  const problems = problemsOf('- {name: a, kind: loop, command: x}\n---\nname: a\nkind: once\ncommand: y\n');
  assert.deepEqual(problems, [
    {
      where: 'jobs.yaml: document 2 (job "a")',
      errors: [
        { field: 'name', message: 'duplicate job name "a", already used at jobs.yaml: document 1, item 1' },
      ],
    },
  ]);
});

test('empty input and a bad jobs key', () => {
  const noSpecs = [{ where: 'jobs.yaml', errors: [{ field: '(file)', message: 'no job specs found' }] }];
  assert.deepEqual(problemsOf(''), noSpecs);
  assert.deepEqual(problemsOf('# only a comment\n---\n'), noSpecs);
  assert.deepEqual(problemsOf('jobs: []\n'), noSpecs);
  assert.deepEqual(problemsOf('jobs: {name: x}\nversion: 2\n'), [
    {
      where: 'jobs.yaml',
      errors: [
        { field: 'version', message: 'unknown top-level key "version"; only "jobs" is allowed here' },
        { field: 'jobs', message: 'must be a list of job specs' },
      ],
    },
  ]);
  assert.deepEqual(problemsOf('just a string\n'), [
    {
      where: 'jobs.yaml',
      errors: [{ field: '(spec)', message: 'a job spec must be a map of fields, got a string' }],
    },
  ]);
});

test('YAML scalars that are not strings are caught with a hint', () => {
  const [problem] = problemsOf('name: web\nkind: loop\ncommand: ./serve\nenv:\n  PORT: 8080\npaused: yes\n');
  assert.deepEqual(problem.errors, [
    { field: 'env.PORT', message: 'value must be a string, got a number; quote it: "8080"' },
    { field: 'paused', message: 'must be true or false (without quotes), got "yes"' },
  ]);
});

test('jobsToYaml writes readable multi-document YAML that parses back to the same jobs', () => {
  const jobs = jobsOf(
    [
      '- name: backup',
      '  command: "pg_dump db | gzip > /b/db.gz"',
      '  paused: true',
      '  schedule: "*/5 * * * *"',
      '  timezone: Europe/Paris',
      '  env: {PGHOST: db1, PORT: "5432"}',
      '- name: worker',
      '  kind: loop',
      '  command: ./work',
      '  delay: 5s',
      '  times: 3',
      '- name: migrate',
      '  kind: once',
      '  at: 2026-12-01T03:00:00+01:00',
      '  command: |',
      '    ./migrate',
      '    ./verify',
    ].join('\n'),
  );
  const yaml = jobsToYaml(jobs);
  assert.equal(
    yaml,
    [
      'name: backup',
      'kind: cron',
      'schedule: "*/5 * * * *"',
      'timezone: Europe/Paris',
      'command: pg_dump db | gzip > /b/db.gz',
      'env:',
      '  PGHOST: db1',
      '  PORT: "5432"',
      'policy: at-most-once',
      'paused: true',
      '---',
      'name: worker',
      'kind: loop',
      'timezone: UTC',
      'times: 3',
      'delay: 5s',
      'command: ./work',
      'policy: at-most-once',
      'paused: false',
      '---',
      'name: migrate',
      'kind: once',
      'timezone: UTC',
      'at: 2026-12-01T02:00:00.000Z',
      'command: |',
      '  ./migrate',
      '  ./verify',
      'policy: at-most-once',
      'paused: false',
      '',
    ].join('\n'),
  );
  assert.deepEqual(jobsOf(yaml), jobs);
});
