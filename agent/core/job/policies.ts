// The run policies of a job: what happens on failure (retries), when a firing
// meets a run still in flight (overlap), to times no node could launch in time
// (misfire), and how firings are spread (jitter). Each has a default, applied by
// the accessors below rather than stored, so specs stay as their authors wrote them.
import { parseDuration } from './duration';
import { fnv1a32 } from './hash';
import { isMap } from './shape';

export type Overlap = 'skip' | 'queue' | 'replace' | 'allow';
export type MisfirePolicy = 'skip' | 'once' | 'all';

export interface Retries {
  /** Attempts after the first. */
  count: number;
  /** Wait before the first retry; doubled for each next one. */
  backoff: string;
}

export interface Misfire {
  policy: MisfirePolicy;
  /** With `all`: at most this many missed times are run (the latest ones). */
  maxCatchUp?: number;
  /** A missed time older than this is dropped, whatever the policy. */
  deadline?: string;
}

export interface PolicyFields {
  retries?: Retries;
  overlap?: Overlap;
  misfire?: Misfire;
  jitter?: string;
  /** At most this many runs of the job in flight, cluster-wide. */
  concurrency?: number;
  /** Jobs sharing a mutex never run at the same time anywhere in the cluster. */
  mutex?: string;
  /** Named semaphores shared by jobs: name → its size (every job naming it must agree). */
  resources?: Record<string, number>;
}

/** A counting semaphore in etcd: `size` slots, each a key bound to the holder's lease. */
export interface Semaphore {
  name: string;
  size: number;
}

const SEM_NAME_RE = /^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$/;

/** The semaphores a run of this job must hold; one namespace per kind, so names never clash. */
export function semaphoresOf(job: PolicyFields & { name: string }): Semaphore[] {
  const out: Semaphore[] = [];
  if (job.concurrency !== undefined) out.push({ name: `job.${job.name}`, size: job.concurrency });
  if (job.mutex !== undefined) out.push({ name: `mutex.${job.mutex}`, size: 1 });
  for (const [name, size] of Object.entries(job.resources ?? {}))
    out.push({ name: `resource.${name}`, size });
  // A fixed order: two jobs taking the same semaphores take them in the same order.
  return out.sort((a, b) => (a.name < b.name ? -1 : 1));
}

export const OVERLAPS: readonly Overlap[] = ['skip', 'queue', 'replace', 'allow'];
export const MISFIRES: readonly MisfirePolicy[] = ['skip', 'once', 'all'];
export const DEFAULT_BACKOFF = '10s';
export const DEFAULT_MAX_CATCH_UP = 10;

type Fail = (field: string, message: string) => void;

function duration(fail: Fail, field: string, v: unknown, min = 0): string | undefined {
  if (typeof v === 'number') {
    fail(field, `${v} has no unit; add a unit, e.g. 30s`);
    return undefined;
  }
  if (typeof v !== 'string') {
    fail(field, `must be a duration such as 30s or 5m`);
    return undefined;
  }
  try {
    if (parseDuration(v) < min) {
      fail(field, `must be at least ${min} ms`);
      return undefined;
    }
  } catch (err) {
    fail(field, (err as Error).message);
    return undefined;
  }
  return v;
}

function unknownKeys(fail: Fail, field: string, v: Record<string, unknown>, known: string[]): void {
  for (const k of Object.keys(v))
    if (!known.includes(k)) fail(`${field}.${k}`, `unknown field; use ${known.join(', ')}`);
}

/** Validates the policy fields of a spec; returns them normalised (absent stays absent). */
export function validatePolicies(
  input: Record<string, unknown>,
  kind: string | undefined,
  fail: Fail,
): PolicyFields {
  const out: PolicyFields = {};
  if (input.retries !== undefined) {
    const r = input.retries;
    if (typeof r === 'number') {
      if (Number.isInteger(r) && r >= 0) out.retries = { count: r, backoff: DEFAULT_BACKOFF };
      else fail('retries', `must be a whole number >= 0, got ${r}`);
    } else if (isMap(r)) {
      unknownKeys(fail, 'retries', r, ['count', 'backoff']);
      const count = r.count;
      if (typeof count !== 'number' || !Number.isInteger(count) || count < 0)
        fail('retries.count', `must be a whole number >= 0, got ${JSON.stringify(count)}`);
      const backoff =
        r.backoff === undefined ? DEFAULT_BACKOFF : duration(fail, 'retries.backoff', r.backoff);
      if (typeof count === 'number' && Number.isInteger(count) && count >= 0 && backoff !== undefined)
        out.retries = { count, backoff };
    } else fail('retries', 'use a number of retries, or { count: 3, backoff: 30s }');
  }
  if (input.overlap !== undefined) {
    if (kind === 'loop') fail('overlap', 'loop runs never overlap; remove it');
    else if (typeof input.overlap === 'string' && (OVERLAPS as readonly string[]).includes(input.overlap))
      out.overlap = input.overlap as Overlap;
    else
      fail(
        'overlap',
        `${JSON.stringify(input.overlap)} is not an overlap policy; use skip, queue, replace or allow`,
      );
  }
  if (input.misfire !== undefined) {
    const m = input.misfire;
    if (kind !== undefined && kind !== 'cron' && kind !== 'once')
      fail('misfire', `only for clock-scheduled jobs (cron, once with at); this job is kind ${kind}`);
    else if (typeof m === 'string') {
      if ((MISFIRES as readonly string[]).includes(m)) out.misfire = { policy: m as MisfirePolicy };
      else fail('misfire', `${JSON.stringify(m)} is not a misfire policy; use skip, once or all`);
    } else if (isMap(m)) {
      unknownKeys(fail, 'misfire', m, ['policy', 'maxCatchUp', 'deadline']);
      const policy = m.policy ?? 'skip';
      if (typeof policy !== 'string' || !(MISFIRES as readonly string[]).includes(policy))
        fail('misfire.policy', `${JSON.stringify(policy)} is not a misfire policy; use skip, once or all`);
      const mis: Misfire = { policy: policy as MisfirePolicy };
      if (m.maxCatchUp !== undefined) {
        if (policy !== 'all') fail('misfire.maxCatchUp', 'only with policy all');
        else if (typeof m.maxCatchUp !== 'number' || !Number.isInteger(m.maxCatchUp) || m.maxCatchUp < 1)
          fail('misfire.maxCatchUp', `must be a whole number >= 1, got ${JSON.stringify(m.maxCatchUp)}`);
        else mis.maxCatchUp = m.maxCatchUp;
      }
      if (m.deadline !== undefined) {
        const d = duration(fail, 'misfire.deadline', m.deadline, 1);
        if (d) mis.deadline = d;
      }
      out.misfire = mis;
    } else fail('misfire', 'use skip, once or all, or { policy: all, maxCatchUp: 10, deadline: 1h }');
  }
  if (input.concurrency !== undefined) {
    const c = input.concurrency;
    if (typeof c !== 'number' || !Number.isInteger(c) || c < 1 || c > 1000)
      fail('concurrency', `must be a whole number from 1 to 1000, got ${JSON.stringify(c)}`);
    else out.concurrency = c;
  }
  if (input.mutex !== undefined) {
    if (typeof input.mutex !== 'string' || !SEM_NAME_RE.test(input.mutex))
      fail(
        'mutex',
        `must be a name of lower-case letters, digits, ".", "_" or "-", got ${JSON.stringify(input.mutex)}`,
      );
    else out.mutex = input.mutex;
  }
  if (input.resources !== undefined) {
    const r = input.resources;
    if (!isMap(r)) fail('resources', 'use a map of semaphore name to its size, e.g. { db-primary: 2 }');
    else {
      const res: Record<string, number> = {};
      for (const [name, size] of Object.entries(r)) {
        if (!SEM_NAME_RE.test(name))
          fail(`resources.${name}`, 'a name of lower-case letters, digits, ".", "_" or "-"');
        else if (typeof size !== 'number' || !Number.isInteger(size) || size < 1 || size > 1000)
          fail(
            `resources.${name}`,
            `the semaphore's size must be a whole number from 1 to 1000, got ${JSON.stringify(size)}`,
          );
        else res[name] = size;
      }
      out.resources = res;
    }
  }
  if (input.jitter !== undefined) {
    if (kind !== undefined && kind !== 'cron') fail('jitter', `only for cron jobs; this job is kind ${kind}`);
    else {
      const j = duration(fail, 'jitter', input.jitter);
      if (j !== undefined) out.jitter = j;
    }
  }
  return out;
}

export function overlapOf(job: PolicyFields): Overlap {
  return job.overlap ?? 'skip';
}

export function misfireOf(
  job: PolicyFields,
): Required<Pick<Misfire, 'policy'>> & { maxCatchUp: number; deadlineMs?: number } {
  const m = job.misfire;
  return {
    policy: m?.policy ?? 'skip',
    maxCatchUp: m?.maxCatchUp ?? DEFAULT_MAX_CATCH_UP,
    deadlineMs: m?.deadline ? parseDuration(m.deadline) : undefined,
  };
}

/** Delay before retry number `retry` (1-based): backoff × 2^(retry-1), at most an hour. */
export function retryDelayMs(job: PolicyFields, retry: number): number {
  const base = parseDuration(job.retries?.backoff ?? DEFAULT_BACKOFF);
  return Math.min(base * 2 ** Math.max(0, retry - 1), 3_600_000);
}

/** A stable offset in [0, jitter) from the job's name, so every node computes the same firing times. */
export function jitterOffsetMs(job: PolicyFields & { name: string }): number {
  if (!job.jitter) return 0;
  const span = parseDuration(job.jitter);
  if (span <= 0) return 0;
  const h = fnv1a32(`${job.name}\0jitter`);
  // Whole seconds when the span allows: "fires at 02:00:17" reads better than a millisecond offset.
  return span >= 2000 ? (h % Math.floor(span / 1000)) * 1000 : h % span;
}
