// Secrets out of messages: plain, base64 and URL-encoded forms; short values left alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { redact, REDACTED } from '../../agent/core/redact';

test('every form of a secret is replaced; the longest first; short values are not secrets', () => {
  const pw = 'hunter2/+x';
  const text = `auth ${pw} b64 ${Buffer.from(pw).toString('base64')} url ${encodeURIComponent(pw)} id 42`;
  assert.equal(redact(text, [pw, '42', undefined]), `auth ${REDACTED} b64 ${REDACTED} url ${REDACTED} id 42`);
  assert.equal(redact('token abcdefgh', ['abcd', 'abcdefgh']), `token ${REDACTED}`);
});
