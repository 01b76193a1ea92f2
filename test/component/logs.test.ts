// The log panel against an in-memory cluster: frames of a run's output written into xterm as
// they arrive, colours kept, a replay (a resubscription's `start`) shown once, and the end.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { inPage, openConsole, show, type ConsolePage } from './page';

let cp: ConsolePage;
const RUN = 'ticker.1700000000000.1';

before(async () => {
  cp = await openConsole();
  await inPage(
    cp.page,
    (pc, id) =>
      pc.cluster.runs.set(id, {
        id,
        job: 'ticker',
        node: 'alpha',
        epoch: 1,
        attempt: 1,
        cause: 'manual',
        scheduledAt: 1700000000000,
        claimedAt: 1700000000000,
        status: 'running',
      } as never),
    RUN,
  );
  await show(cp.page, `#/logs/${RUN}`);
  await cp.page.waitForFunction(
    `globalThis.pc.cluster.emitLog(${JSON.stringify(RUN)}, { kind: 'data', b64: '' }) > 0`,
  );
});

after(() => cp?.close());

/** Sends output as the services do: base64 frames of UTF-8 bytes. */
const send = (text: string) =>
  inPage(cp.page, (pc, [id, t]) => pc.cluster.emitLog(id, { kind: 'data', b64: pc.b64(t) }), [RUN, text]);

/** Every line in the terminal's buffer (scrollback included), trailing blank lines dropped. */
async function lines(): Promise<string[]> {
  return inPage(cp.page, (pc) => {
    const buf = pc.term!.buffer.active;
    const out: string[] = [];
    for (let y = 0; y < buf.length; y++) out.push(buf.getLine(y)!.translateToString(true));
    while (out.length && out[out.length - 1] === '') out.pop();
    return out;
  });
}

const rows = () => cp.page.locator('[data-testid="terminal"] .xterm-rows');

test('frames are written into the terminal as they arrive, colours kept', async () => {
  const first = '\x1b[32mtick-1\x1b[0m\n';
  await send(first);
  await rows().filter({ hasText: 'tick-1' }).waitFor();
  assert.deepEqual(await lines(), ['tick-1']);
  // Frames split anywhere (here inside a line and inside a UTF-8 character) join up.
  const text = 'tick-2 é\ntick-3\n';
  const bytes = Buffer.from(text);
  const cut = bytes.indexOf(0xa9);
  await inPage(
    cp.page,
    (pc, [id, parts]) => {
      for (const p of parts) pc.cluster.emitLog(id, { kind: 'data', b64: p });
    },
    [RUN, [bytes.subarray(0, cut).toString('base64'), bytes.subarray(cut).toString('base64')]] as [
      string,
      string[],
    ],
  );
  await rows().filter({ hasText: 'tick-3' }).waitFor();
  assert.deepEqual(await lines(), ['tick-1', 'tick-2 é', 'tick-3']);
  assert.ok(
    (await cp.page.locator('[data-testid="terminal"] .xterm-rows span[class*="xterm-fg-2"]').count()) > 0,
  );
  const total = Buffer.byteLength(first) + bytes.length;
  await cp.page
    .getByTestId('logs-state')
    .filter({ hasText: `following live… · ${total} bytes` })
    .waitFor();
});

test('many frames: every line arrives, in order, none twice', async () => {
  const n = 2000;
  await inPage(
    cp.page,
    (pc, [id, count]) => {
      for (let i = 0; i < count; i += 100) {
        let chunk = '';
        for (let j = i; j < i + 100; j++) chunk += `line ${j}\n`;
        pc.cluster.emitLog(id, { kind: 'data', b64: pc.b64(chunk) });
      }
    },
    [RUN, n] as [string, number],
  );
  await cp.page.waitForFunction(`globalThis.pc.term.buffer.active.length > ${n}`);
  await rows()
    .filter({ hasText: `line ${n - 1}` })
    .waitFor();
  const all = (await lines()).slice(3);
  assert.equal(all.length, n);
  all.forEach((l, i) => assert.equal(l, `line ${i}`));
});

test('a replay from the start (after a reconnect) shows each line once; the end is shown', async () => {
  await inPage(
    cp.page,
    (pc, id) => {
      pc.cluster.emitLog(id, { kind: 'start', runId: id });
      pc.cluster.emitLog(id, { kind: 'data', b64: pc.b64('tick-1\ntick-2\n') });
      pc.cluster.emitLog(id, { kind: 'end', status: 'succeeded' });
    },
    RUN,
  );
  await cp.page
    .getByTestId('logs-state')
    .filter({ hasText: /complete/ })
    .waitFor();
  await rows().filter({ hasText: 'tick-2' }).waitFor();
  assert.deepEqual(await lines(), ['tick-1', 'tick-2']);
});
