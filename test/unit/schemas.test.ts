// The published JSON Schemas are the generated ones, they accept every example, and they
// refuse known-bad files naming the same field as the CLI's validators.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments, parse } from 'yaml';
import Ajv2020 from 'ajv/dist/2020';
import { SCHEMAS, renderSchema, schemaDocument } from '../../agent/core/schema/catalog';
import { validateJob, JOB_FIELDS } from '../../agent/core/job/spec';
import { parseAlertingYaml } from '../../agent/core/alerting';
import { validateConfig } from '../../agent/core/agent-config';
import { JOB_SHAPE } from '../../agent/core/schema/job-shape';
import { fieldsOf } from '../../agent/core/schema/shape';
import { VERSION } from '../../agent/version';

const ROOT = join(__dirname, '..', '..', '..');
const ajv = new Ajv2020({ allErrors: true, strict: false });
const validators = Object.fromEntries(SCHEMAS.map((s) => [s.name, ajv.compile(schemaDocument(s))]));

/** The fields a schema complains about, as dotted paths like the CLI's ("retries.count"). */
function schemaFields(name: string, value: unknown): string[] {
  const v = validators[name];
  if (v(value)) return [];
  return [
    ...new Set(
      (v.errors ?? []).map((e) => {
        const path = e.instancePath.split('/').filter(Boolean);
        if (e.keyword === 'additionalProperties') path.push(String(e.params.additionalProperty));
        if (e.keyword === 'required') path.push(String(e.params.missingProperty));
        return path.join('.');
      }),
    ),
  ];
}

test('schemas/ holds exactly the generated schemas (run `npm run schemas` after changing a field)', () => {
  for (const s of SCHEMAS) {
    const published = readFileSync(join(ROOT, 'schemas', s.file), 'utf8');
    assert.equal(published, renderSchema(s), `schemas/${s.file} is stale`);
  }
  assert.deepEqual(readdirSync(join(ROOT, 'schemas')).sort(), SCHEMAS.map((s) => s.file).sort());
});

test('the job shape has exactly the fields validateJob takes', () => {
  assert.deepEqual(fieldsOf(JOB_SHAPE).sort(), [...JOB_FIELDS, 'condition', 'uid'].sort());
});

test('every example validates against its schema and is accepted by the CLI', () => {
  const which: Record<string, string> = {
    'jobs.yaml': 'job',
    'alerting.yaml': 'alerting',
    'agent.yaml': 'config',
  };
  const files = readdirSync(join(ROOT, 'examples')).filter((f) => /\.ya?ml$/.test(f));
  assert.deepEqual(files.sort(), Object.keys(which).sort(), 'a new example needs a schema here');
  for (const f of files) {
    const text = readFileSync(join(ROOT, 'examples', f), 'utf8');
    assert.match(
      text,
      new RegExp(
        `^# yaml-language-server: \\$schema=\\.\\./schemas/${SCHEMAS.find((s) => s.name === which[f])!.file}`,
      ),
    );
    for (const doc of parseAllDocuments(text)) {
      const value = doc.toJS();
      assert.deepEqual(
        schemaFields(which[f], value),
        [],
        `${f}: ${JSON.stringify(validators[which[f]].errors)}`,
      );
      if (which[f] === 'job') assert.ok(validateJob(value).ok, f);
      if (which[f] === 'config') assert.ok(validateConfig(value).ok, f);
    }
    if (which[f] === 'alerting') assert.ok(parseAlertingYaml(text).ok);
  }
});

const base = { name: 'x', kind: 'cron', schedule: '@daily', command: 'true' };
const badJobs: [string, Record<string, unknown>][] = [
  ['retries.count', { ...base, retries: { count: -1 } }],
  ['retries.backof', { ...base, retries: { count: 1, backof: '1s' } }],
  ['kind', { ...base, kind: 'hourly' }],
  ['comand', { ...base, comand: 'x' }],
  ['timeout', { ...base, timeout: 'soon' }],
  ['env.PORT', { ...base, env: { PORT: 80 } }],
  ['paused', { ...base, paused: 'yes' }],
  ['overlap', { ...base, overlap: 'sometimes' }],
  ['name', { ...base, name: 'Bad_Name' }],
  ['labels.team', { ...base, labels: { team: 3 } }],
  ['concurrency', { ...base, concurrency: 0 }],
];

test('known-bad job specs: the schema and the CLI name the same field', () => {
  for (const [field, spec] of badJobs) {
    const cli = validateJob(spec);
    assert.ok(!cli.ok, field);
    assert.ok(
      cli.errors.some((e) => e.field === field),
      `CLI on ${field}: ${JSON.stringify(cli.errors)}`,
    );
    assert.ok(
      schemaFields('job', spec).includes(field),
      `schema on ${field}: ${JSON.stringify(schemaFields('job', spec))}`,
    );
  }
});

test('known-bad alerting and agent configs: the schema and the CLI name the same field', () => {
  const alerting: [string, unknown][] = [
    ['delivery.attempts', { delivery: { attempts: 0 } }],
    ['delivery.retries', { delivery: { retries: 3 } }],
    ['cluster.nodeDown', { cluster: { nodeDown: 'later' } }],
  ];
  for (const [field, value] of alerting) {
    const cli = parseAlertingYaml(JSON.stringify(value));
    assert.ok(!cli.ok && cli.errors.some((e) => e.field === field), `CLI on ${field}`);
    assert.ok(schemaFields('alerting', value).includes(field), `schema on ${field}`);
  }
  const configs: [string, unknown][] = [
    ['etcd', { etcd: 2379 }],
    ['etcd[1]', { etcd: ['http://a:2379', 7] }],
    ['leaseTtl', { leaseTtl: '5' }],
    ['pasword', { pasword: 'x' }],
    ['labels.zone', { labels: { zone: 1 } }],
    ['metricsPort', { metricsPort: 70000 }],
  ];
  for (const [field, value] of configs) {
    const cli = validateConfig(value);
    assert.ok(
      !cli.ok && cli.problems.some((e) => e.field === field),
      `CLI on ${field}: ${JSON.stringify(cli)}`,
    );
    const schemaField = field.replace(/\[(\d+)\]/, '.$1');
    assert.ok(
      schemaFields('config', value).includes(schemaField),
      `schema on ${field}: ${schemaFields('config', value)}`,
    );
  }
});

test('the version printed by --version is the package version', () => {
  assert.equal(VERSION, JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
  void parse;
});
