// The editor lists the fields it has a control for (the page cannot import the job model);
// this keeps that list and the job model's fields one set: a new job field needs a control.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JOB_FIELDS } from '../../agent/core/job/spec';
import { FORM_FIELDS } from '../../renderer/views/editor/draft';

test('every field of the job model has a control in the editor, and nothing else does', () => {
  assert.deepEqual([...FORM_FIELDS].sort(), [...JOB_FIELDS, 'condition'].sort());
});
