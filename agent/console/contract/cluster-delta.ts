// How the console's picture of the cluster follows the cluster.watch stream: a snapshot
// replaces it, a delta patches it. Pure (type imports only), so the renderer uses it and
// tests check it in Node.
import type { ClusterEvent, ClusterSnapshot, RowChanges } from './cluster';

const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export function applyClusterEvent(prev: ClusterSnapshot | null, ev: ClusterEvent): ClusterSnapshot | null {
  if (ev.kind !== 'delta') return ev;
  // A delta patches the snapshot it follows; the stream always starts with one.
  if (!prev) return prev;
  const next: ClusterSnapshot = { ...prev };
  if (ev.revision !== undefined) next.revision = ev.revision;
  if (ev.connection) next.connection = ev.connection;
  if (ev.nodes)
    next.nodes = patch(
      prev.nodes,
      ev.nodes,
      (n) => n.id,
      (a, b) => byText(a.id, b.id),
    );
  if (ev.jobs)
    next.jobs = patch(
      prev.jobs,
      ev.jobs,
      (j) => j.name,
      (a, b) => byText(a.name, b.name),
    );
  if (ev.running)
    next.running = patch(
      prev.running,
      ev.running,
      (r) => r.runId,
      (a, b) => b.since - a.since,
    );
  if (ev.recentFailures) next.recentFailures = ev.recentFailures;
  if (ev.outcomes) next.outcomes = ev.outcomes;
  if (ev.warnings) next.warnings = ev.warnings;
  return next;
}

/** Removed rows go, changed rows replace theirs in place; new rows are added and the list sorted. */
export function patch<T>(
  list: T[],
  changes: RowChanges<T>,
  id: (row: T) => string,
  order: (a: T, b: T) => number,
): T[] {
  const removed = new Set(changes.removed);
  const changed = new Map(changes.changed.map((row) => [id(row), row]));
  const out: T[] = [];
  for (const row of list) {
    const key = id(row);
    const update = changed.get(key);
    if (update !== undefined) {
      out.push(update);
      changed.delete(key);
    } else if (!removed.has(key)) out.push(row);
  }
  if (changed.size > 0) {
    out.push(...changed.values());
    out.sort(order);
  }
  return out;
}
