// The values Peppercorn keeps in etcd, and their decoding. A value that does not
// decode (hand-edited, truncated, from a future version) is reported with its key
// and skipped by the caller: a corrupt record must never stop a node or the leader.
import type { PublishedPolicy } from './node-policy';
// It is reported once per key revision (the mirrors keep one buffer per revision).
import { validateJob, type JobSpec } from './job/spec';

export interface NodeRecord {
  id: string;
  hostname: string;
  pid: number;
  labels: Record<string, string>;
  capacity: number;
  startedAt: number;
  version: string;
  /** Set while the agent shuts down: the leader moves its jobs away. */
  draining?: boolean;
  /** In members/ only: when the node left on purpose (graceful shutdown). */
  leftAt?: number;
  /** What this node will run (absent: everything); see node-policy.ts. */
  policy?: PublishedPolicy;
  /** Key ids whose signatures this node requires (absent: unsigned specs run). */
  trustedKeys?: string[];
}

export interface LeaderRecord {
  node: string;
  /** The leader node's epoch (create revision of its node key). */
  epoch: number;
  since: number;
}

/** Rewritten by the leader every few seconds: a leader elected after a gap knows since when there was none. */
export interface LeaderBeat {
  node: string;
  at: number;
  /** The leader stepped down on purpose (graceful shutdown): what follows is no outage. */
  stopped?: boolean;
}

export interface Assignment {
  node: string;
  /** The owner's epoch: a node that restarts under the same id does not inherit its old jobs' claims. */
  epoch: number;
  since: number;
  /** Leader node that wrote it. */
  by: string;
  /** Why the job is here: new job, previous node gone, drained, rebalanced... */
  reason?: string;
  /** Earlier owners, oldest first (at most ASSIGNMENT_HISTORY). */
  history?: { node: string; epoch: number; at: number; reason: string }[];
  /**
   * Another live node that claims a time the owner left unclaimed a moment after it was
   * due (leader/standby.ts): failover without waiting for the owner's lease to expire. The
   * cursor's compare-and-set decides who launches, so a time still launches once.
   */
  standby?: { node: string; epoch: number };
}

export const ASSIGNMENT_HISTORY = 20;

export interface Cursor {
  /** The latest scheduled time (ms) already accounted for: claimed or recorded as skipped. */
  t: number;
  /** Loop jobs: iterations claimed so far. */
  n?: number;
  /** Jobs with `after`: the parent runs already used to release a run (parent → run id). */
  consumed?: Record<string, string>;
  /**
   * The incarnation (JobSpec.uid) this cursor belongs to. `job rm` keeps the cursor as a
   * tombstone (`removedAt`), so a job re-created under the same name starts after every
   * time the old one may have claimed, and never launches one of them again.
   */
  uid?: string;
  removedAt?: number;
}

/**
 * A job's latest completed run, written in the same transaction as its outcome:
 * children (`after`) compare it in their claim, and the alert rules read the streak
 * and the last success from it (carried forward from the previous value).
 */
export interface DepRecord {
  run: string;
  status: RunStatus;
  endedAt: number;
  /** Completed runs in a row, up to this one, that did not succeed (0 after a success). */
  failures?: number;
  /** When the job last succeeded (ms), if it ever did. */
  lastSuccessAt?: number;
  /** When a run of the job last ended without success (ms), if one ever did. */
  lastFailureAt?: number;
}

/** What raised an alert. Run rules come from the job (or cluster defaults); the rest from the leader. */
export type AlertRule =
  | 'failure'
  | 'timeout'
  | 'lost'
  | 'missed'
  | 'consecutive-failures'
  | 'deadman'
  | 'node-down'
  | 'no-leader'
  | 'etcd-unwritable'
  | 'clock-skew'
  | 'newer-format'
  /** A node refused to run a job: its spec is not signed by a trusted key, or the node's policy refuses it. */
  | 'refused';

/** One notification of one channel: the alert opening, or its resolution. */
export interface Delivery {
  channel: string;
  event: 'open' | 'resolved';
  /** `sending` left behind by a dead leader means "outcome unknown": sent again, same idempotency key. */
  state: 'pending' | 'sending' | 'delivered' | 'failed';
  attempts: number;
  /** Not to be tried before (retry backoff). */
  nextAt?: number;
  lastError?: string;
  /** When it was delivered, or finally given up. */
  doneAt?: number;
  /** The leader node that sent it last. */
  by?: string;
}

/**
 * An alert. Its id is derived from what caused it (a run id, a node epoch...) so that
 * whoever raises it twice raises the same key; it is the idempotency key receivers see.
 */
export interface AlertRecord {
  id: string;
  rule: AlertRule;
  job?: string;
  node?: string;
  run?: string;
  summary: string;
  openedAt: number;
  state: 'open' | 'resolved';
  resolvedAt?: number;
  resolution?: string;
  /** Where it goes, fixed when raised; and whether its resolution is notified too. */
  channels: string[];
  notifyResolved: boolean;
  /** Keyed `<event>:<channel>`. */
  deliveries: Record<string, Delivery>;
}

export type RunStatus = 'running' | 'succeeded' | 'failed' | 'timeout' | 'lost' | 'skipped';
export const FINAL_STATUSES: readonly RunStatus[] = ['succeeded', 'failed', 'timeout', 'lost', 'skipped'];

export type RunCause = 'schedule' | 'manual' | 'retry' | 'loop' | 'dependency';

export interface RunRecord {
  id: string;
  job: string;
  /** The node that claimed it ('' for a skipped range nobody claimed). */
  node: string;
  epoch: number;
  attempt: number;
  cause: RunCause;
  scheduledAt: number;
  claimedAt: number;
  startedAt?: number;
  endedAt?: number;
  status: RunStatus;
  exitCode?: number | null;
  signal?: string | null;
  /** Why it ended the way it did, in words: set for skipped, lost, failed-to-start, retries. */
  reason?: string;
  /** Skipped records cover a range: the last skipped time and how many times it holds. */
  until?: number;
  count?: number;
  tail?: string;
  outputBytes?: number;
  /** Semaphore slots this run holds (concurrency, mutex, resources). */
  holds?: string[];
  /** For runs released by their parents: the parent runs that released it. */
  releasedBy?: string[];
  /** The incarnation of the job that claimed it (JobSpec.uid): a re-created job is another. */
  uid?: string;
  /** Container jobs: the image, the container's name (known at the claim) and id (known at the end). */
  image?: string;
  container?: string;
  containerId?: string;
  /** The kernel killed the run for exceeding its memory limit. */
  oomKilled?: boolean;
}

export interface ActiveEntry {
  job: string;
  epoch: number;
  since: number;
  /**
   * A single-copy run (a loop, or a holder of semaphore slots): while it is in flight on a
   * live node, the leader hands its job to no other node (see leader/assign.ts).
   */
  single?: boolean;
  /** The job's incarnation the run belongs to. */
  uid?: string;
}

/** An operator's order for a node: no new jobs (cordon), or move its jobs away as they go idle (drain). */
export interface CordonRecord {
  mode: 'cordon' | 'drain';
  by: string;
  at: number;
}

export interface TriggerRecord {
  at: number;
  by: string;
  reason: string;
  /** Not to be started before this time (retry backoff). */
  notBefore?: number;
}

/** A node's wall clock as it wrote it (clocks/<node>). */
export interface ClockReport {
  node: string;
  at: number;
}

/** The leader's finding that a node's clock is off (skews/<node>). */
export interface SkewRecord {
  /** The node's clock minus the cluster's (the median of all nodes), in ms. */
  offsetMs: number;
  since: number;
  alert: string;
}

export class CorruptValueError extends Error {
  constructor(
    readonly key: string,
    problem: string,
  ) {
    super(`corrupt value at ${key}: ${problem}; fix or delete the key (etcdctl del ${key})`);
  }
}

/**
 * The format of the records this version writes: every value put in etcd (but run output
 * chunks, which are raw bytes) is `encode`d with `v`. A reader meets three cases: no `v` (written
 * before formats were numbered: format 1), `v` up to RECORD_FORMAT (understood), or a newer `v`
 * (written by a newer agent in a rolling upgrade): NewerFormatError, and the record is left
 * alone, never misread or overwritten. Raise RECORD_FORMAT only for a change old readers would
 * misread; adding an optional field is not one.
 */
export const RECORD_FORMAT = 1;

/** A record as stored in etcd: JSON with its format version first. */
export function encode(value: object): string {
  return JSON.stringify({ v: RECORD_FORMAT, ...value });
}

/** A record written by a newer version than this one: left alone (reported, never misread). */
export class NewerFormatError extends CorruptValueError {
  constructor(
    key: string,
    readonly format: number,
  ) {
    super(key, `format ${format}`);
    this.message =
      `record at ${key} has format v${format}, newer than this agent understands (v${RECORD_FORMAT}); ` +
      `left alone: upgrade this node (see README, Upgrades)`;
  }
}

const newerFormatListeners = new Set<(err: NewerFormatError) => void>();

/** Called whenever a decode meets a newer format (the agent logs it and raises an alert). */
export function onNewerFormat(listener: (err: NewerFormatError) => void): () => void {
  newerFormatListeners.add(listener);
  return () => newerFormatListeners.delete(listener);
}

/** Checks and removes `v`: throws NewerFormatError for a newer format, CorruptValueError for a bad one. */
export function checkFormat(key: string, obj: Record<string, unknown>): void {
  const v = obj.v;
  if (v === undefined) return;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1)
    throw new CorruptValueError(key, 'field "v" (the format version) should be a whole number from 1');
  if (v > RECORD_FORMAT) {
    const err = new NewerFormatError(key, v);
    for (const l of newerFormatListeners) l(err);
    throw err;
  }
  delete obj.v;
}

type Shape = Record<string, 'string' | 'number' | 'object' | 'boolean' | 'string?' | 'number?' | 'object?'>;

const shapes = {
  node: { id: 'string', labels: 'object', capacity: 'number', startedAt: 'number' },
  leader: { node: 'string', epoch: 'number' },
  beat: { node: 'string', at: 'number' },
  assignment: { node: 'string', epoch: 'number' },
  cursor: { t: 'number', n: 'number?' },
  run: { id: 'string', job: 'string', status: 'string', scheduledAt: 'number', attempt: 'number' },
  active: { job: 'string', epoch: 'number' },
  trigger: { at: 'number', by: 'string' },
  cordon: { mode: 'string', at: 'number' },
  dep: { run: 'string', status: 'string', endedAt: 'number' },
  alert: { id: 'string', rule: 'string', state: 'string', openedAt: 'number', deliveries: 'object' },
  job: { name: 'string', kind: 'string', command: 'string' },
  clock: { node: 'string', at: 'number' },
  skew: { offsetMs: 'number', since: 'number', alert: 'string' },
} satisfies Record<string, Shape>;

export type RecordKind = keyof typeof shapes;

/** Decodes a JSON value and checks the fields every reader relies on. Throws CorruptValueError. */
export function decode<T>(kind: RecordKind, key: string, value: Uint8Array | string): T {
  // Uint8Array (etcd's Buffers are ones), not Buffer: the console's browser code shares these types.
  const text = typeof value === 'string' ? value : new TextDecoder().decode(value);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CorruptValueError(key, `not JSON (${JSON.stringify(text.slice(0, 40))})`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new CorruptValueError(key, `expected a ${kind} object`);
  }
  const obj = parsed as Record<string, unknown>;
  checkFormat(key, obj);
  for (const [field, type] of Object.entries(shapes[kind] as Shape)) {
    const optional = type.endsWith('?');
    const want = optional ? type.slice(0, -1) : type;
    const v = obj[field];
    if (v === undefined && optional) continue;
    if (
      typeof v !== want ||
      (want === 'number' && !Number.isFinite(v)) ||
      (want === 'object' && v === null)
    ) {
      throw new CorruptValueError(key, `field "${field}" should be a ${want}`);
    }
  }
  if (kind === 'job') return decodeJobSpec(key, value, obj) as T;
  return parsed as T;
}

// Job specs are checked by the same validator as `job apply`, so every reader gets the
// shape the code relies on (defaults filled), or a CorruptValueError naming the fields.
// A hand-written value lacking an optional field must not stop the leader for everyone.
// Cached per value buffer: the mirrors keep one buffer per key revision.
const checkedJobs = new WeakMap<object, JobSpec | CorruptValueError>();

function isSignature(v: unknown): v is { key: string; sig: string } {
  const o = v as { key?: unknown; sig?: unknown } | null;
  return typeof o === 'object' && o !== null && typeof o.key === 'string' && typeof o.sig === 'string';
}

function decodeJobSpec(key: string, value: Uint8Array | string, obj: Record<string, unknown>): JobSpec {
  const hit = typeof value === 'string' ? undefined : checkedJobs.get(value);
  if (hit instanceof CorruptValueError) throw hit;
  if (hit) return { ...hit };
  const result = validateJob(obj);
  const out: JobSpec | CorruptValueError = result.ok
    ? {
        ...result.job,
        ...(typeof obj.uid === 'string' ? { uid: obj.uid } : {}),
        // Kept as stored for the nodes that check it (signing.ts); not part of the spec.
        ...(isSignature(obj.signature) ? { signature: obj.signature } : {}),
      }
    : new CorruptValueError(key, result.errors.map((e) => `${e.field}: ${e.message}`).join('; '));
  if (typeof value !== 'string') checkedJobs.set(value, out);
  if (out instanceof CorruptValueError) throw out;
  return { ...out };
}

const reported = new WeakSet<object>();

/** Like decode, but reports and returns undefined instead of throwing. */
export function decodeOr<T>(
  kind: RecordKind,
  key: string,
  value: Uint8Array | string,
  report: (err: CorruptValueError) => void,
): T | undefined {
  try {
    return decode<T>(kind, key, value);
  } catch (err) {
    if (typeof value === 'string') report(err as CorruptValueError);
    else if (!reported.has(value)) {
      reported.add(value);
      report(err as CorruptValueError);
    }
    return undefined;
  }
}
