// Turns a job's kind/schedule/timezone/at into firing times. Validation happens here too, so an
// expression that validateJob accepts is exactly one that compileSchedule can run.
import { CronExpressionParser, type CronExpression } from 'cron-parser';
import { formatDuration, parseDuration } from './duration';
import { fnv1a32 } from './hash';
import { jitterOffsetMs } from './policies';
import type { JobKind } from './shape';

export interface Schedule {
  /** First firing time strictly after `afterMs` (ms since epoch), or null if there is none. */
  next(afterMs: number): number | null;
  describe(): string;
}

/** The fields of a job spec that decide its firing times (a JobSpec is one). */
export interface ScheduleSource {
  name: string;
  kind: JobKind;
  schedule?: string;
  timezone: string;
  at?: string;
  jitter?: string;
}

// Mapped ourselves so only the classic Vixie macros are accepted (cron-parser knows extra ones).
const MACROS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

interface FieldInfo {
  name: string;
  min: number;
  max: number;
  /** Range used by a bare H; day-of-month stops at 28 so the job fires in every month. */
  hashMax: number;
}

// Indexed as a 6-field expression (seconds first); 5-field expressions start at index 1, so a
// job's H minute is the same whether or not it spells out the seconds.
const FIELDS: FieldInfo[] = [
  { name: 'second', min: 0, max: 59, hashMax: 59 },
  { name: 'minute', min: 0, max: 59, hashMax: 59 },
  { name: 'hour', min: 0, max: 23, hashMax: 23 },
  { name: 'day-of-month', min: 1, max: 31, hashMax: 28 },
  { name: 'month', min: 1, max: 12, hashMax: 12 },
  { name: 'day-of-week', min: 0, max: 6, hashMax: 6 },
];

const H_FORM = /^H(?:\((\d+)-(\d+)\))?(?:\/(\d+))?$/;

/**
 * Zones already checked. Building an Intl.DateTimeFormat costs about a millisecond, once per
 * job validated; 10,000 jobs read by `job ls` spent most of their time here. A fleet uses a
 * handful of zones; the bound only keeps a flood of bad names from growing it.
 */
const zoneChecks = new Map<string, string | null>();
const ZONE_CHECKS_KEPT = 1000;

/** null if `tz` is an IANA zone name this runtime knows, else a message saying what to do. */
export function checkTimeZone(tz: string): string | null {
  const advice = 'use an IANA name such as Europe/Paris or UTC';
  if (typeof tz !== 'string' || tz.trim() === '') return `time zone must be a non-empty name; ${advice}`;
  const known = zoneChecks.get(tz);
  if (known !== undefined) return known;
  let problem: string | null;
  // Offsets like "+02:00" are refused: they have no DST rules, so they are rarely what is meant.
  if (/^[+-]/.test(tz)) problem = `"${tz}" is an offset, not a time zone; ${advice}`;
  else
    try {
      new Intl.DateTimeFormat(undefined, { timeZone: tz });
      problem = null;
    } catch {
      problem = `unknown time zone "${tz}"; ${advice}`;
    }
  if (zoneChecks.size >= ZONE_CHECKS_KEPT) zoneChecks.clear();
  zoneChecks.set(tz, problem);
  return problem;
}

/** Replaces every H form in one field by plain cron syntax derived from the seed. */
function expandHashField(raw: string, index: number, seedName: string): string {
  if (!raw.includes('H')) return raw;
  const field = FIELDS[index];
  const hash = fnv1a32(`${seedName}\u0000${index}`);
  return raw
    .split(',')
    .map((part) => {
      if (!part.includes('H')) return part;
      const match = H_FORM.exec(part);
      if (!match) {
        throw new Error(`${field.name} field "${raw}": bad H form "${part}"; use H, H(a-b), H/n or H(a-b)/n`);
      }
      const [, lowText, highText, stepText] = match;
      const ranged = lowText !== undefined;
      const low = ranged ? Number(lowText) : field.min;
      const high = ranged ? Number(highText) : stepText === undefined ? field.hashMax : field.max;
      if (low < field.min || high > field.max || low > high) {
        throw new Error(
          `${field.name} field "${raw}": range ${low}-${high} must lie within ${field.min}-${field.max}, low end first`,
        );
      }
      if (stepText === undefined) return String(low + (hash % (high - low + 1)));
      const step = Number(stepText);
      if (step < 1) throw new Error(`${field.name} field "${raw}": step must be at least 1`);
      // The offset is < step (and stays inside the range) so every period still fires once.
      const start = low + (hash % Math.min(step, high - low + 1));
      return `${start}-${high}/${step}`;
    })
    .join(',');
}

function parseCron(fields: string[], tz: string): CronExpression {
  return CronExpressionParser.parse(fields.join(' '), { tz, currentDate: 0 });
}

/**
 * A parsed expression shared by the schedules (and validations) of the same expression and
 * zone: parsing is the expensive part, and most jobs of a fleet share a few schedules. Each
 * schedule re-positions it unless it was the last to use it (`user`).
 */
interface SharedCron {
  expr: CronExpression;
  user: object | undefined;
}
const parsedCrons = new Map<string, SharedCron>();
/** Bounded: H schedules differ per job, and an agent must not keep one per job it only read. */
const PARSED_CRONS_KEPT = 512;

function parseCronShared(fields: string[], tz: string): SharedCron {
  const key = `${fields.join(' ')}\u0000${tz}`;
  let hit = parsedCrons.get(key);
  if (!hit) {
    hit = { expr: parseCron(fields, tz), user: undefined };
    if (parsedCrons.size >= PARSED_CRONS_KEPT) parsedCrons.clear();
    parsedCrons.set(key, hit);
  }
  return hit;
}

/** Parses a 5/6-field expression (H already allowed), naming the failing field when it can. */
function compileCronFields(
  expr: string,
  tz: string,
  seedName: string,
): { parsed: SharedCron; expanded: string } {
  const given = expr.trim().split(/\s+/);
  if (given.length !== 5 && given.length !== 6) {
    throw new Error(
      `expected 5 or 6 fields (minute hour day-of-month month day-of-week, optionally seconds first), got ${given.length}`,
    );
  }
  const offset = given.length === 5 ? 1 : 0;
  const expanded = given.map((raw, i) => expandHashField(raw, i + offset, seedName));
  const six = offset === 1 ? ['0', ...expanded] : expanded;
  try {
    return { parsed: parseCronShared(six, tz), expanded: expanded.join(' ') };
  } catch (error) {
    const reason = (error as Error).message;
    // Re-parse each field alone (others "*") to point at the culprit; combinations such as
    // "31 2" (Feb 31st) only fail together and keep cron-parser's message.
    for (let i = 0; i < six.length; i++) {
      const probe = six.map((value, j) => (j === i ? value : '*'));
      try {
        parseCron(probe, 'UTC');
      } catch (fieldError) {
        const raw = given[i - offset] ?? six[i];
        throw new Error(`${FIELDS[i].name} field "${raw}": ${(fieldError as Error).message}`);
      }
    }
    throw new Error(reason);
  }
}

function everySchedule(expr: string, body: string): Schedule {
  let interval: number;
  try {
    interval = parseDuration(body);
  } catch (error) {
    throw new Error(`invalid cron expression "${expr}": ${(error as Error).message}`);
  }
  if (interval < 1000 || interval % 1000 !== 0) {
    throw new Error(`invalid cron expression "${expr}": @every needs whole seconds, at least 1s`);
  }
  const text = `every ${formatDuration(interval)}`;
  return {
    // Multiples of the interval since the Unix epoch: every node agrees without shared state.
    next: (afterMs) => (Math.floor(afterMs / interval) + 1) * interval,
    describe: () => text,
  };
}

function cronSchedule(expr: string, tz: string, seedName: string): Schedule {
  const tzProblem = checkTimeZone(tz);
  if (tzProblem) throw new Error(tzProblem);
  const trimmed = expr.trim();
  if (trimmed === '') throw new Error('empty cron expression; e.g. "0 2 * * *" or "@daily"');
  if (trimmed.startsWith('@every')) {
    const body = trimmed.slice('@every'.length).trim();
    if (body === '' || !/^\s/.test(trimmed.slice('@every'.length))) {
      throw new Error(
        `invalid cron expression "${expr}": write @every followed by a duration, e.g. "@every 10s"`,
      );
    }
    return everySchedule(expr, body);
  }
  let fieldsText = trimmed;
  if (trimmed.startsWith('@')) {
    const macro = MACROS[trimmed];
    if (trimmed === '@reboot') {
      throw new Error(
        '@reboot is not supported: Peppercorn has no boot event; use a once job and trigger it',
      );
    }
    if (macro === undefined) {
      const known = [...Object.keys(MACROS), '@every <duration>'].join(', ');
      throw new Error(`unknown macro "${trimmed}"; use one of ${known}`);
    }
    fieldsText = macro;
  }
  let compiled: { parsed: SharedCron; expanded: string };
  try {
    compiled = compileCronFields(fieldsText, tz, seedName);
  } catch (error) {
    throw new Error(`invalid cron expression "${expr}": ${(error as Error).message}`);
  }
  const { parsed, expanded } = compiled;
  const shown = expanded === trimmed || trimmed.startsWith('@') ? trimmed : `${trimmed} [${expanded}]`;
  const text = `cron ${shown} (${tz})`;
  // The last answer covers every query in [windowStart, windowEnd): repeated "next after now"
  // polls cost nothing, and asking for the time after the last answer continues the iterator.
  let windowStart = Infinity;
  let windowEnd: number | null = null;
  const me = {};
  return {
    next(afterMs) {
      if (afterMs >= windowStart && (windowEnd === null || afterMs < windowEnd)) return windowEnd;
      // One parsed expression, re-positioned per call: parsing is the expensive part.
      if (afterMs !== windowEnd || parsed.user !== me) parsed.expr.reset(new Date(afterMs));
      parsed.user = me;
      try {
        windowEnd = parsed.expr.next().getTime();
      } catch {
        windowEnd = null; // no further match (cron-parser gives up after its loop limit)
      }
      windowStart = afterMs;
      return windowEnd;
    },
    describe: () => text,
  };
}

/** null if `text` is an ISO 8601 time with Z or an offset that names a real instant, else a message. */
export function checkIsoInstant(text: string): string | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.exec(
    text,
  );
  const example = 'e.g. 2026-12-01T02:00:00Z or 2026-12-01T03:00:00+01:00';
  if (!match) return `"${text}" is not an ISO 8601 time with Z or an offset; ${example}`;
  const [, year, month, day, hour, minute, second] = match.map(Number);
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  // Date.parse rolls Feb 30 over into March; refuse instead of guessing.
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth || hour > 23 || minute > 59 || second > 59) {
    return `"${text}" is not a real date and time; ${example}`;
  }
  return Number.isNaN(Date.parse(text)) ? `"${text}" cannot be read as a time; ${example}` : null;
}

function onceSchedule(at: string | undefined): Schedule {
  if (at === undefined) return { next: () => null, describe: () => 'on trigger only' };
  const problem = checkIsoInstant(at);
  if (problem) throw new Error(problem);
  const when = Date.parse(at);
  const text = `once at ${new Date(when).toISOString()}`;
  return { next: (afterMs) => (when > afterMs ? when : null), describe: () => text };
}

/** Compiles a job's timing; throws an Error with a readable message if it cannot. */
export function compileSchedule(job: ScheduleSource): Schedule {
  switch (job.kind) {
    case 'cron': {
      if (typeof job.schedule !== 'string') throw new Error('a cron job needs a schedule, e.g. "0 2 * * *"');
      const base = cronSchedule(job.schedule, job.timezone ?? 'UTC', job.name);
      const offset = jitterOffsetMs(job);
      if (!offset) return base;
      // Every firing moves by the same stable offset: the job keeps its rhythm, the fleet spreads out.
      return {
        next: (afterMs) => {
          const t = base.next(afterMs - offset);
          return t === null ? null : t + offset;
        },
        describe: () => `${base.describe()} + ${formatDuration(offset)} jitter`,
      };
    }
    case 'once':
      return onceSchedule(job.at);
    case 'loop':
      // Loops restart themselves after each run; the clock never launches them.
      return { next: () => null, describe: () => 'loop' };
    default:
      throw new Error(`unknown job kind "${String(job.kind)}"; use cron, loop or once`);
  }
}

/** null if the expression is valid for the given zone and H seed, else the message. */
export function checkCronExpression(expr: string, timezone: string, seedName: string): string | null {
  try {
    compileSchedule({ name: seedName, kind: 'cron', schedule: expr, timezone });
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

/** Up to `n` firing times strictly after `fromMs`, fewer if the schedule runs out. */
export function nextTimes(job: ScheduleSource, fromMs: number, n: number): number[] {
  const schedule = compileSchedule(job);
  const times: number[] = [];
  let cursor = fromMs;
  while (times.length < n) {
    const next = schedule.next(cursor);
    if (next === null) break;
    times.push(next);
    cursor = next;
  }
  return times;
}
