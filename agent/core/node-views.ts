// What an operator sees of each node — alive or not, leader, jobs owned, runs in
// flight, cordon — derived from the raw entries. One definition, used by the CLI
// (a one-off read) and the console (live mirrors).
import { keys } from './keys';
import type { Entry } from './mirror';
import {
  decodeOr,
  type ActiveEntry,
  type Assignment,
  type CordonRecord,
  type CorruptValueError,
  type LeaderRecord,
  type NodeRecord,
} from './records';

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

export interface NodeSources {
  members: Iterable<Entry>;
  nodes: Iterable<Entry>;
  leader: Entry | undefined;
  active: Iterable<Entry>;
  assignments: Iterable<Entry>;
  cordons: Iterable<Entry>;
}

export function nodeViews(src: NodeSources, warn: (err: CorruptValueError) => void): NodeView[] {
  const cordonOf = new Map<string, CordonRecord['mode']>();
  for (const e of src.cordons) {
    const c = decodeOr<CordonRecord>('cordon', e.key, e.value, warn);
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
    const rec = decodeOr<NodeRecord>('node', e.key, e.value, warn);
    if (rec) put(rec, false, 0);
  }
  for (const e of src.nodes) {
    const rec = decodeOr<NodeRecord>('node', e.key, e.value, warn);
    if (rec) put(rec, true, e.createRevision);
  }
  for (const e of src.active) {
    const ref = keys.activeParse(e.key);
    const entry = decodeOr<ActiveEntry>('active', e.key, e.value, warn);
    const v = ref && views.get(ref.node);
    if (v && entry && entry.epoch === v.epoch) v.running++;
  }
  for (const e of src.assignments) {
    const a = decodeOr<Assignment>('assignment', e.key, e.value, warn);
    const v = a && views.get(a.node);
    if (v && a.epoch === v.epoch) v.jobs++;
  }
  return [...views.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
}
