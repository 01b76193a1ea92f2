// Small facts about job specs shared by the job model's modules.

/** What a job is: clock-scheduled, a supervised loop, or one run (at a time or when triggered). */
export type JobKind = 'cron' | 'loop' | 'once';

/** A job name: a DNS label, so it fits keys, run ids (`<job>.<ms>.<attempt>`) and host-like names. */
export const JOB_NAME_RE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** A YAML/JSON map (not a list, not null, not a Date). */
export function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}
