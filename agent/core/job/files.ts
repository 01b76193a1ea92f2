// Job specs from YAML/JSON text (all-or-nothing) and back to readable multi-document YAML.
import { parseAllDocuments, stringify } from 'yaml';
import { JOB_FIELDS, validateJob, type FieldError, type JobSpec } from './spec';
import { isMap } from './shape';

export interface SpecFileError {
  /** e.g. 'jobs.yaml: document 2 (job "backup")' */
  where: string;
  errors: FieldError[];
}

export type ParseJobFileResult = { ok: true; jobs: JobSpec[] } | { ok: false; problems: SpecFileError[] };

interface Candidate {
  value: unknown;
  where: string;
}

/** The yaml library's first message line already says "at line L, column C". */
function yamlMessage(error: { message: string }): string {
  const firstLine = error.message.split('\n')[0].replace(/:$/, '');
  // "*/5 * * * *" unquoted is read as an alias, the commonest cron-in-YAML mistake.
  const hint = /alias/i.test(firstLine)
    ? '; values starting with "*" must be quoted, e.g. schedule: "*/5 * * * *"'
    : '';
  return firstLine + hint;
}

function jobLabel(value: unknown): string {
  return isMap(value) && typeof value.name === 'string' ? ` (job "${value.name}")` : '';
}

/**
 * Accepts one spec, a list of specs, `{ jobs: [...] }`, or several `---` documents of any of those.
 * Nothing is returned unless every spec is valid, so callers never store half a file.
 */
export function parseJobFile(text: string, sourceName: string): ParseJobFileResult {
  const problems: SpecFileError[] = [];
  const documents = parseAllDocuments(text);
  const several = documents.length > 1;
  const candidates: Candidate[] = [];

  for (const [index, doc] of documents.entries()) {
    const docWhere = several ? `${sourceName}: document ${index + 1}` : sourceName;
    if (doc.errors.length > 0) {
      problems.push({ where: docWhere, errors: [{ field: 'yaml', message: yamlMessage(doc.errors[0]) }] });
      continue;
    }
    const content: unknown = doc.toJS();
    // Empty documents (a trailing "---", comments only) carry no specs and are not an error.
    if (content === null || content === undefined) continue;
    const sep = several ? ', ' : ': ';
    let items: unknown[] | undefined;
    if (Array.isArray(content)) items = content;
    else if (isMap(content) && 'jobs' in content && !('name' in content)) {
      const extra = Object.keys(content).filter((key) => key !== 'jobs');
      if (extra.length > 0 || !Array.isArray(content.jobs)) {
        problems.push({
          where: docWhere,
          errors: [
            ...extra.map((key) => ({
              field: key,
              message: `unknown top-level key "${key}"; only "jobs" is allowed here`,
            })),
            ...(Array.isArray(content.jobs)
              ? []
              : [{ field: 'jobs', message: 'must be a list of job specs' }]),
          ],
        });
        continue;
      }
      items = content.jobs;
    }
    if (items === undefined) candidates.push({ value: content, where: docWhere });
    else {
      items.forEach((value, i) => candidates.push({ value, where: `${docWhere}${sep}item ${i + 1}` }));
    }
  }

  const jobs: JobSpec[] = [];
  const firstSeen = new Map<string, string>();
  for (const { value, where } of candidates) {
    const label = `${where}${jobLabel(value)}`;
    const result = validateJob(value);
    if (!result.ok) {
      problems.push({ where: label, errors: result.errors });
      continue;
    }
    const previous = firstSeen.get(result.job.name);
    if (previous !== undefined) {
      problems.push({
        where: label,
        errors: [
          { field: 'name', message: `duplicate job name "${result.job.name}", already used at ${previous}` },
        ],
      });
      continue;
    }
    firstSeen.set(result.job.name, where);
    jobs.push(result.job);
  }

  if (problems.length === 0 && jobs.length === 0) {
    problems.push({ where: sourceName, errors: [{ field: '(file)', message: 'no job specs found' }] });
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, jobs };
}

/** Multi-document YAML, fields in reading order; empty env/selector maps are left out as noise. */
export function jobsToYaml(jobs: JobSpec[]): string {
  return jobs
    .map((job) => {
      const ordered: Record<string, unknown> = {};
      for (const field of JOB_FIELDS) {
        const value = job[field];
        if (value === undefined) continue;
        if (isMap(value) && Object.keys(value).length === 0) continue;
        ordered[field] = value;
      }
      return stringify(ordered, { lineWidth: 0 });
    })
    .join('---\n');
}
