// Job detail's trust facts and History tab against an in-memory cluster: the signing key,
// the nodes whose policy refuses the job, and who changed it, when and what.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { inPage, openConsole, show, type ConsolePage } from './page';

let cp: ConsolePage;

before(async () => {
  cp = await openConsole();
  await inPage(cp.page, (pc) => {
    pc.cluster.applyYaml('name: nightly\nschedule: "0 2 * * *"\ncommand: /usr/local/bin/backup --all\n');
    pc.cluster.details.set('nightly', {
      signedBy: '3f2a9c0d11e4b7a8',
      refusedBy: [{ node: 'web-1', reason: "user root is not in this node's allowUsers (www)" }],
    });
    pc.cluster.history.set('nightly', [
      {
        at: Date.UTC(2025, 0, 2, 10, 0),
        action: 'updated',
        etcdUser: 'alice',
        osUser: 'alice',
        host: 'laptop-7',
        keyId: '3f2a9c0d11e4b7a8',
        changes: [
          { field: 'command', before: '"/usr/local/bin/backup"', after: '"/usr/local/bin/backup --all"' },
        ],
      },
      {
        at: Date.UTC(2025, 0, 1, 9, 0),
        action: 'created',
        etcdUser: null,
        osUser: 'bob',
        host: 'ops-2',
        keyId: null,
        changes: [{ field: 'name', after: '"nightly"' }],
      },
    ]);
  });
  await show(cp.page, '#/jobs/nightly');
});

after(() => cp?.close());

test('job detail shows the signing key and the nodes that refuse the job', async () => {
  const sig = cp.page.getByTestId('job-signature');
  await sig.waitFor();
  assert.match(await sig.innerText(), /signed by key 3f2a9c0d11e4b7a8/);
  assert.match(
    await cp.page.getByTestId('job-refused-by').innerText(),
    /web-1: user root is not in this node's allowUsers/,
  );
});

test('the History tab lists who changed the job, when and what, newest first', async () => {
  await cp.page.getByTestId('tab-history').click();
  const rows = cp.page.locator('[data-testid="job-history"] tbody tr');
  await rows.first().waitFor();
  const text = await rows.allInnerTexts();
  assert.equal(text.length, 2);
  assert.match(text[0], /updated/);
  assert.match(text[0], /alice@laptop-7 \(etcd user alice\)/);
  assert.match(text[0], /3f2a9c0d11e4b7a8/);
  assert.match(text[0], /command: "\/usr\/local\/bin\/backup" → "\/usr\/local\/bin\/backup --all"/);
  assert.match(text[1], /created/);
  assert.match(text[1], /bob@ops-2/);
  assert.match(text[1], /unsigned/);
  // The runs are one click away again.
  await cp.page.getByTestId('tab-runs').click();
  await cp.page.getByTestId('runs-table').waitFor();
});
