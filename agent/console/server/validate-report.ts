// What the editor gets back for a draft spec (the shared job model's field errors, or the
// validated spec with its YAML and next firing times) and for YAML typed in its YAML view.
// No etcd here, so the component tests' in-memory contract uses these very functions.
import { validateJob } from '../../core/job/spec';
import { jobsToYaml } from '../../core/job/files';
import { nextTimes } from '../../core/job/schedule';
import { parse as parseYaml } from 'yaml';
import type { FieldError, JobSpecData, ValidationReport } from '../contract';

const PREVIEW_TIMES = 10;

export function validateReport(input: Record<string, unknown>, now = Date.now()): ValidationReport {
  const v = validateJob(input);
  if (!v.ok) return { ok: false, errors: v.errors };
  const report: ValidationReport = {
    ok: true,
    errors: [],
    spec: v.job as JobSpecData,
    yaml: jobsToYaml([v.job]),
  };
  if (v.job.kind !== 'loop') {
    try {
      report.next = nextTimes(v.job, now, PREVIEW_TIMES);
    } catch (err) {
      report.nextError = (err as Error).message;
    }
  }
  return report;
}

/** YAML from the editor's YAML view: one job, as a map of fields (validated by validateReport after). */
export function parseJobYaml(text: string): {
  ok: boolean;
  errors: FieldError[];
  input?: Record<string, unknown>;
} {
  try {
    const value: unknown = parseYaml(text);
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      return { ok: false, errors: [{ field: 'yaml', message: 'the YAML must be one job: a map of fields' }] };
    return { ok: true, errors: [], input: value as Record<string, unknown> };
  } catch (err) {
    return { ok: false, errors: [{ field: 'yaml', message: (err as Error).message.split('\n')[0] }] };
  }
}
