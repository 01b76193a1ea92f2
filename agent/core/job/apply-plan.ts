// What `job apply` will do, decided from what is stored and `now` (pure), and how the
// writes are split into etcd transactions. etcd takes at most 128 operations (and 128
// compares) per transaction: a plan that fits is applied in one; a larger one is staged and
// committed at once (staged-apply.ts, split by job/apply-parts.ts). Either way all or nothing.
import type { Cursor } from '../records';
import { canonicalJob, type JobSpec } from './spec';

/** etcd's default --max-txn-ops; it bounds compares and operations alike. */
export const MAX_TXN_OPS = 128;

/** What a removal deletes: the job, its cursor, assignment, runs, triggers and completion. */
export const PRUNE_OPS = 6;

export type ApplyResult = 'created' | 'updated' | 'unchanged' | 'pruned';

export interface StoredJob {
  /** undefined: no job (only a cursor tombstone left by `job rm`), or a corrupt value (replaced). */
  spec?: JobSpec;
  /** 0: no job key. */
  modRevision: number;
  cursor?: Cursor;
  cursorRevision: number;
}

export interface JobChange {
  name: string;
  result: ApplyResult;
  /** The spec from the file (all but pruned); stored when created/updated. */
  spec?: JobSpec;
  /** The stored spec before (updated/unchanged/pruned). */
  before?: JobSpec;
  /** A new cursor to write with it (new job, or its timing changed). */
  cursor?: Cursor;
  /** Pruned: the cursor kept (on a lease) as a tombstone, so a job re-created later starts after it. */
  tombstone?: Cursor;
  /** Revisions compared in the transaction: the job key, and the cursor key when it is written. */
  jobRevision: number;
  cursorRevision?: number;
}

const timing = (j: JobSpec) => JSON.stringify([j.kind, j.schedule, j.timezone, j.at, j.times]);

/**
 * The change per job, in file order, then the prunes. A new job, and a job whose timing
 * changes, starts from `now` (earlier times are not "missed"); loop counts restart with a
 * new `times`.
 */
export function planApply(
  incoming: JobSpec[],
  stored: Map<string, StoredJob>,
  now: number,
  prune: string[] = [],
): JobChange[] {
  const out: JobChange[] = incoming.map((job) => {
    const s = stored.get(job.name);
    const old = s?.spec;
    const exists = !!s && s.modRevision > 0;
    if (s && old && canonicalJob(old) === canonicalJob(job))
      return { name: job.name, result: 'unchanged', spec: job, before: old, jobRevision: s.modRevision };
    const c = s?.cursor;
    const change: JobChange = {
      name: job.name,
      result: exists ? 'updated' : 'created',
      spec: job,
      before: old,
      jobRevision: s?.modRevision ?? 0,
    };
    if (!old || timing(old) !== timing(job) || !c) {
      // A tombstone left by `job rm` (a cursor without a job) keeps its t: a re-created job
      // starts after every time the old incarnation may have claimed.
      change.cursor = {
        t: Math.max(now, c?.t ?? 0),
        n: old && old.kind === job.kind && old.times === job.times ? c?.n : 0,
      };
      change.cursorRevision = s?.cursorRevision ?? 0;
    }
    return change;
  });
  for (const name of prune) {
    const s = stored.get(name);
    if (s && s.modRevision > 0)
      out.push({
        name,
        result: 'pruned',
        before: s.spec,
        jobRevision: s.modRevision,
        tombstone: { t: Math.max(now, s.cursor?.t ?? 0), removedAt: now },
      });
  }
  return out;
}

/** Operations and compares a change takes in a transaction (each change also appends to its audit trail). */
export function costOf(c: JobChange): { ops: number; compares: number } {
  switch (c.result) {
    case 'unchanged':
      return { ops: 0, compares: 1 };
    case 'pruned':
      return { ops: PRUNE_OPS + 1, compares: 2 };
    default:
      return c.cursor ? { ops: 3, compares: 3 } : { ops: 2, compares: 2 };
  }
}

/** Splits changes into transactions of at most MAX_TXN_OPS operations and compares each. */
export function batches(changes: JobChange[], max = MAX_TXN_OPS): JobChange[][] {
  return packTxns(changes, costOf, max);
}

/**
 * Groups items into transactions in order, each within `max` operations and `max` compares
 * (etcd's limit); pure. An item marked `alone`, or too large to share, is a group of its own
 * and leaves the group being filled open.
 */
export function packTxns<T>(
  items: T[],
  cost: (item: T) => { ops: number; compares: number; alone?: boolean },
  max = MAX_TXN_OPS,
): T[][] {
  const out: T[][] = [];
  let cur: T[] = [];
  let ops = 0;
  let compares = 0;
  for (const item of items) {
    const c = cost(item);
    if (c.alone || c.ops > max || c.compares > max) {
      out.push([item]);
      continue;
    }
    if (cur.length && (ops + c.ops > max || compares + c.compares > max)) {
      out.push(cur);
      cur = [];
      ops = 0;
      compares = 0;
    }
    cur.push(item);
    ops += c.ops;
    compares += c.compares;
  }
  if (cur.length) out.push(cur);
  return out;
}

/** Job names carrying every label of `selector` (for `apply --prune -l`). */
export function matchesLabels(job: JobSpec, selector: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => job.labels?.[k] === v);
}
