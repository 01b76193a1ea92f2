// cluster.watch: one shared picture of the connected cluster (its ClusterLive), sent whole to a
// new watcher, then as the deltas every watcher gets.
import type { ClusterDelta, ClusterEvent, ClusterSnapshot, ConnectionStatus } from '../contract';
import type { ClusterLive, LiveDelta } from './live';
import { jobRow } from './jobs';

export function clusterSnapshot(
  connection: ConnectionStatus,
  from: ClusterLive | undefined,
): ClusterSnapshot {
  const live = from?.snapshot();
  return {
    kind: 'snapshot',
    connection,
    revision: live?.revision ?? 0,
    nodes: live?.nodes ?? [],
    jobs: (live?.jobs ?? []).map(jobRow),
    running: live?.running ?? [],
    recentFailures: live?.recentFailures ?? [],
    outcomes: live?.outcomes ?? {},
    warnings: live?.warnings ?? [],
  };
}

export function clusterDelta(d: LiveDelta): ClusterDelta {
  return {
    kind: 'delta',
    revision: d.revision,
    nodes: d.nodes,
    jobs: d.jobs && { changed: d.jobs.changed.map(jobRow), removed: d.jobs.removed },
    running: d.running,
    recentFailures: d.recentFailures,
    outcomes: d.outcomes,
    warnings: d.warnings,
  };
}

/** The cluster.watch subscribers. */
export class ClusterWatchers {
  private readonly watchers = new Set<(e: ClusterEvent) => void>();

  constructor(private readonly snapshot: () => ClusterSnapshot) {}

  /** A new watcher gets the picture whole, then every delta; returns its unsubscribe. */
  add(emit: (e: ClusterEvent) => void): () => void {
    this.watchers.add(emit);
    emit(this.snapshot());
    return () => this.watchers.delete(emit);
  }

  /** Another cluster (or none): every watcher starts again from a full picture. */
  restart(): void {
    for (const w of this.watchers) w(this.snapshot());
  }

  broadcast(ev: ClusterDelta): void {
    for (const w of this.watchers) w(ev);
  }

  clear(): void {
    this.watchers.clear();
  }
}
