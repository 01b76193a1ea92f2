// What an operator sees of each node — alive or not, leader, jobs owned, runs in
// flight, cordon — derived from the raw entries. One definition, used by the CLI
// (a one-off read) and the console (live mirrors).
import { keys } from '../core/keys';
import {
  decodeOr,
  type ActiveEntry,
  type Assignment,
  type CordonRecord,
  type CorruptValueError,
  type LeaderRecord,
  type NodeRecord,
  type RecordKind,
} from '../core/records';

export interface NodeView {
  id: string;
  alive: boolean;
  leader: boolean;
  epoch: number;
  hostname: string;
  labels: Record<string, string>;
  capacity: number;
  running: number;
  jobs: number;
  startedAt: number;
  /** Shutting down. */
  draining: boolean;
  /** An operator's cordon or drain, if any. */
  cordon: 'cordon' | 'drain' | null;
}

/** What node views read of a key (a mirror's Entry, or a fresh read's); no etcd types here,
 * so the console's contract can import NodeView without pulling etcd or Node into the renderer. */
export interface NodeEntry {
  key: string;
  value: Uint8Array | string;
  createRevision: number;
}

/** A run in flight, as its node's active entry tells it. */
export interface RunInFlight {
  runId: string;
  job: string;
  node: string;
  since: number;
}

export interface NodeSources {
  members: Iterable<NodeEntry>;
  nodes: Iterable<NodeEntry>;
  leader: NodeEntry | undefined;
  active: Iterable<NodeEntry>;
  assignments: Iterable<NodeEntry>;
  cordons: Iterable<NodeEntry>;
}

/**
 * Decoded values by entry object. A live mirror keeps an entry's object until its key changes,
 * so the console, which recomputes the views at every run start and end, does not parse
 * every assignment again; a one-off read's fresh entries are simply collected.
 */
const decoded = new WeakMap<NodeEntry, unknown>();

function dec<T>(kind: RecordKind, e: NodeEntry, warn: (err: CorruptValueError) => void): T | undefined {
  if (decoded.has(e)) return decoded.get(e) as T;
  const v = decodeOr<T>(kind, e.key, e.value, warn);
  // Corrupt values are not cached: they are reported every time.
  if (v !== undefined) decoded.set(e, v);
  return v;
}

export function nodeViews(src: NodeSources, warn: (err: CorruptValueError) => void): NodeView[] {
  const cordonOf = new Map<string, CordonRecord['mode']>();
  for (const e of src.cordons) {
    const c = dec<CordonRecord>('cordon', e, warn);
    if (c) cordonOf.set(keys.cordonNode(e.key), c.mode);
  }
  const lead = src.leader && decodeOr<LeaderRecord>('leader', keys.leader, src.leader.value, warn);
  const views = new Map<string, NodeView>();
  const put = (rec: NodeRecord, alive: boolean, epoch: number) =>
    views.set(rec.id, {
      id: rec.id,
      alive,
      leader: alive && !!lead && lead.node === rec.id && lead.epoch === epoch,
      epoch,
      hostname: rec.hostname,
      labels: rec.labels,
      capacity: rec.capacity,
      running: 0,
      jobs: 0,
      startedAt: rec.startedAt,
      draining: !!rec.draining,
      cordon: cordonOf.get(rec.id) ?? null,
    });
  // Members first: a live node's record (with its epoch) replaces its last known one.
  for (const e of src.members) {
    const rec = dec<NodeRecord>('node', e, warn);
    if (rec) put(rec, false, 0);
  }
  for (const e of src.nodes) {
    const rec = dec<NodeRecord>('node', e, warn);
    if (rec) put(rec, true, e.createRevision);
  }
  for (const e of src.active) {
    const ref = keys.activeParse(e.key);
    const entry = dec<ActiveEntry>('active', e, warn);
    const v = ref && views.get(ref.node);
    if (v && entry && entry.epoch === v.epoch) v.running++;
  }
  for (const e of src.assignments) {
    const a = dec<Assignment>('assignment', e, warn);
    const v = a && views.get(a.node);
    if (v && a.epoch === v.epoch) v.jobs++;
  }
  return [...views.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
}
