// The `node-overloaded` alert: raised by the overloaded node itself, since only it can see
// its own event loop and launches, once the overload has lasted (node/overload.ts), and
// resolved by it when the overload ends. It is written to etcd like any alert, fenced by
// this node's key (our epoch), and the leader delivers it through the cluster channels.
// A node that dies overloaded cannot resolve it: the leader does (alert/watch.ts), once
// the node's key is gone.
import type { Cluster } from '../core/etcd';
import { keys } from '../core/keys';
import { channelsFor, newAlert, resolveAlert } from '../core/alerting';
import { decodeOr, type AlertRecord } from '../core/records';
import type { AlertingView } from './config-view';
import { AlertWriter, type LeaderFence } from './writer';
import type { OverloadMonitor, OverloadSample, OverloadState } from '../node/overload';

/** What the alert needs of the node's membership. */
export interface NodeLife {
  readonly id: string;
  readonly epoch: number;
  isLive(): boolean;
}

/** Resolving keeps trying this long (etcd slow or away): past it, the leader's rule resolves it. */
const RESOLVE_ATTEMPTS = 30;
const RETRY_MS = 2000;

function words(s: OverloadSample | undefined): string {
  if (!s) return 'it is behind';
  return `event loop up to ${Math.round(s.lagMs)} ms late, launches ${Math.round(s.lateMs)} ms late (90th percentile)`;
}

export function overloadSummary(node: string, state: OverloadState): string {
  return (
    `node ${node} has been overloaded since ${new Date(state.since ?? Date.now()).toISOString()} ` +
    `(${words(state.worst)}): its runs start late. Give it more CPU, lower its --capacity, or cordon it`
  );
}

export class OverloadAlerts {
  private readonly writer: AlertWriter;
  private alert: AlertRecord | undefined;

  constructor(
    private readonly cluster: Cluster,
    private readonly node: NodeLife,
    monitor: OverloadMonitor,
    private readonly config: AlertingView,
    private readonly log: (msg: string) => void,
  ) {
    // Writes fenced by our node key's create revision: a node that lost its lease writes nothing.
    const fence: LeaderFence = {
      // AlertWriter's "may write": here, while our lease is live.
      get isLeader() {
        return node.isLive();
      },
      nodeId: node.id,
      async txn(ops, compares) {
        const { ns } = cluster;
        let txn = ns.if(keys.node(node.id), 'Create', '==', node.epoch);
        for (const [k, rev] of compares) txn = txn.and(k, 'Mod', '==', rev);
        return (await txn.then(...ops).commit()).succeeded;
      },
    };
    this.writer = new AlertWriter(cluster, fence, log);
    monitor.on('overloaded', (s: OverloadState) =>
      this.log(`node overloaded: ${words(s.worst)}; launches are late (the lease is kept on its own thread)`),
    );
    monitor.on('alert', (s: OverloadState) => void this.raise(s));
    monitor.on('recovered', (_s: OverloadState, now: number) => void this.recovered(now));
  }

  private async raise(state: OverloadState): Promise<void> {
    const config = this.config.current;
    const alert = newAlert(
      {
        id: `node-overloaded.${this.node.id}.${Math.round(state.since ?? Date.now())}`,
        rule: 'node-overloaded',
        node: this.node.id,
        summary: overloadSummary(this.node.id, state),
      },
      channelsFor(config, config.cluster.channels),
      true,
      Date.now(),
    );
    try {
      if (await this.writer.create(alert)) {
        this.alert = alert;
        this.log(`alert ${alert.id}: ${alert.summary}`);
      }
    } catch (err) {
      this.log(`could not raise alert ${alert.id}: ${(err as Error).message}`);
    }
  }

  private async recovered(now: number): Promise<void> {
    const alert = this.alert;
    this.alert = undefined;
    this.log(`node no longer overloaded (since ${new Date(now).toISOString()})`);
    if (!alert) return;
    const why = `node ${this.node.id} is no longer overloaded since ${new Date(now).toISOString()}`;
    for (let attempt = 0; attempt < RESOLVE_ATTEMPTS; attempt++) {
      try {
        // null: resolved already (by hand, or by a leader that thought us gone) or removed.
        const done = await this.writer.update(alert.id, (a) =>
          a.state === 'open' ? resolveAlert(a, why, Date.now()) : null,
        );
        if (done || !(await this.stillOpen(alert.id))) {
          this.log(`alert ${alert.id} resolved: ${why}`);
          return;
        }
      } catch {
        /* etcd slow or away: try again */
      }
      await new Promise((r) => setTimeout(r, RETRY_MS).unref());
    }
    this.log(`could not resolve alert ${alert.id}; the leader resolves it when this node is gone`);
  }

  private async stillOpen(id: string): Promise<boolean> {
    const key = keys.alert(id);
    const kv = (await this.cluster.ns.get(key).exec()).kvs[0];
    return !!kv && decodeOr<AlertRecord>('alert', key, kv.value, () => undefined)?.state === 'open';
  }

  /** On shutdown: an overload of this life must not stay open after it. */
  async stop(): Promise<void> {
    const alert = this.alert;
    this.alert = undefined;
    if (!alert) return;
    await this.writer
      .update(alert.id, (a) =>
        a.state === 'open' ? resolveAlert(a, `node ${this.node.id} shut down`, Date.now()) : null,
      )
      .catch(() => undefined);
  }
}
