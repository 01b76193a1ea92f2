// The contract's cluster picture: what cluster.watch streams (a snapshot, then deltas).
import type { ConnectionStatus } from './connections';
import type { JobRow } from './jobs';
import type { ActiveRun, NodeInfo } from './nodes';
import type { RunInfo, RunStatus } from './runs';
import type { ArgType } from './args';

export interface ClusterSnapshot {
  kind?: 'snapshot';
  connection: ConnectionStatus;
  revision: number;
  nodes: NodeInfo[];
  jobs: JobRow[];
  running: ActiveRun[];
  recentFailures: RunInfo[];
  /** Runs that ended in the last 24 hours, by outcome. */
  outcomes: Partial<Record<RunStatus, number>>;
  warnings: string[];
}

/**
 * What changed since the previous event of the same stream: rows changed (added or
 * updated) and removed by id, small parts whole. Applied by applyClusterEvent.
 */
export interface ClusterDelta {
  kind: 'delta';
  revision?: number;
  connection?: ConnectionStatus;
  nodes?: RowChanges<NodeInfo>;
  jobs?: RowChanges<JobRow>;
  running?: RowChanges<ActiveRun>;
  recentFailures?: RunInfo[];
  outcomes?: Partial<Record<RunStatus, number>>;
  warnings?: string[];
}

/** Removals apply first: an id both removed and changed ends up present, as changed. */
export interface RowChanges<T> {
  changed: T[];
  removed: string[];
}

/** cluster.watch sends a full snapshot first (and after switching clusters), then deltas. */
export type ClusterEvent = ClusterSnapshot | ClusterDelta;

export interface ClusterStreams {
  'cluster.watch': { args: []; event: ClusterEvent };
}

export const clusterStreamArgs: { [K in keyof ClusterStreams]: ArgType[] } = {
  'cluster.watch': [],
};
