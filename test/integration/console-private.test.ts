// The web console's secrets, with the real `peppercorn console` process: its token never appears on
// any command line (the browser is opened through a private redirect file), and malformed requests
// get a 400 and a closed socket, never a stack trace.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { CLI, TestCluster, waitFor } from '../harness/cluster';

const tc = new TestCluster();
let consoleProc: ChildProcess;
let stdout = '';
let stderr = '';
const argsFile = tc.path('opener-args.txt');
const runtimeDir = tc.path('runtime');

before(async () => {
  await tc.start();
  // A stand-in for xdg-open that records its arguments and stays alive a while, as a browser would.
  const bin = tc.path('bin');
  mkdirSync(bin);
  mkdirSync(runtimeDir, { mode: 0o700 });
  writeFileSync(join(bin, 'xdg-open'), `#!/bin/sh\nprintf '%s\\n' "$@" > ${argsFile}\nsleep 10\n`);
  chmodSync(join(bin, 'xdg-open'), 0o755);
  consoleProc = spawn(process.execPath, [CLI, 'console'], {
    env: { ...tc.env(), PATH: `${bin}:${process.env.PATH}`, XDG_RUNTIME_DIR: runtimeDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  consoleProc.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  consoleProc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  await waitFor('the console to print its URL', () => /Open: http:\/\/\S+token=\S+/.test(stdout));
});
after(async () => {
  consoleProc.kill('SIGKILL');
  await tc.stop();
});

const url = () => new URL(/Open: (\S+)/.exec(stdout)![1]);

/** Every process's command line that contains `needle`. */
function cmdlinesWith(needle: string): string[] {
  const hits: string[] = [];
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmd.includes(needle)) hits.push(`${pid}: ${cmd.replace(/\0/g, ' ')}`);
    } catch {
      // gone meanwhile
    }
  }
  return hits;
}

test('the browser is opened through a 0600 redirect file; no command line holds the token', async () => {
  const token = url().searchParams.get('token')!;
  assert.ok(token.length >= 16);
  const opened = await waitFor(
    'the opener to be called',
    () => existsSync(argsFile) && readFileSync(argsFile, 'utf8'),
  );
  const args = opened.trim().split('\n');
  assert.equal(args.length, 1);
  const file = args[0];
  assert.doesNotMatch(file, new RegExp(token));
  assert.equal((statSync(file).mode & 0o777).toString(8), '600');
  assert.equal((statSync(dirname(file)).mode & 0o777).toString(8), '700');
  const page = readFileSync(file, 'utf8');
  assert.ok(page.includes(`http-equiv="refresh" content="0;url=${url().href}"`), page);
  assert.ok(page.includes(`window.location.replace(${JSON.stringify(url().href)})`));
  // The opener is still running (it sleeps): its command line, and everyone else's, lack the token.
  assert.deepEqual(cmdlinesWith(token), []);
  assert.ok(cmdlinesWith(file).length >= 1, 'the scan does see the opener’s command line');
});

/** Sends raw bytes; resolves with everything the server answered once it closed the connection. */
function raw(request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(Number(url().port), '127.0.0.1');
    let got = '';
    sock.on('data', (d) => (got += d.toString()));
    sock.on('close', () => resolve(got));
    sock.on('error', reject);
    sock.setTimeout(10_000, () => reject(new Error(`no answer and no close for ${JSON.stringify(request)}`)));
    sock.write(request);
  });
}

test('malformed requests get a 400 and a closed socket, never a stack trace', async () => {
  const host = `Host: 127.0.0.1:${url().port}\r\n`;
  const ws =
    'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n';
  for (const request of [
    `GET /% HTTP/1.1\r\n${host}Connection: close\r\n\r\n`,
    `GET /%E0%A4%A HTTP/1.1\r\n${host}Connection: close\r\n\r\n`,
    `GET // HTTP/1.1\r\n${host}Connection: close\r\n\r\n`,
    `GET // HTTP/1.1\r\n${host}${ws}\r\n`,
    `GET /ws?token=% HTTP/1.1\r\n${host}${ws}\r\n`,
  ]) {
    const answer = await raw(request);
    assert.match(answer, /^HTTP\/1\.1 (400|401) /, `${JSON.stringify(request)} → ${answer}`);
    assert.doesNotMatch(answer, /at .*\(.*:\d+:\d+\)/);
  }
  // Still serving, and nothing was printed.
  assert.match(await raw(`GET / HTTP/1.1\r\n${host}Connection: close\r\n\r\n`), /^HTTP\/1\.1 200 /);
  assert.equal(consoleProc.exitCode, null);
  assert.doesNotMatch(stderr, /unexpected|Error|\n\s+at /, stderr);
});

test('the redirect file is removed when the console stops', async () => {
  const file = readFileSync(argsFile, 'utf8').trim();
  consoleProc.kill('SIGTERM');
  await waitFor('the console to exit', () => consoleProc.exitCode !== null);
  assert.equal(existsSync(file), false);
  assert.deepEqual(readdirSync(runtimeDir), []);
});
