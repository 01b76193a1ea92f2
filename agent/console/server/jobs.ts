// jobs.*: the table's rows, one job's detail and history, the editor's checks, and what an
// operator does to a job (apply, remove, pause, resume, trigger).
import { hostname } from 'node:os';
import { validateJob, type JobSpec } from '../../core/job/spec';
import { jobsToYaml } from '../../core/job/files';
import { nextTimes } from '../../core/job/schedule';
import type { JobCalls, JobRow, JobSpecData } from '../contract';
import type { Handlers, ServerContext } from './context';
import type { LiveJob } from './live';
import { parseJobYaml, validateReport } from './validate-report';

/** What the table shows of a schedule. */
function scheduleText(spec: JobSpec): string {
  if (spec.kind === 'cron') return spec.schedule ?? '';
  if (spec.kind === 'loop')
    return `${spec.times ? `${spec.times}×` : 'forever'}, delay ${spec.delay ?? '0s'}`;
  return spec.at ? `at ${spec.at}` : 'on trigger';
}

export function jobRow(j: LiveJob): JobRow {
  return {
    name: j.spec.name,
    kind: j.spec.kind,
    schedule: scheduleText(j.spec),
    timezone: j.spec.timezone,
    paused: j.spec.paused,
    owner: j.owner,
    next: j.next,
    lastStatus: j.last?.status ?? null,
    lastAt: j.last?.at ?? null,
    lastRunId: j.last?.runId ?? null,
    command: j.spec.command,
  };
}

function validOrThrow(input: Record<string, unknown>): JobSpec {
  const v = validateJob(input);
  if (!v.ok) throw new Error(v.errors.map((e) => `${e.field}: ${e.message}`).join('; '));
  return v.job;
}

export function jobHandlers(ctx: ServerContext): Handlers<JobCalls> {
  return {
    'jobs.list': () => (ctx.active?.live.snapshot().jobs ?? []).map(jobRow),
    'jobs.get': async (name) => {
      const view = await ctx.need().store.getJob(name);
      return {
        spec: view.spec as JobSpecData,
        owner: view.owner,
        cursor: view.cursor,
        yaml: jobsToYaml([view.spec]),
        assignment: view.assignment ?? null,
        signedBy: view.signedBy ?? null,
        refusedBy: view.refusedBy ?? [],
      };
    },
    'jobs.history': (name) => ctx.need().store.jobHistory(name),
    // The editor's check: the same validateJob the CLI uses, plus the YAML and a preview.
    'jobs.validate': (input) => validateReport(input),
    'jobs.parseYaml': (text) => parseJobYaml(text),
    'jobs.apply': async (input) => {
      const job = validOrThrow(input);
      const a = ctx.need();
      const [res] = await a.store.applyJobs([job], { signWith: ctx.connections.signingKey(a.profileId) });
      return { name: res.name, result: res.result };
    },
    'jobs.remove': (name) => ctx.need().store.removeJob(name),
    'jobs.pause': (name) => ctx.need().store.setPaused(name, true),
    'jobs.resume': (name) => ctx.need().store.setPaused(name, false),
    'jobs.trigger': (name) => ctx.need().store.trigger(name, `console@${hostname()}`),
    'jobs.nextTimes': (input, n) =>
      nextTimes(validOrThrow(input), Date.now(), Math.max(1, Math.min(100, Math.floor(n)))),
  };
}
