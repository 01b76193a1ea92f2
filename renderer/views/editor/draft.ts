// The editor's draft is the job input itself (what `jobs.apply` receives), not a copy in
// form-shaped strings: a field the user does not touch is sent exactly as it was loaded,
// so a stored spec opened and saved unchanged is stored unchanged. Controls read and write
// one path of it; every check is the services' validateJob (the CLI's schema).
import type { FieldError } from '../../../agent/console/contract';

export type Draft = Record<string, unknown>;
export type Kind = 'cron' | 'loop' | 'once';

export const isMap = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Fields that mean something only for some kinds; the validator refuses them elsewhere. */
const ONLY_FOR: Record<string, Kind[]> = {
  schedule: ['cron'],
  jitter: ['cron'],
  times: ['loop'],
  delay: ['loop'],
  at: ['once'],
  after: ['once'],
  condition: ['once'],
  misfire: ['cron', 'once'],
  overlap: ['cron', 'once'],
};

/** Every top-level field the form has a control for (the rest is shown with its error). */
export const FORM_FIELDS = new Set([
  'name',
  'kind',
  'description',
  'timezone',
  'command',
  'env',
  'workdir',
  'user',
  'timeout',
  'selector',
  'labels',
  'policy',
  'paused',
  'retries',
  'concurrency',
  'mutex',
  'resources',
  'alerts',
  'image',
  'pull',
  'volumes',
  'network',
  'limits',
  ...Object.keys(ONLY_FOR),
]);

export function kindOf(d: Draft): Kind {
  return d.kind === 'loop' || d.kind === 'once' ? d.kind : 'cron';
}

/** A field gets a control when its kind uses it, or when it is set anyway (so its error shows there). */
export function shown(d: Draft, field: string): boolean {
  const kinds = ONLY_FOR[field];
  return !kinds || kinds.includes(kindOf(d)) || d[field] !== undefined;
}

/** Sets one top-level field; undefined removes it. */
export function withField(d: Draft, field: string, value: unknown): Draft {
  const next = { ...d };
  if (value === undefined) delete next[field];
  else next[field] = value;
  return next;
}

/** Sets a key of a map-valued field (retries, misfire, alerts); an emptied map removes the field. */
export function withSub(d: Draft, field: string, key: string, value: unknown, base: Draft = {}): Draft {
  const sub: Draft = { ...(isMap(d[field]) ? d[field] : base) };
  if (value === undefined) delete sub[key];
  else sub[key] = value;
  return withField(d, field, Object.keys(sub).length ? sub : undefined);
}

/**
 * Changing kind moves the fields the new kind cannot take aside (into `stash`) and brings
 * back what was set aside for it, so trying another kind loses nothing.
 */
export function switchKind(d: Draft, kind: Kind, stash: Draft): Draft {
  const next: Draft = { ...d, kind };
  for (const [field, kinds] of Object.entries(ONLY_FOR)) {
    if (kinds.includes(kind)) {
      if (next[field] === undefined && stash[field] !== undefined) next[field] = stash[field];
      delete stash[field];
    } else if (next[field] !== undefined) {
      stash[field] = next[field];
      delete next[field];
    }
  }
  return next;
}

/** Text of a scalar as typed or loaded (a number where text belongs is shown, and refused by the check). */
export function textOf(v: unknown): string {
  if (v === undefined || v === null) return '';
  return typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
}

/** What a text box sends: nothing when empty, else the text exactly (the check reports stray spaces). */
export const fromText = (s: string): string | undefined => (s === '' ? undefined : s);

/** A number box sends a number when it reads as one, else the text, for the check to explain. */
export function fromNumber(s: string): number | string | undefined {
  if (s.trim() === '') return undefined;
  return /^\s*-?\d+(\.\d+)?\s*$/.test(s) ? Number(s) : s;
}

/**
 * `KEY=value` lines for env, selector and resources. A value that would not survive one line
 * (a newline, or a leading quote) is written as a JSON string, and read back the same way.
 */
export function pairsText(v: unknown): string {
  if (!isMap(v)) return textOf(v);
  return Object.entries(v)
    .map(([k, x]) => {
      const s = textOf(x);
      return `${k}=${typeof x === 'string' && (s.includes('\n') || s.startsWith('"')) ? JSON.stringify(s) : s}`;
    })
    .join('\n');
}

export function parsePairs(
  text: string,
  numbers = false,
): { value?: Record<string, unknown>; error?: string } {
  const out: Record<string, unknown> = {};
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const i = line.indexOf('=');
    if (i <= 0 || line.slice(0, i).trim() === '') return { error: `"${line.trim()}" is not KEY=value` };
    const key = line.slice(0, i).trim();
    let value: unknown = line.slice(i + 1);
    if (typeof value === 'string' && value.startsWith('"')) {
      try {
        value = JSON.parse(value);
      } catch {
        return { error: `${key}: a value starting with " must be a complete JSON string` };
      }
    } else if (numbers) value = fromNumber(value as string) ?? '';
    if (key in out) return { error: `${key} is listed twice` };
    out[key] = value;
  }
  return { value: Object.keys(out).length ? out : undefined };
}

/** The validator's errors by path ("retries.count", "env.HOME", "after[0]"). */
export class Errors {
  constructor(readonly list: FieldError[]) {}

  /** Errors at `path` or below it, except those under `except` (shown by their own controls). */
  at(path: string, except: string[] = []): string[] {
    const under = (f: string, p: string) => f === p || f.startsWith(p + '.') || f.startsWith(p + '[');
    return this.list
      .filter((e) => under(e.field, path) && !except.some((x) => under(e.field, x)))
      .map((e) =>
        e.field === path ? e.message : `${e.field.slice(path.length).replace(/^\./, '')}: ${e.message}`,
      );
  }

  /** Errors of fields that have no control on screen (unknown fields, fields of another kind…). */
  orphans(draft: Draft): FieldError[] {
    return this.list.filter((e) => {
      const top = e.field.split(/[.[]/)[0];
      return !(FORM_FIELDS.has(top) && shown(draft, top));
    });
  }
}
