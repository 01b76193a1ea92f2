// The web console server: token, host and origin checks on the WebSocket; static files.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { startWebConsole, tokenMatches, type WebConsole } from '../../agent/console/server/web-server';
import { ConsoleServices } from '../../agent/console/server/services';
import { ConnectionStore } from '../../agent/console/server/connection-store';

const dir = mkdtempSync(join(tmpdir(), 'pc-web-'));
let web: WebConsole;
let services: ConsoleServices;

before(async () => {
  writeFileSync(join(dir, 'index.html'), '<html>console</html>');
  services = new ConsoleServices(new ConnectionStore());
  web = await startWebConsole(services, { rendererDir: dir });
});
after(async () => {
  await web.close();
  services.close();
  rmSync(dir, { recursive: true, force: true });
});

test('tokenMatches accepts only the exact token', () => {
  assert.equal(tokenMatches('s3cret-token', 's3cret-token'), true);
  assert.equal(tokenMatches('s3cret-token', 's3cret-tokeN'), false);
  assert.equal(tokenMatches('s3cret-token', 's3cret'), false);
  assert.equal(tokenMatches('s3cret-token', ''), false);
  assert.equal(tokenMatches('s3cret-token', null), false);
  assert.equal(tokenMatches('s3cret-token', undefined), false);
});

function open(
  query: string,
  headers: Record<string, string> = {},
): Promise<{ ok: true; ws: WebSocket } | { ok: false; status: number }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${web.port}/ws${query}`, { headers });
    ws.on('open', () => resolve({ ok: true, ws }));
    ws.on('unexpected-response', (_req, res) => resolve({ ok: false, status: res.statusCode ?? 0 }));
    ws.on('error', () => resolve({ ok: false, status: -1 }));
  });
}

test('the WebSocket refuses a missing or wrong token', async () => {
  assert.deepEqual(await open(''), { ok: false, status: 401 });
  assert.deepEqual(await open('?token=wrong'), { ok: false, status: 401 });
  assert.deepEqual(await open(`?token=${web.token}x`), { ok: false, status: 401 });
});

test('the WebSocket refuses a foreign origin or host even with the token', async () => {
  assert.deepEqual(await open(`?token=${web.token}`, { Origin: 'https://evil.example' }), {
    ok: false,
    status: 401,
  });
  assert.deepEqual(await open(`?token=${web.token}`, { Host: `evil.example:${web.port}` }), {
    ok: false,
    status: 401,
  });
});

test('with the token, calls are answered and bad calls are refused by the contract', async () => {
  const r = await open(`?token=${web.token}`, { Origin: `http://127.0.0.1:${web.port}` });
  assert.ok(r.ok);
  const ws = r.ws;
  const replies: Record<number, { ok: boolean; value?: unknown; error?: string }> = {};
  const got = new Promise<void>((resolve) =>
    ws.on('message', (raw) => {
      const m = JSON.parse(raw.toString());
      replies[m.id] = m;
      if (replies[1] && replies[2]) resolve();
    }),
  );
  ws.send(JSON.stringify({ t: 'call', id: 1, name: 'connection.list', args: [] }));
  ws.send(JSON.stringify({ t: 'call', id: 2, name: 'process.exit', args: [] }));
  await got;
  assert.equal(replies[1].ok, true);
  assert.deepEqual((replies[1].value as { profiles: unknown[] }).profiles, []);
  assert.equal(replies[2].ok, false);
  assert.match(replies[2].error!, /unknown call/);
  ws.close();
});

test('static files are served with a CSP; nothing outside the renderer directory', async () => {
  const res = await fetch(`http://127.0.0.1:${web.port}/`);
  assert.equal(res.status, 200);
  assert.match(await res.text(), /console/);
  assert.match(res.headers.get('content-security-policy') ?? '', /script-src 'self'/);
  const escape = await fetch(`http://127.0.0.1:${web.port}/..%2f..%2fetc%2fpasswd`);
  assert.equal(escape.status, 404);
});
