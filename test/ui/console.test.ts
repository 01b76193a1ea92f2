// The web console as a person uses it: headless Debian Chromium (playwright-core)
// against real etcd, real agents and the real console server. Waits are bounded
// polls; nothing asserts how long anything took. Screenshots go to docs/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { TestCluster, waitFor, ROOT } from '../harness/cluster';
import { freePort } from '../harness/etcd';
import { servicesFor, type ConsoleServices } from '../../agent/console/server/services';
import { startWebConsole, type WebConsole } from '../../agent/console/server/web-server';
import { keys } from '../../agent/core/keys';
import type { AlertRecord } from '../../agent/core/records';

export const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const tc = new TestCluster();
let services: ConsoleServices;
let web: WebConsole;
let browser: Browser;
let page: Page;

const shot = (name: string) => page.screenshot({ path: join(ROOT, 'docs', `console-${name}.png`) });

before(async () => {
  await tc.start();
  tc.startAgent('alpha', ['--labels', 'zone=eu,disk=ssd']);
  tc.startAgent('beta', ['--labels', 'zone=us']);
  await tc.ready(['alpha', 'beta']);
  services = servicesFor({ endpoints: [tc.etcd.endpoint], prefix: tc.prefix }, 'test cluster');
  services.start();
  web = await startWebConsole(services);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  page = await browser.newPage({ viewport: { width: 1400, height: 860 } });
  await page.goto(web.url);
});

after(async () => {
  await browser?.close();
  await web?.close();
  services?.close();
  await tc.stop();
});

async function goto(hash: string): Promise<void> {
  // Through the overview first, so a screen is always mounted afresh (a new, empty editor).
  await page.evaluate(`location.hash = '#/overview'; location.hash = ${JSON.stringify(hash)}`);
}

test('the token is removed from the address bar and the cluster shows as connected', async () => {
  await page.getByTestId('connection-status').and(page.locator('[data-state="connected"]')).waitFor();
  assert.doesNotMatch(page.url(), /token=/);
});

test('the nodes appear, with the leader; a killed agent is shown dead', async () => {
  await goto('#/overview');
  await page.locator('[data-testid="node-alpha"][data-alive="true"]').waitFor();
  await page.locator('[data-testid="node-beta"][data-alive="true"]').waitFor();
  assert.match(await page.getByTestId('nodes-table').innerText(), /zone=eu/);
  await page.locator('[data-testid="nodes-table"] .badge.leader').waitFor();
  await shot('overview');
  tc.agents.get('beta')!.kill9();
  // Its lease (3 s in tests) expires, etcd deletes the node key, the shared watch tells the page.
  await page.locator('[data-testid="node-beta"][data-alive="false"]').waitFor({ timeout: 30_000 });
  assert.match(await page.getByTestId('node-beta').innerText(), /dead/);
  assert.match(await page.getByTestId('node-alpha').innerText(), /alive/);
});

test('a bad cron expression is refused in the form with the reason', async () => {
  await goto('#/new');
  await page.getByTestId('field-name').fill('bad-cron');
  await page.getByTestId('field-command').fill('true');
  await page.getByTestId('field-schedule').fill('61 * * * *');
  const err = page.getByTestId('error-schedule');
  await err.waitFor();
  assert.match(await err.innerText(), /minute/);
  assert.match(await err.innerText(), /61/);
  assert.equal(await page.getByTestId('save-job').isDisabled(), true);
  await shot('editor-invalid');
  // Fixing it clears the message and enables saving; nothing was stored meanwhile.
  await page.getByTestId('field-schedule').fill('30 2 * * *');
  await page
    .getByTestId('validity')
    .filter({ hasText: /^valid$/ })
    .waitFor();
  assert.equal(await err.count(), 0);
  await assert.rejects(tc.store.getJob('bad-cron'), /no job named/);
});

test('a job created in the editor is stored and runs; the preview shows 10 times', async () => {
  await goto('#/new');
  await page.getByTestId('field-name').fill('ui-made');
  await page.getByTestId('field-schedule').fill('*/2 * * * * *');
  await page.getByTestId('field-command').fill('echo made-by-the-console');
  await page.getByTestId('field-env').fill('GREETING=hello');
  await page
    .getByTestId('validity')
    .filter({ hasText: /^valid$/ })
    .waitFor();
  await page.locator('[data-testid="next-times"] li').nth(9).waitFor();
  assert.equal(await page.locator('[data-testid="next-times"] li').count(), 10);
  await shot('editor');
  await page.getByTestId('tab-yaml').click();
  assert.match(
    await page.getByTestId('yaml-text').inputValue(),
    /schedule: "\*\/2 \* \* \* \* \*"|schedule: '\*\/2 \* \* \* \* \*'/,
  );
  await page.getByTestId('save-job').click();
  // (waitForURL, not a string waitForFunction: the page's CSP forbids eval.)
  await page.waitForURL((u) => u.hash === '#/jobs/ui-made');
  const stored = await tc.store.getJob('ui-made');
  assert.equal(stored.spec.schedule, '*/2 * * * * *');
  assert.deepEqual(stored.spec.env, { GREETING: 'hello' });
  const run = await waitFor('the new job to run', async () =>
    (await tc.store.listRuns('ui-made', 10)).find((r) => r.status === 'succeeded'),
  );
  assert.equal(run.node, 'alpha');
  // The detail page lists its runs live.
  await page.locator('[data-testid="runs-table"] .status-succeeded').first().waitFor();
  await shot('job-detail');
});

test('the jobs table lists, searches, pauses and deletes with confirmation', async () => {
  tc.apply(
    Array.from(
      { length: 30 },
      (_, i) => `name: bulk-${i}\nkind: cron\nschedule: "H H * * *"\ncommand: "true"\n`,
    ).join('---\n'),
  );
  await goto('#/jobs');
  await page
    .getByTestId('jobs-count')
    .filter({ hasText: /^31 of 31 jobs$/ })
    .waitFor();
  await page.getByTestId('jobs-search').fill('ui-');
  await page
    .getByTestId('jobs-count')
    .filter({ hasText: /^1 of 31 jobs$/ })
    .waitFor();
  await page.getByTestId('jobs-search').fill('');
  await shot('jobs');
  await page.getByTestId('jobs-search').fill('ui-made');
  const row = page.getByTestId('job-ui-made');
  await row.getByRole('button', { name: 'Pause' }).click();
  await row.getByRole('button', { name: 'Resume' }).waitFor();
  assert.equal((await tc.store.getJob('ui-made')).spec.paused, true);
  await row.getByRole('button', { name: 'Delete' }).click();
  await page.getByTestId('confirm').waitFor();
  await page.getByTestId('confirm-yes').click();
  await row.waitFor({ state: 'detached' });
  await assert.rejects(tc.store.getJob('ui-made'), /no job named/);
});

test("the xterm panel shows a running job's output as it is produced", async () => {
  tc.apply(
    `name: ticker\nkind: once\ncommand: 'for i in 1 2 3 4 5 6 7 8 9 10; do printf "\\033[32mtick-%s\\033[0m\\n" $i; sleep 0.5; done; echo done-ticking'\n`,
  );
  await waitFor('ticker to be assigned', async () => (await tc.owner('ticker')) !== null);
  const runId = await tc.store.trigger('ticker', 'ui-test');
  await goto(`#/logs/${runId}`);
  const rows = page.locator('[data-testid="terminal"] .xterm-rows');
  await rows.filter({ hasText: 'tick-1' }).waitFor();
  // Seen while the run is still going: output arrives as it is produced, not at the end.
  const early = await rows.innerText();
  const status = (await tc.store.getRun(runId))?.status;
  assert.equal(status, 'running', 'the first line shows before the run ends');
  assert.doesNotMatch(early, /done-ticking/);
  await rows.filter({ hasText: 'done-ticking' }).waitFor({ timeout: 30_000 });
  await page
    .getByTestId('logs-state')
    .filter({ hasText: /complete/ })
    .waitFor();
  const all = await rows.innerText();
  for (let i = 1; i <= 10; i++)
    assert.equal(all.split(`tick-${i}\n`).length - 1, 1, `tick-${i} exactly once`);
  // Colours are kept: xterm renders the green SGR as a styled span.
  assert.ok(
    (await page.locator('[data-testid="terminal"] .xterm-rows span[class*="xterm-fg-2"]').count()) > 0,
  );
  await shot('logs');
});

test("the log panel shows a 5 MB run whole, from its node's file, after etcd's copy is gone", async () => {
  const copy = tc.path('bigout.expected');
  tc.apply(`name: bigout\nkind: once\ncommand: 'seq 1 700000 | tee ${copy}; echo the-very-last-line'\n`);
  const node = await waitFor('bigout to be assigned', async () => (await tc.owner('bigout')) ?? undefined);
  const runId = await tc.store.trigger('bigout', 'ui-test');
  await waitFor(
    'bigout to succeed',
    async () => (await tc.store.getRun(runId))?.status === 'succeeded',
    60_000,
  );
  // Past etcd's window: the shipped chunks are gone (and were capped at 1 MiB anyway).
  await tc.cluster.ns.delete().prefix(keys.logs(runId)).exec();
  const size = statSync(copy).size + 'the-very-last-line\n'.length;
  await goto(`#/logs/${runId}`);
  const rows = page.locator('[data-testid="terminal"] .xterm-rows');
  await rows.filter({ hasText: 'the-very-last-line' }).waitFor({ timeout: 60_000 });
  await page
    .getByTestId('logs-state')
    .filter({ hasText: `complete · ${size} bytes` })
    .waitFor({ timeout: 60_000 });
  assert.equal(await page.getByTestId('logs-source').innerText(), `from the log file on ${node}`);
  assert.match(await rows.innerText(), /699999\s+700000\s+the-very-last-line/);
  assert.equal(await page.getByTestId('logs-note').count(), 0, 'no warning: the output is whole');
});

test('the node detail screen shows its labels, lease, jobs and a run in flight, live', async () => {
  tc.apply(`name: sleeper\nkind: once\ncommand: 'echo sleeping; sleep 6'\n`);
  await waitFor('sleeper to be assigned', async () => (await tc.owner('sleeper')) === 'alpha');
  await goto('#/overview');
  await page.getByTestId('node-link-alpha').click();
  await page.waitForURL((u) => u.hash === '#/nodes/alpha');
  const detail = page.getByTestId('node-detail');
  await detail.waitFor();
  assert.match(await detail.innerText(), /zone=eu/);
  assert.match(await detail.innerText(), /cordon\s+none/);
  await page
    .getByTestId('node-lease')
    .filter({ hasText: /\d+ s TTL, \d+ s left/ })
    .waitFor();
  await page.getByTestId('node-jobs').getByRole('link', { name: 'sleeper', exact: true }).waitFor();
  const runId = await tc.store.trigger('sleeper', 'ui-test');
  const inFlight = page.getByTestId('node-running').getByRole('link', { name: runId });
  await inFlight.waitFor({ timeout: 30_000 });
  assert.equal((await tc.store.getRun(runId))?.status, 'running', 'shown while it runs');
  await shot('node-detail');
  // When it ends it leaves the runs in flight and shows among the node's recent runs.
  await inFlight.waitFor({ state: 'detached', timeout: 30_000 });
  await page
    .getByTestId('node-runs')
    .locator('tr', { hasText: runId })
    .locator('.status-succeeded')
    .waitFor({ timeout: 30_000 });
});

test('job detail shows the owner and where the job has been', async () => {
  tc.startAgent('gamma', ['--labels', 'zone=us']);
  await tc.ready(['alpha', 'gamma']);
  tc.apply(`name: mover\nkind: cron\nschedule: "0 0 1 1 *"\ncommand: "true"\n`);
  const first = await waitFor('mover to be assigned', async () => (await tc.owner('mover')) ?? undefined);
  // Draining its node moves it (it is idle), and the leader records where it was.
  assert.equal(tc.cli(['node', 'drain', first]).status, 0);
  const second = await waitFor('mover to move', async () => {
    const o = await tc.owner('mover');
    return o !== first ? o : undefined;
  });
  await goto('#/jobs/mover');
  await page.getByTestId('job-owner').filter({ hasText: second! }).waitFor();
  const history = page.getByTestId('assignment-history');
  await history.locator('tbody tr').nth(1).waitFor();
  const rows = await history.locator('tbody tr').allInnerTexts();
  assert.match(rows[0], new RegExp(`^${second}\\b.*\\bnow\\b.*node ${first} is drained`, 's'));
  assert.match(rows[1], new RegExp(`^${first}\\b`));
  await shot('job-assignments');
  assert.equal(tc.cli(['node', 'uncordon', first]).status, 0);
});

test('the overview shows open alerts, then recently resolved ones', async () => {
  // An alert as the leader stores it (raised for a job that never runs, so nothing resolves it but us).
  const alert: AlertRecord = {
    id: 'failure.mover.1',
    rule: 'failure',
    job: 'mover',
    run: 'mover.1.1',
    summary: 'mover failed: exit status 3',
    openedAt: Date.now(),
    state: 'open',
    channels: [],
    notifyResolved: false,
    deliveries: {},
  };
  await tc.cluster.ns.put(keys.alert(alert.id)).value(JSON.stringify(alert));
  await goto('#/overview');
  const open = page.getByTestId('open-alerts').getByTestId(`alert-${alert.id}`);
  await open.waitFor({ timeout: 30_000 });
  assert.match(await open.innerText(), /failure\s+mover failed: exit status 3 · job mover/);
  await shot('overview-alerts');
  const resolved: AlertRecord = {
    ...alert,
    state: 'resolved',
    resolvedAt: Date.now(),
    resolution: 'fixed by hand',
  };
  await tc.cluster.ns.put(keys.alert(alert.id)).value(JSON.stringify(resolved));
  const done = page.getByTestId('resolved-alerts').getByTestId(`alert-${alert.id}`);
  await done.waitFor({ timeout: 30_000 });
  assert.match(await done.innerText(), /fixed by hand/);
  assert.equal(await open.count(), 0);
});

test('the connection screen reports an unreachable etcd with a readable error', async () => {
  const port = await freePort();
  await goto('#/connections');
  await page.getByTestId('conn-name').fill('nowhere');
  await page.getByTestId('conn-endpoints').fill(`http://127.0.0.1:${port}`);
  await page.getByTestId('conn-test').click();
  const result = page.getByTestId('conn-test-result');
  await result.waitFor({ timeout: 30_000 });
  assert.match(await result.innerText(), new RegExp(`cannot reach etcd at http://127\\.0\\.0\\.1:${port}`));
  assert.match(await result.innerText(), /check that etcd is running/);
  await shot('connections');
});

test('after the WebSocket drops, the log view resumes where it was: each line once, in order', async () => {
  tc.apply(
    `name: counter\nkind: once\ncommand: 'for i in $(seq 1 25); do echo "line-$i"; sleep 0.3; done; echo counted'\n`,
  );
  await waitFor('counter to be assigned', async () => (await tc.owner('counter')) !== null);
  const runId = await tc.store.trigger('counter', 'ui-test');
  await goto(`#/logs/${runId}`);
  const rows = page.locator('[data-testid="terminal"] .xterm-rows');
  await rows.filter({ hasText: 'line-3' }).waitFor();
  // What the page asks for when its socket comes back.
  const resumed: unknown[][] = [];
  page.on('websocket', (ws) =>
    ws.on('framesent', (f) => {
      const msg = JSON.parse(String(f.payload));
      if (msg.t === 'sub' && msg.name === 'logs.follow') resumed.push(msg.args);
    }),
  );
  // Drop the connection mid-run: the console server restarts on the same port, with the same token.
  const { port, token } = web;
  await web.close();
  assert.equal((await tc.store.getRun(runId))?.status, 'running', 'the socket dropped while the run went on');
  web = await startWebConsole(services, { port, token });
  await rows.filter({ hasText: 'counted' }).waitFor({ timeout: 30_000 });
  const numbers = [...(await rows.innerText()).matchAll(/line-(\d+)/g)].map((m) => Number(m[1]));
  assert.deepEqual(
    numbers,
    Array.from({ length: 25 }, (_, i) => i + 1),
    'every line exactly once, in order',
  );
  // Resumed, not replayed: the new socket asked for the chunks after the ones shown.
  assert.ok(resumed.length > 0, 'the page subscribed again');
  assert.ok((resumed[0][1] as number) > 0, `resumed from chunk ${String(resumed[0][1])}`);
});

test('etcd stops and comes back: unreachable with the reason, then live again, without a reload', async () => {
  await goto('#/overview');
  await page.locator('[data-testid="node-alpha"][data-alive="true"]').waitFor();
  await page.evaluate('window.__sameDocument = true');
  const status = page.getByTestId('connection-status');
  await tc.etcd.stop();
  await page
    .locator('[data-testid="connection-status"][data-state="unreachable"]')
    .waitFor({ timeout: 30_000 });
  const reason = new RegExp(`cannot reach etcd at ${tc.etcd.endpoint.replace(/\./g, '\\.')}`);
  assert.match(await page.getByTestId('etcd-error').innerText(), reason);
  assert.match((await status.getAttribute('title')) ?? '', reason);
  await shot('etcd-unreachable');
  await tc.etcd.start();
  await page
    .locator('[data-testid="connection-status"][data-state="connected"]')
    .waitFor({ timeout: 30_000 });
  await page.getByTestId('etcd-error').waitFor({ state: 'detached' });
  await page.locator('[data-testid="node-alpha"][data-alive="true"]').waitFor({ timeout: 30_000 });
  // Live again: a change made now reaches the page (and the overview shows a cordon).
  assert.equal(tc.cli(['node', 'cordon', 'alpha']).status, 0);
  await page.getByTestId('cordon-alpha').filter({ hasText: 'cordoned' }).waitFor({ timeout: 30_000 });
  assert.equal(tc.cli(['node', 'uncordon', 'alpha']).status, 0);
  await page.getByTestId('cordon-alpha').waitFor({ state: 'detached', timeout: 30_000 });
  assert.equal(await page.evaluate('window.__sameDocument'), true, 'the page was not reloaded');
});
