// The jobs table against an in-memory cluster: search, the four filters, the row actions,
// deleting only after confirmation, and virtualization (only the rows in view are in the DOM).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { inPage, openConsole, show, type ConsolePage } from './page';

let cp: ConsolePage;

const JOBS = `
name: alpha-backup
schedule: "0 2 * * *"
command: /usr/local/bin/backup --all
---
name: beta-loop
kind: loop
command: ./consume-queue
paused: true
---
name: gamma-once
kind: once
command: echo hello
---
name: delta-report
schedule: "@hourly"
command: ./report.sh
paused: true
---
name: epsilon-sync
schedule: "*/5 * * * *"
command: rsync -a /srv /backup
`;

before(async () => {
  cp = await openConsole();
  await inPage(
    cp.page,
    (pc, yaml) => {
      pc.cluster.applyYaml(yaml);
      const alive = {
        epoch: 1,
        hostname: 'h',
        labels: {},
        capacity: 0,
        running: 0,
        jobs: 2,
        startedAt: 0,
        cordon: null,
      };
      pc.cluster.setNodes([
        { id: 'node-a', alive: true, leader: true, draining: false, ...alive },
        { id: 'node-b', alive: true, leader: false, draining: false, ...alive },
      ]);
      pc.cluster.patchRow('alpha-backup', { owner: 'node-a', lastStatus: 'succeeded' });
      pc.cluster.patchRow('beta-loop', { owner: 'node-b', lastStatus: 'failed' });
      pc.cluster.patchRow('delta-report', { owner: 'node-a', lastStatus: 'timeout' });
      pc.cluster.patchRow('epsilon-sync', { owner: 'node-b', lastStatus: 'succeeded' });
    },
    JOBS,
  );
  await show(cp.page, '#/jobs');
});

after(() => cp?.close());

/** The names of the rows in the table, in order. */
async function shown(): Promise<string[]> {
  return cp.page
    .locator('[data-testid="jobs-table"] .vrow')
    .evaluateAll((rows) => rows.map((r) => String(r.getAttribute('data-testid')).replace(/^job-/, '')));
}

/** No search, no filter: each test starts from the whole table. */
async function reset(): Promise<void> {
  await cp.page.getByTestId('jobs-search').fill('');
  for (const id of ['kind', 'paused', 'outcome', 'owner'])
    await cp.page.getByTestId(`jobs-filter-${id}`).selectOption('');
}

async function expectRows(names: string[]): Promise<void> {
  const count = cp.page.getByTestId('jobs-count');
  await count.filter({ hasText: new RegExp(`^${names.length} of 5 jobs$`) }).waitFor();
  assert.deepEqual(await shown(), names);
}

test('search matches name, command and owner', async () => {
  await expectRows(['alpha-backup', 'beta-loop', 'delta-report', 'epsilon-sync', 'gamma-once']);
  const search = cp.page.getByTestId('jobs-search');
  await search.fill('backup');
  // alpha by its name, epsilon by its command (rsync … /backup).
  await expectRows(['alpha-backup', 'epsilon-sync']);
  await search.fill('REPORT.SH');
  await expectRows(['delta-report']);
  await search.fill('node-b');
  await expectRows(['beta-loop', 'epsilon-sync']);
  await search.fill('');
  await expectRows(['alpha-backup', 'beta-loop', 'delta-report', 'epsilon-sync', 'gamma-once']);
});

test('filters by kind, paused, last outcome and owner, combined', async () => {
  await reset();
  const pick = (id: string, value: string) => cp.page.getByTestId(`jobs-filter-${id}`).selectOption(value);
  await pick('kind', 'loop');
  await expectRows(['beta-loop']);
  await pick('kind', 'cron');
  await expectRows(['alpha-backup', 'delta-report', 'epsilon-sync']);
  await pick('kind', '');
  await pick('paused', 'paused');
  await expectRows(['beta-loop', 'delta-report']);
  await pick('paused', 'active');
  await expectRows(['alpha-backup', 'epsilon-sync', 'gamma-once']);
  await pick('paused', '');
  await pick('outcome', 'problem');
  await expectRows(['beta-loop', 'delta-report']);
  await pick('outcome', 'none');
  await expectRows(['gamma-once']);
  await pick('outcome', 'succeeded');
  await expectRows(['alpha-backup', 'epsilon-sync']);
  await pick('outcome', '');
  await pick('owner', 'none');
  await expectRows(['gamma-once']);
  await pick('owner', 'node-a');
  await expectRows(['alpha-backup', 'delta-report']);
  await pick('paused', 'paused');
  await expectRows(['delta-report']);
  await pick('owner', '');
  await pick('paused', '');
  await expectRows(['alpha-backup', 'beta-loop', 'delta-report', 'epsilon-sync', 'gamma-once']);
});

test('pause, resume and run go through the contract', async () => {
  await reset();
  const row = cp.page.getByTestId('job-gamma-once');
  await row.getByRole('button', { name: 'Pause' }).click();
  await row.getByRole('button', { name: 'Resume' }).waitFor();
  await row.getByRole('button', { name: 'Resume' }).click();
  await row.getByRole('button', { name: 'Pause' }).waitFor();
  await row.getByRole('button', { name: 'Run' }).click();
  await cp.page
    .getByTestId('jobs-message')
    .filter({ hasText: /run gamma-once: gamma-once\.\d+\.1/ })
    .waitFor();
  const calls = await inPage(cp.page, (pc) =>
    ['jobs.pause', 'jobs.resume', 'jobs.trigger'].map((n) => pc.cluster.calls(n)),
  );
  assert.deepEqual(calls, [[['gamma-once']], [['gamma-once']], [['gamma-once']]]);
});

test('delete asks first: cancel keeps the job, confirm deletes it', async () => {
  await reset();
  const row = cp.page.getByTestId('job-epsilon-sync');
  await row.getByRole('button', { name: 'Delete' }).click();
  const dialog = cp.page.getByTestId('confirm');
  await dialog.waitFor();
  assert.match(await dialog.innerText(), /Delete job "epsilon-sync"/);
  assert.deepEqual(await inPage(cp.page, (pc) => pc.cluster.calls('jobs.remove')), []);
  await cp.page.getByTestId('confirm-no').click();
  await dialog.waitFor({ state: 'detached' });
  // Escape cancels too.
  await row.getByRole('button', { name: 'Delete' }).click();
  await dialog.waitFor();
  await cp.page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
  assert.deepEqual(await inPage(cp.page, (pc) => pc.cluster.calls('jobs.remove')), []);
  assert.equal(await row.count(), 1);

  await row.getByRole('button', { name: 'Delete' }).click();
  await cp.page.getByTestId('confirm-yes').click();
  await row.waitFor({ state: 'detached' });
  assert.deepEqual(await inPage(cp.page, (pc) => pc.cluster.calls('jobs.remove')), [['epsilon-sync']]);
  assert.equal(await inPage(cp.page, (pc) => pc.cluster.stored.has('epsilon-sync')), false);
});

test('only the rows in view are in the DOM, wherever the table is scrolled', async () => {
  await reset();
  await inPage(
    cp.page,
    (pc, n) =>
      pc.cluster.setRows(
        Array.from({ length: n }, (_, i) => ({
          name: `job-${String(i).padStart(5, '0')}`,
          kind: 'cron',
          schedule: '* * * * *',
          timezone: 'UTC',
          paused: false,
          owner: 'node-a',
          next: null,
          lastStatus: null,
          lastAt: null,
          lastRunId: null,
          command: 'true',
        })),
      ),
    5000,
  );
  await cp.page
    .getByTestId('jobs-count')
    .filter({ hasText: /^5000 of 5000 jobs$/ })
    .waitFor();
  const inDom = () => cp.page.locator('[data-testid="jobs-table"] .vrow').count();
  assert.ok((await inDom()) < 100, 'a window of rows, not 5000');
  await cp.page.getByTestId('jobs-table').evaluate((el) => (el.scrollTop = el.scrollHeight));
  await cp.page.getByTestId('job-job-04999').waitFor();
  assert.ok((await inDom()) < 100);
  assert.equal(await cp.page.getByTestId('job-job-00000').count(), 0);
});
