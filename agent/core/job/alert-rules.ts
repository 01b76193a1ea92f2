// A job's alert rules: which of its runs raise an alert, and where it goes. A job
// without `alerts` takes the cluster defaults (the `alerting` config); `alerts: off`
// silences it; otherwise each field it sets replaces the default's.
import { parseDuration } from './duration';
import { isMap } from './shape';

/** Rules that look at one run. */
export type RunAlertRule = 'failure' | 'timeout' | 'lost' | 'missed';
export const RUN_ALERT_RULES: readonly RunAlertRule[] = ['failure', 'timeout', 'lost', 'missed'];

export interface AlertRules {
  /** One alert per run that ends this way (a failed attempt that will be retried does not count). */
  on?: RunAlertRule[];
  /** One alert when this many completed runs in a row did not succeed. */
  consecutiveFailures?: number;
  /** Dead-man's switch: alert when the job has not succeeded for this long. */
  deadman?: string;
  /** Channel names of the alerting config; absent: all of them. */
  channels?: string[];
  /** Also notify when the alert resolves (default true). */
  resolved?: boolean;
}

/** What a job's alerts field holds: rules, or `false` for "never alert for this job". */
export type JobAlerts = AlertRules | false;

export const DEFAULT_JOB_ALERTS: AlertRules = { on: ['failure', 'timeout', 'lost'] };

const CHANNEL_NAME_RE = /^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$/;
const FIELDS = ['on', 'consecutiveFailures', 'deadman', 'channels', 'resolved'];

type Fail = (field: string, message: string) => void;

export function isChannelName(name: unknown): name is string {
  return typeof name === 'string' && CHANNEL_NAME_RE.test(name);
}

/** Validates alert rules (a job's `alerts`, or the config's `defaults`); absent stays absent. */
export function validateAlertRules(value: unknown, field: string, fail: Fail): JobAlerts | undefined {
  if (value === undefined) return undefined;
  if (value === false || value === 'off') return false;
  if (!isMap(value)) {
    fail(field, 'use off, or a map such as { on: [failure, lost], consecutiveFailures: 3, deadman: 2h }');
    return undefined;
  }
  const out: AlertRules = {};
  for (const k of Object.keys(value))
    if (!FIELDS.includes(k)) fail(`${field}.${k}`, `unknown field; use ${FIELDS.join(', ')}`);
  if (value.on !== undefined) {
    const on = typeof value.on === 'string' ? [value.on] : value.on;
    if (!Array.isArray(on)) fail(`${field}.on`, `use a list of ${RUN_ALERT_RULES.join(', ')}`);
    else {
      const bad = on.filter((r) => !(RUN_ALERT_RULES as readonly unknown[]).includes(r));
      if (bad.length)
        fail(
          `${field}.on`,
          `${bad.map((b) => JSON.stringify(b)).join(', ')}: use ${RUN_ALERT_RULES.join(', ')}`,
        );
      else out.on = [...new Set(on as RunAlertRule[])];
    }
  }
  if (value.consecutiveFailures !== undefined) {
    const n = value.consecutiveFailures;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 2 || n > 10_000)
      fail(
        `${field}.consecutiveFailures`,
        `must be a whole number from 2 to 10000, got ${JSON.stringify(n)}`,
      );
    else out.consecutiveFailures = n;
  }
  if (value.deadman !== undefined) {
    const d = value.deadman;
    let ms = NaN;
    try {
      ms = typeof d === 'string' ? parseDuration(d) : NaN;
    } catch (err) {
      fail(`${field}.deadman`, (err as Error).message);
    }
    if (typeof d !== 'string') fail(`${field}.deadman`, 'must be a duration such as 2h or 1d');
    else if (ms < 10_000) fail(`${field}.deadman`, 'must be at least 10s');
    else if (Number.isFinite(ms)) out.deadman = d;
  }
  if (value.channels !== undefined) {
    const ch = typeof value.channels === 'string' ? [value.channels] : value.channels;
    if (!Array.isArray(ch) || !ch.every(isChannelName))
      fail(`${field}.channels`, 'use a list of channel names from the alerting config');
    else out.channels = [...new Set(ch)];
  }
  if (value.resolved !== undefined) {
    if (typeof value.resolved !== 'boolean') fail(`${field}.resolved`, 'must be true or false');
    else out.resolved = value.resolved;
  }
  return out;
}

/** The rules in force for a job: its own fields over the cluster defaults over the built-in ones. */
export function effectiveAlertRules(
  job: JobAlerts | undefined,
  defaults: JobAlerts | undefined,
): AlertRules | null {
  if (job === false) return null;
  if (job === undefined && defaults === false) return null;
  const base = defaults === false || defaults === undefined ? DEFAULT_JOB_ALERTS : defaults;
  return { ...base, ...(job ?? {}) };
}

export function deadmanMs(rules: AlertRules | null): number | undefined {
  return rules?.deadman === undefined ? undefined : parseDuration(rules.deadman);
}
