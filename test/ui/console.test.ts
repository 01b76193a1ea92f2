// The web console as a person uses it: headless Debian Chromium (playwright-core)
// against real etcd, real agents and the real console server. Waits are bounded
// polls; nothing asserts how long anything took. Screenshots go to docs/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { TestCluster, waitFor, ROOT } from '../harness/cluster';
import { freePort } from '../harness/etcd';
import { servicesFor, type ConsoleServices } from '../../electron/services/console-services';
import { startWebConsole, type WebConsole } from '../../electron/services/web-server';

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
  await page.waitForFunction(`location.hash === '#/jobs/ui-made'`);
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
