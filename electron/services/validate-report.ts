// What the editor gets back for a draft spec: the shared job model's field errors, or the
// validated spec with its YAML and next firing times. No etcd here, so the component
// tests' in-memory contract uses this very function.
import { validateJob } from '../../agent/core/job/spec';
import { jobsToYaml } from '../../agent/core/job/files';
import { nextTimes } from '../../agent/core/job/schedule';
import type { JobSpecData, ValidationReport } from '../common/contract';

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
