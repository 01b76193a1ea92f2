// The audit trail's diff and bound.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AUDIT_KEEP, appendEntry, diffValues, type AuditEntry } from '../../agent/core/audit';

test('a diff names each changed field, leaf by leaf in maps', () => {
  const d = diffValues(
    { command: 'a', env: { X: '1', Y: '2' }, user: 'app' },
    { command: 'b', env: { X: '1', Z: '3' }, paused: true },
  );
  assert.deepEqual(d, [
    { field: 'command', before: '"a"', after: '"b"' },
    { field: 'env.Y', before: '"2"' },
    { field: 'env.Z', after: '"3"' },
    { field: 'paused', after: 'true' },
    { field: 'user', before: '"app"' },
  ]);
});

test('a trail keeps the latest entries only', () => {
  const entry = (i: number): AuditEntry => ({
    at: i,
    action: 'updated',
    etcdUser: null,
    osUser: 'u',
    host: 'h',
    changes: [],
  });
  let stored: Uint8Array | undefined;
  for (let i = 0; i < AUDIT_KEEP + 7; i++)
    stored = new TextEncoder().encode(JSON.stringify(appendEntry(stored, entry(i))));
  const t = JSON.parse(new TextDecoder().decode(stored)) as { entries: AuditEntry[] };
  assert.equal(t.entries.length, AUDIT_KEEP);
  assert.equal(t.entries[0].at, 7);
  assert.equal(t.entries.at(-1)!.at, AUDIT_KEEP + 6);
});
