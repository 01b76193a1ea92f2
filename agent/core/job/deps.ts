// Dependencies between jobs: a job with `after` runs once each time all of its
// parents have completed a newer run that meets their condition (an AND-join).
// Such a job has no clock of its own: it is kind `once` without `at`.
import { JOB_NAME_RE } from './shape';

export type Condition = 'success' | 'failure' | 'always';

export interface Dependency {
  job: string;
  condition: Condition;
}

export const CONDITIONS: readonly Condition[] = ['success', 'failure', 'always'];

type Fail = (field: string, message: string) => void;

/** Validates `after` (and the shorthand `condition` for all parents); returns the normal form. */
export function validateAfter(
  input: Record<string, unknown>,
  kind: string | undefined,
  name: string | undefined,
  fail: Fail,
): Dependency[] | undefined {
  if (input.after === undefined) {
    if (input.condition !== undefined)
      fail('condition', 'only with after: the condition its parents must meet');
    return undefined;
  }
  if (kind !== undefined && (kind !== 'once' || input.at !== undefined)) {
    fail('after', 'a job that runs after others has no clock of its own: use kind once without at');
  }
  let fallback: Condition = 'success';
  if (input.condition !== undefined) {
    if (typeof input.condition === 'string' && (CONDITIONS as readonly string[]).includes(input.condition))
      fallback = input.condition as Condition;
    else
      fail(
        'condition',
        `${JSON.stringify(input.condition)} is not a condition; use success, failure or always`,
      );
  }
  const list = typeof input.after === 'string' ? [input.after] : input.after;
  if (!Array.isArray(list) || list.length === 0) {
    fail(
      'after',
      'a list of job names, e.g. [extract, transform], or [{ job: extract, condition: failure }]',
    );
    return undefined;
  }
  const out: Dependency[] = [];
  list.forEach((item, i) => {
    const field = `after[${i}]`;
    let job: unknown = item;
    let condition: unknown = fallback;
    if (typeof item === 'object' && item !== null && !Array.isArray(item)) {
      const m = item as Record<string, unknown>;
      for (const k of Object.keys(m))
        if (k !== 'job' && k !== 'condition') fail(`${field}.${k}`, 'unknown field; use job and condition');
      job = m.job;
      condition = m.condition ?? fallback;
    }
    if (typeof job !== 'string' || !JOB_NAME_RE.test(job)) {
      fail(field, `${JSON.stringify(job)} is not a job name`);
      return;
    }
    if (job === name) fail(field, 'a job cannot run after itself');
    if (typeof condition !== 'string' || !(CONDITIONS as readonly string[]).includes(condition)) {
      fail(
        `${field}.condition`,
        `${JSON.stringify(condition)} is not a condition; use success, failure or always`,
      );
      return;
    }
    if (out.some((d) => d.job === job)) fail(field, `"${job}" is listed twice`);
    out.push({ job, condition: condition as Condition });
  });
  return out;
}

export function conditionMet(condition: Condition, status: string): boolean {
  if (condition === 'always') return status === 'succeeded' || status === 'failed' || status === 'timeout';
  if (condition === 'success') return status === 'succeeded';
  return status === 'failed' || status === 'timeout';
}

/** A dependency cycle among the jobs, spelled out (a → b → a), or null. */
export function findCycle(jobs: { name: string; after?: Dependency[] }[]): string[] | null {
  const parents = new Map(jobs.map((j) => [j.name, (j.after ?? []).map((d) => d.job)]));
  const state = new Map<string, 'visiting' | 'done'>();
  const path: string[] = [];
  const visit = (name: string): string[] | null => {
    if (state.get(name) === 'done') return null;
    if (state.get(name) === 'visiting') return [...path.slice(path.indexOf(name)), name];
    state.set(name, 'visiting');
    path.push(name);
    for (const p of parents.get(name) ?? []) {
      const c = visit(p);
      if (c) return c;
    }
    path.pop();
    state.set(name, 'done');
    return null;
  };
  for (const j of [...parents.keys()].sort()) {
    const c = visit(j);
    // Parents point backwards; print the cycle in the order things run.
    if (c) return c.reverse();
  }
  return null;
}

/** The dependency graph as text: each root with the jobs that run after it, indented. */
export function renderGraph(jobs: { name: string; after?: Dependency[] }[], only?: string): string {
  const children = new Map<string, { job: string; condition: Condition }[]>();
  const names = new Set(jobs.map((j) => j.name));
  for (const j of jobs)
    for (const d of j.after ?? []) {
      const list = children.get(d.job) ?? [];
      list.push({ job: j.name, condition: d.condition });
      children.set(d.job, list);
    }
  const parentsOf = new Map(jobs.map((j) => [j.name, (j.after ?? []).map((d) => d.job)]));
  const lines: string[] = [];
  const walk = (
    name: string,
    prefix: string,
    last: boolean,
    depth: number,
    how?: string,
    seen = new Set<string>(),
  ) => {
    const others =
      (parentsOf.get(name) ?? []).length > 1 ? ` (and-join: after ${parentsOf.get(name)!.join(', ')})` : '';
    const missing = names.has(name) ? '' : ' (no such job)';
    const label = `${name}${how ? ` [on ${how}]` : ''}${others}${missing}`;
    lines.push(depth === 0 ? label : `${prefix}${last ? '└── ' : '├── '}${label}`);
    if (seen.has(name)) return;
    const kids = (children.get(name) ?? []).sort((a, b) => (a.job < b.job ? -1 : 1));
    kids.forEach((k, i) =>
      walk(
        k.job,
        depth === 0 ? '' : prefix + (last ? '    ' : '│   '),
        i === kids.length - 1,
        depth + 1,
        k.condition,
        new Set([...seen, name]),
      ),
    );
  };
  let roots: string[];
  if (only) {
    // The ancestors' roots of `only`, so its whole chain shows.
    const up = new Set<string>();
    const climb = (n: string) => {
      const ps = parentsOf.get(n) ?? [];
      if (ps.length === 0) up.add(n);
      for (const p of ps) climb(p);
    };
    climb(only);
    roots = [...up].sort();
  } else {
    roots = [
      ...new Set([...jobs.filter((j) => !(j.after ?? []).length && children.has(j.name)).map((j) => j.name)]),
    ].sort();
  }
  for (const r of roots) walk(r, '', true, 0);
  return lines.join('\n');
}
