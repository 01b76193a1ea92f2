// The desktop console and the server package install side by side: the Electron app's
// executable and its .deb are `peppercorn-console`, leaving `peppercorn` (the CLI) and the
// `peppercorn` .deb (the agent) to the server package.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8'));

test('the desktop app is peppercorn-console, not the CLI’s name', () => {
  const build = pkg.build;
  assert.equal(build.executableName, 'peppercorn-console');
  assert.equal(build.linux?.executableName ?? build.executableName, 'peppercorn-console');
  assert.equal(build.deb?.packageName, 'peppercorn-console');
  assert.equal(pkg.bin.peppercorn, 'bin/peppercorn');
});
