// What the server gives each feature's handlers: the saved clusters and the one connected to.
import type { Cluster } from '../../core/etcd';
import type { Store } from '../../api/store';
import type { ClusterLive } from './live';
import type { ConnectionStore } from './connection-store';

/** The cluster the console is connected to. */
export interface Active {
  profileId: string;
  cluster: Cluster;
  store: Store;
  live: ClusterLive;
  ping: NodeJS.Timeout;
}

export interface ServerContext {
  readonly connections: ConnectionStore;
  /** The cluster connected to, if any. */
  readonly active: Active | undefined;
  /** The cluster connected to; throws an error that says to pick one when there is none. */
  need(): Active;
}

/** A feature's handlers: one per call of its part of the contract, sync or async. */
export type Handlers<C> = {
  [K in keyof C]: C[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<R> | R : never;
};
