// The desktop window's security settings and the IPC guards, as main.ts uses them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  allowNavigation,
  DESKTOP_CSP,
  guardCall,
  guardStream,
  isTrustedSender,
  rendererUrl,
  windowOptions,
  type SenderInfo,
} from '../../electron/main/security';
import { checkCall } from '../../agent/console/contract';

const TRUSTED = rendererUrl('/opt/peppercorn/dist/renderer');
const WIN = 7;
const good: SenderInfo = { frameUrl: `${TRUSTED}#/jobs`, isMainFrame: true, webContentsId: WIN };

test('the window runs the renderer isolated, sandboxed, without Node', () => {
  const o = windowOptions('/x/preload.js');
  const w = o.webPreferences;
  assert.equal(w.contextIsolation, true);
  assert.equal(w.sandbox, true);
  assert.equal(w.nodeIntegration, false);
  assert.equal(w.nodeIntegrationInWorker, false);
  assert.equal(w.nodeIntegrationInSubFrames, false);
  assert.equal(w.webSecurity, true);
  assert.equal(w.allowRunningInsecureContent, false);
  assert.equal(w.webviewTag, false);
  assert.equal(w.preload, '/x/preload.js');
});

test('the CSP allows only our own scripts, and inline styles for xterm', () => {
  assert.match(DESKTOP_CSP, /script-src 'self'(;|$)/);
  assert.doesNotMatch(DESKTOP_CSP, /script-src[^;]*unsafe/);
  assert.match(DESKTOP_CSP, /style-src 'self' 'unsafe-inline'/);
  assert.match(DESKTOP_CSP, /object-src 'none'/);
  assert.match(DESKTOP_CSP, /connect-src 'none'/);
});

test('only our page, in our window, in its main frame, is a trusted sender', () => {
  assert.equal(isTrustedSender(good, TRUSTED, WIN), true);
  assert.equal(isTrustedSender({ ...good, webContentsId: 8 }, TRUSTED, WIN), false);
  assert.equal(isTrustedSender({ ...good, isMainFrame: false }, TRUSTED, WIN), false);
  assert.equal(isTrustedSender({ ...good, frameUrl: 'https://evil.example/' }, TRUSTED, WIN), false);
  assert.equal(isTrustedSender({ ...good, frameUrl: `${TRUSTED}.evil.html` }, TRUSTED, WIN), false);
  assert.equal(isTrustedSender({ ...good, frameUrl: undefined }, TRUSTED, WIN), false);
  assert.equal(isTrustedSender(good, TRUSTED, null), false, 'no window, no trust');
});

test('every call is checked: sender first, then the name and each argument', () => {
  assert.deepEqual(guardCall(good, TRUSTED, WIN, 'jobs.get', ['backup']), { ok: true });
  assert.deepEqual(guardCall({ ...good, webContentsId: 9 }, TRUSTED, WIN, 'jobs.get', ['backup']), {
    ok: false,
    error: 'untrusted sender',
  });
  const bad = (name: unknown, args: unknown) => {
    const r = guardCall(good, TRUSTED, WIN, name, args);
    assert.equal(r.ok, false, `${String(name)} ${JSON.stringify(args)} must be refused`);
    return r.ok ? '' : r.error;
  };
  assert.match(bad('fs.readFile', ['/etc/passwd']), /unknown call/);
  assert.match(bad('__proto__', []), /unknown call/);
  assert.match(bad('toString', []), /unknown call/);
  assert.match(bad('jobs.get', [42]), /argument 1 must be a string/);
  assert.match(bad('jobs.get', []), /expected 1 argument/);
  assert.match(bad('jobs.get', 'backup'), /must be a list/);
  assert.match(bad('jobs.apply', [['not', 'a map']]), /must be an object/);
  assert.match(bad('runs.list', ['x', Infinity]), /must be a number/);
  assert.match(bad('connection.save', [{ name: 'x', endpoints: 'http://a', prefix: '/p/' }]), /endpoints/);
  assert.match(
    bad('connection.save', [{ name: 'x', endpoints: [], prefix: '/p/', password: 1 }]),
    /password/,
  );
});

test('stream subscriptions are guarded the same way', () => {
  assert.deepEqual(guardStream(good, TRUSTED, WIN, 1, 'logs.follow', ['j.1.1', 0]), { ok: true });
  assert.equal(guardStream(good, TRUSTED, WIN, -1, 'logs.follow', ['j.1.1', 0]).ok, false);
  assert.equal(guardStream(good, TRUSTED, WIN, 1, 'logs.follow', [{}, 0]).ok, false);
  assert.equal(guardStream(good, TRUSTED, WIN, 1, 'logs.follow', ['j.1.1']).ok, false, 'no resume position');
  assert.equal(guardStream(good, TRUSTED, WIN, 1, 'logs.follow', ['j.1.1', '3']).ok, false);
  assert.equal(guardStream(good, TRUSTED, WIN, 1, 'shell.exec', []).ok, false);
  assert.equal(guardStream({ ...good, isMainFrame: false }, TRUSTED, WIN, 1, 'cluster.watch', []).ok, false);
});

test('navigation is denied except within our page', () => {
  assert.equal(allowNavigation(`${TRUSTED}#/overview`, TRUSTED), true);
  assert.equal(allowNavigation('https://example.com/', TRUSTED), false);
  assert.equal(allowNavigation('file:///etc/passwd', TRUSTED), false);
});

test('every call of the contract has an argument check', () => {
  assert.equal(checkCall('nodes.list', []), null);
  assert.equal(checkCall('jobs.nextTimes', [{ name: 'x' }, 10]), null);
  const conn = { name: 'c', endpoints: ['http://e:2379'], prefix: '/' };
  assert.equal(checkCall('connection.save', [{ ...conn, storeInClearText: true }]), null);
  assert.match(
    checkCall('connection.save', [{ ...conn, storeInClearText: 'yes' }]) ?? '',
    /storeInClearText must be true or false/,
  );
});
