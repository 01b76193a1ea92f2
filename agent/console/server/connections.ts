// connection.*: the saved clusters, testing one, and switching the cluster the console shows.
import { connect, describeEtcdError, type Cluster, type ConnectOptions } from '../../core/etcd';
import { Store } from '../../api/store';
import type { ConnectionCalls, ConnectionStatus } from '../contract';
import type { Handlers, ServerContext } from './context';
import { ClusterLive } from './live';

/** What switching clusters takes: the server's connection lifecycle. */
export interface ConnectionLifecycle {
  status(): ConnectionStatus;
  /** Connects to a saved cluster instead of the current one. */
  use(profileId: string): ConnectionStatus;
  /** A saved cluster is going away: disconnect if it is the one connected to. */
  forget(profileId: string): void;
}

export function connectionHandlers(
  ctx: ServerContext,
  lifecycle: ConnectionLifecycle,
): Handlers<ConnectionCalls> {
  return {
    'connection.status': () => lifecycle.status(),
    'connection.list': () => ctx.connections.list(),
    'connection.save': (input) => ctx.connections.save(input),
    'connection.remove': (id) => {
      lifecycle.forget(id);
      ctx.connections.remove(id);
    },
    'connection.test': async (input) => {
      let opts: ConnectOptions;
      try {
        opts = ctx.connections.optionsFor(input);
      } catch (err) {
        return { ok: false, message: (err as Error).message };
      }
      let cluster: Cluster | undefined;
      try {
        cluster = connect(opts);
        const live = new ClusterLive(cluster);
        await live.ping();
        const nodes = await new Store(cluster).listNodes();
        const alive = nodes.filter((n) => n.alive).length;
        return {
          ok: true,
          message: `connected to etcd at ${opts.endpoints.join(', ')}; ${alive} live node(s) under ${cluster.prefix}`,
        };
      } catch (err) {
        return { ok: false, message: describeEtcdError(err, opts.endpoints) };
      } finally {
        cluster?.close();
      }
    },
    'connection.use': (id) => lifecycle.use(id),
  };
}
