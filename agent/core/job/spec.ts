// The job spec: its shape, validation with field-by-field messages, and a canonical form.
import { parseDuration } from './duration';
import { checkCronExpression, checkIsoInstant, checkTimeZone } from './schedule';
import { nearest } from './suggest';
import { JOB_NAME_RE, isMap, type JobKind } from './shape';
import { validatePolicies, type PolicyFields } from './policies';
import { validateAfter, type Dependency } from './deps';
import { validateAlertRules, type JobAlerts } from './alert-rules';
import { validateIsolation, type IsolationFields } from './isolation';

export type { JobKind };
export type RunPolicy = 'at-most-once' | 'at-least-once';

export interface JobSpec extends PolicyFields, IsolationFields {
  /** Run after these jobs complete (kind once without at); see deps.ts. */
  after?: Dependency[];
  name: string;
  kind: JobKind;
  schedule?: string;
  timezone: string;
  command: string;
  env: Record<string, string>;
  workdir?: string;
  user?: string;
  timeout?: string;
  selector: Record<string, string>;
  /** The job's own labels: for the operator (`job ls -l`, `job apply --prune -l`), not for placement. */
  labels?: Record<string, string>;
  policy: RunPolicy;
  paused: boolean;
  times?: number;
  delay?: string;
  at?: string;
  description?: string;
  /** Alert rules; absent: the cluster defaults; false: never alert. See alert-rules.ts. */
  alerts?: JobAlerts;
  /**
   * The job's incarnation: a random id given when the job is created (like a Kubernetes
   * uid), kept across updates, new when a deleted job is created again. Set by the store,
   * never by a spec file: run records carry it, so runs of an earlier incarnation are told apart.
   */
  uid?: string;
}

export interface FieldError {
  field: string;
  message: string;
}

export type ValidationResult = { ok: true; job: JobSpec } | { ok: false; errors: FieldError[] };

/** Readable field order; also the order of keys in validated jobs and in YAML output. */
export const JOB_FIELDS = [
  'name',
  'kind',
  'schedule',
  'timezone',
  'at',
  'after',
  'times',
  'delay',
  'command',
  'image',
  'pull',
  'volumes',
  'network',
  'env',
  'workdir',
  'user',
  'timeout',
  'limits',
  'selector',
  'policy',
  'retries',
  'overlap',
  'misfire',
  'jitter',
  'concurrency',
  'mutex',
  'resources',
  'alerts',
  'paused',
  'labels',
  'description',
] as const satisfies ReadonlyArray<keyof JobSpec>;

export const KINDS: readonly JobKind[] = ['cron', 'loop', 'once'];
export const POLICIES: readonly RunPolicy[] = ['at-most-once', 'at-least-once'];
const ENV_KEY_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const LABEL_KEY_RE = /^[A-Za-z0-9]([A-Za-z0-9._/-]{0,251}[A-Za-z0-9])?$/;
const USER_RE = /^[A-Za-z0-9_.][A-Za-z0-9_.-]{0,31}$/;

// Names people reach for from other tools; edit distance would not find these.
const ALIASES: Record<string, keyof JobSpec> = {
  cmd: 'command',
  cron: 'schedule',
  tz: 'timezone',
  environment: 'env',
  nodeselector: 'selector',
  cwd: 'workdir',
  dir: 'workdir',
  enabled: 'paused',
  disabled: 'paused',
  repeat: 'times',
  interval: 'delay',
  container: 'image',
  mounts: 'volumes',
};

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (isMap(value)) return 'a map';
  return `a ${typeof value}`;
}

function quoteHint(value: unknown): string {
  return typeof value === 'number' || typeof value === 'boolean' ? `; quote it: "${String(value)}"` : '';
}

/** Validates untrusted input (parsed YAML/JSON) and returns a JobSpec with defaults filled. */
export function validateJob(input: unknown): ValidationResult {
  if (!isMap(input)) {
    return {
      ok: false,
      errors: [{ field: '(spec)', message: `a job spec must be a map of fields, got ${typeName(input)}` }],
    };
  }
  const errors: FieldError[] = [];
  const fail = (field: string, message: string) => errors.push({ field, message });
  // `condition` is shorthand input for every parent in `after`; the stored form has it per parent.
  // `uid` is the store's (shown by `job get -o json`): accepted back, and ignored.
  // `signature` likewise (signing.ts): it is checked by the nodes that require one, not here.
  const known = new Set<string>([...JOB_FIELDS, 'condition', 'uid', 'signature']);

  for (const key of Object.keys(input)) {
    if (known.has(key)) continue;
    const guess = ALIASES[key.toLowerCase()] ?? nearest(key, JOB_FIELDS);
    fail(key, `unknown field "${key}"${guess ? `; did you mean "${guess}"?` : ''}`);
  }

  const stringField = (field: string, value: unknown): string | undefined => {
    if (value === undefined) return undefined;
    if (typeof value !== 'string') {
      fail(field, `must be a string, got ${typeName(value)}${quoteHint(value)}`);
      return undefined;
    }
    return value;
  };

  // name
  let name: string | undefined;
  if (input.name === undefined) fail('name', 'required; e.g. name: nightly-backup');
  else {
    name = stringField('name', input.name);
    if (name !== undefined && !JOB_NAME_RE.test(name)) {
      fail(
        'name',
        `"${name}" is not a valid name; use 1-63 lower-case letters, digits and "-", starting and ending with a letter or digit`,
      );
    }
  }

  // kind: a job with a schedule is obviously a cron job, so it may be left out there.
  let kind: JobKind | undefined;
  if (input.kind === undefined) {
    if (input.schedule !== undefined) kind = 'cron';
    else fail('kind', 'required; use cron (with a schedule), loop or once');
  } else if (typeof input.kind === 'string' && (KINDS as readonly string[]).includes(input.kind)) {
    kind = input.kind as JobKind;
  } else {
    fail('kind', `${JSON.stringify(input.kind)} is not a job kind; use cron, loop or once`);
  }

  // timezone
  let timezone = 'UTC';
  let timezoneOk = true;
  if (input.timezone !== undefined) {
    const tz = stringField('timezone', input.timezone);
    const problem = tz === undefined ? 'skip' : checkTimeZone(tz);
    if (problem === null) timezone = tz as string;
    else {
      timezoneOk = false;
      if (problem !== 'skip') fail('timezone', problem);
    }
  }

  // schedule: only meaningful for cron; checked with the real compiler so bad cron never gets stored.
  let schedule: string | undefined;
  if (kind === 'cron') {
    if (input.schedule === undefined)
      fail('schedule', 'required for kind cron; e.g. "0 2 * * *", "@daily" or "@every 10s"');
    else {
      schedule = stringField('schedule', input.schedule);
      if (schedule !== undefined) {
        // An invalid zone is reported on its own field; check the expression against UTC meanwhile.
        const problem = checkCronExpression(schedule, timezoneOk ? timezone : 'UTC', name ?? '');
        if (problem) fail('schedule', problem);
      }
    }
  } else if (input.schedule !== undefined && kind !== undefined) {
    fail('schedule', `only allowed on kind cron (this job is kind ${kind}); remove it or set kind: cron`);
  }

  // command
  const command = stringField('command', input.command);
  if (input.command === undefined) fail('command', 'required; the shell command to run with /bin/sh -c');
  else if (command !== undefined && command.trim() === '') fail('command', 'must not be empty');

  // env
  const env: Record<string, string> = {};
  if (input.env !== undefined) {
    if (!isMap(input.env)) fail('env', `must be a map of NAME: value, got ${typeName(input.env)}`);
    else {
      for (const [key, value] of Object.entries(input.env)) {
        const field = `env.${key}`;
        if (!ENV_KEY_RE.test(key)) {
          fail(
            field,
            `"${key}" is not a valid variable name; use letters, digits and _, not starting with a digit`,
          );
        }
        if (typeof value !== 'string')
          fail(field, `value must be a string, got ${typeName(value)}${quoteHint(value)}`);
        else env[key] = value;
      }
    }
  }

  // workdir
  const workdir = stringField('workdir', input.workdir);
  if (workdir !== undefined && !workdir.startsWith('/')) {
    fail('workdir', `"${workdir}" must be an absolute path, starting with /`);
  }

  // user
  const user = stringField('user', input.user);
  if (user !== undefined && !USER_RE.test(user)) {
    fail('user', `"${user}" is not a valid user name; use up to 32 letters, digits, ".", "_" or "-"`);
  }

  // timeout
  let timeout: string | undefined;
  if (input.timeout !== undefined) {
    if (typeof input.timeout === 'number')
      fail('timeout', `${input.timeout} has no unit; add a unit, e.g. 30s`);
    else {
      timeout = stringField('timeout', input.timeout);
      if (timeout !== undefined) {
        try {
          if (parseDuration(timeout) <= 0)
            fail('timeout', 'must be greater than 0; leave it out for no timeout');
        } catch (error) {
          fail('timeout', (error as Error).message);
        }
      }
    }
  }

  // selector
  const selector: Record<string, string> = {};
  if (input.selector !== undefined) {
    if (!isMap(input.selector)) {
      fail('selector', `must be a map of node labels (label: value), got ${typeName(input.selector)}`);
    } else {
      for (const [key, value] of Object.entries(input.selector)) {
        const field = `selector.${key}`;
        if (!LABEL_KEY_RE.test(key)) {
          fail(field, `"${key}" is not a valid label; use letters, digits, ".", "_", "-" and "/"`);
        }
        if (typeof value !== 'string')
          fail(field, `value must be a string, got ${typeName(value)}${quoteHint(value)}`);
        else selector[key] = value;
      }
    }
  }

  // labels: the job's own, like selector's shape
  let labels: Record<string, string> | undefined;
  if (input.labels !== undefined) {
    if (!isMap(input.labels)) {
      fail('labels', `must be a map of label: value, got ${typeName(input.labels)}`);
    } else {
      labels = {};
      for (const [key, value] of Object.entries(input.labels)) {
        const field = `labels.${key}`;
        if (!LABEL_KEY_RE.test(key)) {
          fail(field, `"${key}" is not a valid label; use letters, digits, ".", "_", "-" and "/"`);
        }
        if (typeof value !== 'string')
          fail(field, `value must be a string, got ${typeName(value)}${quoteHint(value)}`);
        else labels[key] = value;
      }
    }
  }

  // policy
  let policy: RunPolicy = 'at-most-once';
  if (input.policy !== undefined) {
    if (typeof input.policy === 'string' && (POLICIES as readonly string[]).includes(input.policy)) {
      policy = input.policy as RunPolicy;
    } else
      fail('policy', `${JSON.stringify(input.policy)} is not a policy; use at-most-once or at-least-once`);
  }

  // paused
  let paused = false;
  if (input.paused !== undefined) {
    if (typeof input.paused === 'boolean') paused = input.paused;
    else fail('paused', `must be true or false (without quotes), got ${JSON.stringify(input.paused)}`);
  }

  // times / delay: loop only
  let times: number | undefined;
  let delay: string | undefined;
  if (kind === 'loop') {
    times = 0;
    if (input.times !== undefined) {
      const value = input.times;
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
        fail('times', `must be a whole number >= 0 (0 runs forever), got ${JSON.stringify(value)}`);
      } else times = value;
    }
    delay = '0s';
    if (input.delay !== undefined) {
      if (typeof input.delay === 'number') fail('delay', `${input.delay} has no unit; add a unit, e.g. 30s`);
      else {
        const text = stringField('delay', input.delay);
        if (text !== undefined) {
          try {
            parseDuration(text);
            delay = text;
          } catch (error) {
            fail('delay', (error as Error).message);
          }
        }
      }
    }
  } else if (kind !== undefined) {
    for (const field of ['times', 'delay'] as const) {
      if (input[field] !== undefined)
        fail(field, `only allowed on kind loop (this job is kind ${kind}); remove it`);
    }
  }

  // at: once only
  let at: string | undefined;
  if (input.at !== undefined && kind !== undefined && kind !== 'once') {
    fail('at', `only allowed on kind once (this job is kind ${kind}); use a cron schedule for repeated runs`);
  } else if (input.at instanceof Date) {
    // Callers passing a Date (e.g. from a YAML 1.1 timestamp) mean an instant; accept it.
    if (Number.isNaN(input.at.getTime())) fail('at', 'invalid date');
    else at = input.at.toISOString();
  } else if (input.at !== undefined) {
    const text = stringField('at', input.at);
    if (text !== undefined) {
      const problem = checkIsoInstant(text);
      if (problem) fail('at', problem);
      else at = new Date(Date.parse(text)).toISOString();
    }
  }

  const description = stringField('description', input.description);
  const policies = validatePolicies(input, kind, fail);
  const after = validateAfter(input, kind, name, fail);
  const alerts = validateAlertRules(input.alerts, 'alerts', fail);
  const isolation = validateIsolation(input, fail);

  if (errors.length > 0) return { ok: false, errors };
  const job = compact({
    name: name as string,
    kind: kind as JobKind,
    schedule,
    timezone,
    at,
    after,
    times,
    delay,
    command: command as string,
    image: isolation.image,
    pull: isolation.pull,
    volumes: isolation.volumes,
    network: isolation.network,
    env,
    workdir,
    user,
    timeout,
    limits: isolation.limits,
    selector,
    policy,
    ...policies,
    alerts,
    paused,
    labels,
    description,
  });
  return { ok: true, job };
}

/** Drops undefined-valued keys so stored specs and their JSON agree. */
function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** The job's timeout in milliseconds, or undefined when it has none. */
export function jobTimeoutMs(job: JobSpec): number | undefined {
  return job.timeout === undefined ? undefined : parseDuration(job.timeout);
}

/** Pause between loop runs in milliseconds (0 when not set). */
export function loopDelayMs(job: JobSpec): number {
  return job.delay === undefined ? 0 : parseDuration(job.delay);
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (isMap(value)) {
    return Object.fromEntries(
      Object.keys(value)
        .filter((key) => value[key] !== undefined)
        .sort()
        .map((key) => [key, sortKeys(value[key])]),
    );
  }
  return value;
}

/** Stable JSON (sorted keys, defaults filled) so "apply" can tell an unchanged job from a changed one. */
export function canonicalJob(job: JobSpec): string {
  const filled: JobSpec = {
    ...job,
    uid: undefined, // the incarnation is not part of what a spec says
    timezone: job.timezone ?? 'UTC',
    env: job.env ?? {},
    selector: job.selector ?? {},
    // No labels and empty labels are the same job (and the canonical form of jobs stored before labels).
    labels: job.labels && Object.keys(job.labels).length ? job.labels : undefined,
    policy: job.policy ?? 'at-most-once',
    paused: job.paused ?? false,
  };
  if (job.kind === 'loop') {
    filled.times = job.times ?? 0;
    filled.delay = job.delay ?? '0s';
  }
  return JSON.stringify(sortKeys(filled));
}
