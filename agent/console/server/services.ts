// The console's server: the contract's implementation, on top of agent/core and agent/api.
// Plain Node: never imports 'electron', so the web console, the desktop main process and
// tests share it. This file is the connection's lifecycle and the dispatch; each feature's
// calls are in their own module (connections, nodes, jobs, runs, alerts), the streams in
// cluster-watch.ts and logs.ts. One ClusterLive (one set of etcd watches) serves every
// cluster.watch subscriber.
import { EventEmitter } from 'node:events';
import {
  connect,
  describeEtcdError,
  readableError,
  type Cluster,
  type ConnectOptions,
} from '../../core/etcd';
import { Store } from '../../api/store';
import { permissionMessage } from '../../core/roles';
import { redactKnown } from '../../core/redact';
import {
  checkCall,
  checkStream,
  type CallName,
  type Calls,
  type ClusterSnapshot,
  type ConnectionStatus,
  type StreamArgs,
  type StreamEvent,
  type StreamName,
} from '../contract';
import { ConnectionStore } from './connection-store';
import type { Active, Handlers, ServerContext } from './context';
import { ClusterLive, type LiveDelta } from './live';
import { ClusterWatchers, clusterDelta, clusterSnapshot } from './cluster-watch';
import { followLogs } from './logs';
import { connectionHandlers } from './connections';
import { nodeHandlers } from './nodes';
import { jobHandlers } from './jobs';
import { runHandlers } from './runs';
import { alertHandlers } from './alerts';

const PING_MS = 2000;

export class ConsoleServices extends EventEmitter implements ServerContext {
  active: Active | undefined;
  private status: ConnectionStatus = {
    state: 'connecting',
    profileId: null,
    name: '',
    endpoints: [],
    prefix: '',
    since: Date.now(),
  };
  private readonly watchers = new ClusterWatchers(() => this.snapshot());
  private tick: NodeJS.Timeout | undefined;
  private readonly handlers: Handlers<Calls>;

  constructor(readonly connections: ConnectionStore) {
    super();
    this.handlers = {
      ...connectionHandlers(this, {
        status: () => this.status,
        use: (id) => this.use(id),
        forget: (id) => this.forget(id),
      }),
      ...nodeHandlers(this),
      ...jobHandlers(this),
      ...runHandlers(this),
      ...alertHandlers(this),
    };
  }

  /** Connects to the active (or first) saved cluster, if any. */
  start(): void {
    const list = this.connections.list();
    const id = list.activeId ?? list.profiles[0]?.id;
    if (id) this.use(id);
    // Next-run times and the outcome window move with the clock even when etcd is quiet.
    this.tick = setInterval(() => this.active?.live.tick(), 5000);
    this.tick.unref();
  }

  close(): void {
    clearInterval(this.tick);
    this.disconnect();
    this.watchers.clear();
  }

  // ---- transport entry points (arguments checked again here: defence in depth) ----

  async call(name: unknown, args: unknown): Promise<unknown> {
    const bad = checkCall(name, args);
    if (bad) throw new Error(bad);
    const fn = this.handlers[name as CallName] as (...a: unknown[]) => unknown;
    try {
      return await fn(...(args as unknown[]));
    } catch (err) {
      throw new Error(this.readable(err));
    }
  }

  /** Opens a stream; returns its unsubscribe. `end` is called once, with an error or not. */
  subscribe(
    name: unknown,
    args: unknown,
    emit: (event: unknown) => void,
    end: (error?: string) => void,
  ): () => void {
    const bad = checkStream(name, args);
    if (bad) {
      end(bad);
      return () => undefined;
    }
    const stream = name as StreamName;
    if (stream === 'cluster.watch')
      return this.watchers.add(emit as (e: StreamEvent<'cluster.watch'>) => void);
    const [runId, fromSeq] = args as StreamArgs<'logs.follow'>;
    let cluster: Cluster;
    try {
      cluster = this.need().cluster;
    } catch (err) {
      end((err as Error).message);
      return () => undefined;
    }
    return followLogs(
      cluster,
      runId,
      Math.max(0, Math.floor(fromSeq)),
      emit as (e: StreamEvent<'logs.follow'>) => void,
      end,
      (err) => this.readable(err),
    );
  }

  // ---- connection -----------------------------------------------------------------

  use(profileId: string): ConnectionStatus {
    const opts = this.connections.connectOptions(profileId);
    const profile = this.connections.get(profileId)!;
    this.disconnect();
    this.connections.activeId = profileId;
    this.connections.persist();
    this.setStatus({
      state: 'connecting',
      profileId,
      name: profile.name,
      endpoints: opts.endpoints,
      prefix: profile.prefix,
      since: Date.now(),
    });
    const cluster = connect(opts);
    const live = new ClusterLive(cluster);
    const active: Active = {
      profileId,
      cluster,
      store: new Store(cluster),
      live,
      ping: setInterval(() => void this.ping(active), PING_MS),
    };
    this.active = active;
    live.on('delta', (d: LiveDelta) => this.watchers.broadcast(clusterDelta(d)));
    this.watchers.restart();
    void live.start();
    void this.ping(active);
    return this.status;
  }

  /** A saved cluster is removed: if it is the one shown, show none. */
  private forget(profileId: string): void {
    if (this.active?.profileId !== profileId) return;
    this.disconnect();
    this.setStatus({
      ...this.status,
      state: 'connecting',
      profileId: null,
      error: 'no cluster selected',
    });
    this.watchers.restart();
  }

  private disconnect(): void {
    const a = this.active;
    this.active = undefined;
    if (!a) return;
    clearInterval(a.ping);
    a.live.close();
    a.cluster.close();
  }

  private async ping(a: Active): Promise<void> {
    try {
      await a.live.ping();
      if (this.active !== a) return;
      if (this.status.state !== 'connected') {
        const wasDown = this.status.state === 'unreachable';
        this.setStatus({ ...this.status, state: 'connected', error: undefined, since: Date.now() });
        // Coming back: re-list at once rather than wait for the mirrors' backoff.
        if (wasDown) void a.live.resync();
      }
    } catch (err) {
      if (this.active !== a) return;
      const error = describeEtcdError(err, a.cluster.endpoints);
      if (this.status.state !== 'unreachable' || this.status.error !== error)
        this.setStatus({
          ...this.status,
          state: 'unreachable',
          error,
          since: this.status.state === 'unreachable' ? this.status.since : Date.now(),
        });
    }
  }

  private setStatus(s: ConnectionStatus): void {
    this.status = s;
    this.emit('status', s);
    this.watchers.broadcast({ kind: 'delta', connection: s });
  }

  need(): Active {
    if (!this.active) throw new Error('not connected to a cluster; add one on the Connections screen');
    return this.active;
  }

  private readable(err: unknown): string {
    const denied = this.active && permissionMessage(err, this.active.cluster.user, 'make this change');
    if (denied) return denied;
    return redactKnown(readableError(err, this.active?.cluster.endpoints));
  }

  private snapshot(): ClusterSnapshot {
    return clusterSnapshot(this.status, this.active?.live);
  }
}

/** Services for one set of connect options (the CLI's), held in memory only. */
export function servicesFor(
  opts: ConnectOptions,
  name = 'from the command line',
  /** A signing key file (`--sign-key`, PEPPERCORN_SIGN_KEY): specs applied in the console are signed with it. */
  signingKeyFile?: string,
): ConsoleServices {
  const connections = new ConnectionStore();
  const profile = connections.save({
    name,
    endpoints: opts.endpoints,
    prefix: opts.prefix ?? '/peppercorn/',
    user: opts.user,
    password: opts.password,
    cacert: opts.cacert,
    cert: opts.cert,
    key: opts.key,
    signingKeyFile,
  });
  connections.activeId = profile.id;
  return new ConsoleServices(connections);
}

export type { Calls };
