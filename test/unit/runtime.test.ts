// The project's runtime is the Node pinned as the `node` devDependency: tests (and the agents
// they spawn with process.execPath) run on it, not on the machine's older Node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

test('tests run on the Node pinned in package.json', () => {
  const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8'));
  const pinned: string = pkg.devDependencies.node;
  assert.match(pinned, /^24\.\d+\.\d+$/, 'the pinned runtime is an exact Node 24 (LTS) version');
  assert.equal(process.versions.node, pinned);
});
