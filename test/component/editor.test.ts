// The job editor against an in-memory cluster whose checks are the real job model: a control
// for every field, the validator's errors next to their field, the next-10-times preview, and
// the round trip with `peppercorn job apply` (applied YAML, opened and saved unchanged, is
// stored byte for byte the same).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { inPage, openConsole, show, type ConsolePage } from './page';

let cp: ConsolePage;

before(async () => {
  cp = await openConsole();
});

after(() => cp?.close());

const field = (id: string) => cp.page.getByTestId(`field-${id}`);
const fill = (id: string, value: string) => field(id).fill(value);
const pick = (id: string, value: string) => field(id).selectOption(value);
const valid = () =>
  cp.page
    .getByTestId('validity')
    .filter({ hasText: /^valid$/ })
    .waitFor();

/** The messages shown in the field's own box, under its input. */
async function errorAt(id: string): Promise<string> {
  const messages = field(id).locator('xpath=..').getByTestId(`error-${id}`);
  await messages.first().waitFor();
  return (await messages.allInnerTexts()).join('\n');
}

const stored = (name: string) => inPage(cp.page, (pc, n) => pc.cluster.stored.get(n) ?? null, name);
const applies = () => inPage(cp.page, (pc) => pc.cluster.calls('jobs.apply').length);

async function save(name: string): Promise<void> {
  await cp.page.getByTestId('save-job').click();
  await cp.page.waitForFunction(`location.hash === '#/jobs/${name}'`);
}

test('every field of the job model has a control, and a form-made job is stored as filled in', async () => {
  await show(cp.page, '#/new');
  await fill('name', 'all-fields');
  await fill('description', 'every field');
  await field('paused').check();
  await fill('schedule', '30 4 * * *');
  await fill('jitter', '1m');
  await fill('timezone', 'Asia/Tokyo');
  await fill('command', 'echo hi');
  await fill('env', 'A=1\nB=two words');
  await fill('workdir', '/tmp');
  await fill('user', 'nobody');
  await fill('timeout', '5m');
  await fill('selector', 'zone=eu');
  await pick('policy', 'at-least-once');
  await fill('retries.count', '2');
  await fill('retries.backoff', '1m');
  await pick('overlap', 'allow');
  await pick('misfire.policy', 'all');
  await fill('misfire.maxCatchUp', '4');
  await fill('misfire.deadline', '2h');
  await fill('concurrency', '3');
  await fill('mutex', 'db');
  await fill('resources', 'gpu=1');
  await pick('alerts', 'custom');
  await field('alerts.on-failure').check();
  await field('alerts.on-missed').check();
  await fill('alerts.consecutiveFailures', '5');
  await fill('alerts.deadman', '1d');
  await fill('alerts.channels', 'ops, pager');
  await pick('alerts.resolved', 'false');
  await valid();
  await save('all-fields');
  assert.deepEqual(JSON.parse((await stored('all-fields'))!), {
    name: 'all-fields',
    kind: 'cron',
    schedule: '30 4 * * *',
    timezone: 'Asia/Tokyo',
    command: 'echo hi',
    env: { A: '1', B: 'two words' },
    workdir: '/tmp',
    user: 'nobody',
    timeout: '5m',
    selector: { zone: 'eu' },
    policy: 'at-least-once',
    retries: { count: 2, backoff: '1m' },
    overlap: 'allow',
    misfire: { policy: 'all', maxCatchUp: 4, deadline: '2h' },
    jitter: '1m',
    concurrency: 3,
    mutex: 'db',
    resources: { gpu: 1 },
    alerts: {
      on: ['failure', 'missed'],
      consecutiveFailures: 5,
      deadman: '1d',
      channels: ['ops', 'pager'],
      resolved: false,
    },
    paused: true,
    description: 'every field',
  });
});

test('the kinds: switching sets the other kinds’ fields aside and brings them back', async () => {
  await show(cp.page, '#/new');
  await fill('name', 'kinds');
  await fill('command', 'true');
  await fill('schedule', '* * * * *');
  await pick('kind', 'loop');
  assert.equal(await field('schedule').count(), 0, 'no schedule on a loop');
  await fill('times', '3');
  await fill('delay', '5s');
  await pick('kind', 'once');
  await cp.page.getByTestId('add-parent').click();
  await fill('after-0-job', 'extract');
  await pick('after-0-condition', 'failure');
  await cp.page.getByTestId('add-parent').click();
  await fill('after-1-job', 'check');
  await valid();
  await pick('kind', 'cron');
  assert.equal(await field('schedule').inputValue(), '* * * * *');
  assert.equal(await field('after-0-job').count(), 0, 'no parents on a cron job');
  await pick('kind', 'loop');
  assert.equal(await field('times').inputValue(), '3');
  assert.equal(await field('delay').inputValue(), '5s');
  await pick('kind', 'once');
  assert.equal(await field('after-0-job').inputValue(), 'extract');
  await valid();
  await save('kinds');
  assert.deepEqual(JSON.parse((await stored('kinds'))!), {
    name: 'kinds',
    kind: 'once',
    timezone: 'UTC',
    after: [
      { job: 'extract', condition: 'failure' },
      { job: 'check', condition: 'success' },
    ],
    command: 'true',
    env: {},
    selector: {},
    policy: 'at-most-once',
    paused: false,
  });
  // An existing job changes kind: its parents go, the loop's fields come in.
  await show(cp.page, '#/edit/kinds');
  await valid();
  await pick('kind', 'loop');
  await fill('times', '3');
  await valid();
  await save('kinds');
  const loop = JSON.parse((await stored('kinds'))!);
  assert.equal(loop.kind, 'loop');
  assert.equal(loop.times, 3);
  assert.equal(loop.delay, '0s');
  assert.equal(loop.after, undefined);
});

test("the validator's errors show next to their field, and keep the job from being saved", async () => {
  const saved = await applies();
  await show(cp.page, '#/new');
  await fill('name', 'errs');
  await fill('command', 'true');
  await fill('schedule', '61 * * * *');
  assert.match(await errorAt('schedule'), /61/);
  await fill('schedule', '* * * * *');
  await fill('retries.count', 'x');
  assert.match(await errorAt('retries.count'), /whole number/);
  await fill('jitter', '10');
  assert.match(await errorAt('jitter'), /no unit/);
  await fill('env', '1BAD=x');
  assert.match(await errorAt('env'), /1BAD.*not a valid variable name/);
  await pick('alerts', 'custom');
  await fill('alerts.deadman', '5s');
  assert.match(await errorAt('alerts.deadman'), /at least 10s/);
  assert.equal(await cp.page.getByTestId('save-job').isDisabled(), true);
  // A line that is not KEY=value yet is caught in the page, before any check.
  await fill('env', 'oops');
  assert.match(await errorAt('env'), /"oops" is not KEY=value/);

  await fill('retries.count', '');
  await fill('jitter', '');
  await fill('env', 'GOOD=x');
  await pick('alerts', '');
  await valid();
  assert.equal(await cp.page.getByTestId('error-retries.count').count(), 0);
  assert.equal(await cp.page.getByTestId('save-job').isDisabled(), false);
  assert.equal(await applies(), saved, 'nothing saved by this test');
});

test('the preview lists the next 10 firing times in the job’s time zone', async () => {
  await show(cp.page, '#/new');
  await fill('name', 'weekdays');
  await fill('command', 'true');
  await fill('schedule', '0 9 * * 1-5');
  await fill('timezone', 'Europe/Paris');
  const items = cp.page.locator('[data-testid="next-times"] li');
  await items.filter({ hasText: 'Europe/Paris' }).nth(9).waitFor();
  const texts = await items.allInnerTexts();
  assert.equal(texts.length, 10);
  for (const t of texts) assert.match(t, /\d{4}-\d\d-\d\d 09:00:00 Europe\/Paris$/);
  await fill('timezone', 'America/New_York');
  await items.filter({ hasText: 'America/New_York' }).nth(9).waitFor();
  for (const t of await items.allInnerTexts()) assert.match(t, / 09:00:00 America\/New_York$/);
});

const SPECS = `
name: nightly-report
schedule: "H 2 * * 1-5"
timezone: Europe/Paris
jitter: 30s
command: |
  ./report.sh --all
  echo done
env:
  REPORT_BUCKET: s3://reports
  MULTI: "line one\\nline two"
  QUOTED: '"quoted"'
  PADDED: "  padded  "
  EMPTY: ""
workdir: /srv/reports
user: reports
timeout: 10m
selector: { zone: eu, disk: ssd }
policy: at-least-once
retries: 3
overlap: queue
misfire: { policy: all, maxCatchUp: 5, deadline: 1h }
concurrency: 2
mutex: nightly-db
resources: { db-primary: 2 }
alerts: { on: [failure, lost], consecutiveFailures: 3, deadman: 2h, channels: [ops], resolved: false }
paused: true
description: "The nightly report  "
---
name: load
kind: once
after: [extract, { job: check, condition: failure }]
condition: always
command: ./load.sh
---
name: consumer
kind: loop
times: 5
delay: 1m30s
command: ./consume
alerts: off
`;

test('round trip with job apply: applied YAML, opened and saved unchanged, is stored the same', async () => {
  await inPage(cp.page, (pc, yaml) => pc.cluster.applyYaml(yaml), SPECS);
  for (const name of ['nightly-report', 'load', 'consumer']) {
    const before = await stored(name);
    const count = await applies();
    await show(cp.page, `#/edit/${name}`);
    await valid();
    await save(name);
    assert.equal(await applies(), count + 1);
    assert.equal(await stored(name), before, `${name} stored unchanged`);
  }
});

test('the YAML view is what `job get` prints; edited YAML loads into the form and saves', async () => {
  const original = JSON.parse((await stored('nightly-report'))!);
  await show(cp.page, '#/edit/nightly-report');
  await valid();
  await cp.page.getByTestId('tab-yaml').click();
  const yaml = await cp.page.getByTestId('yaml-text').inputValue();
  const get = await inPage(cp.page, (pc) => pc.cluster.call('jobs.get', 'nightly-report'));
  assert.equal(yaml, get.yaml);
  await cp.page.getByTestId('yaml-text').fill(yaml.replace('timeout: 10m', 'timeout: 15m'));
  await cp.page.getByTestId('yaml-load').click();
  assert.equal(await field('timeout').inputValue(), '15m');
  // Values that do not fit one KEY=value line are shown as JSON strings, and kept.
  const env = await field('env').inputValue();
  assert.match(env, /^MULTI="line one\\nline two"$/m);
  assert.match(env, /^QUOTED="\\"quoted\\""$/m);
  await fill('env', `${env}\nADDED=1`);
  await valid();
  await save('nightly-report');
  assert.deepEqual(JSON.parse((await stored('nightly-report'))!), {
    ...original,
    timeout: '15m',
    env: { ...original.env, ADDED: '1' },
  });
});

test('a field the form does not know is shown with the reason and can be removed', async () => {
  await show(cp.page, '#/new');
  await cp.page.getByTestId('tab-yaml').click();
  await cp.page
    .getByTestId('yaml-text')
    .fill('name: typo\nschedule: "@daily"\ncmd: echo hi\ncommand: "true"\n');
  await cp.page.getByTestId('yaml-load').click();
  const other = cp.page.getByTestId('error-other');
  await other.waitFor();
  assert.match(await other.innerText(), /unknown field "cmd"; did you mean "command"/);
  await other.getByRole('button', { name: 'remove cmd' }).click();
  await valid();
});
