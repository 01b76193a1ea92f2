// The leader's judge of the nodes' clocks. Each node publishes its wall clock every few
// seconds; the leader takes the offset of each report from its own clock as the watch
// delivers it (the one-way latency, milliseconds, is far below the threshold), and
// compares every node with the median of all of them, its own clock included: one
// node off is found off, and a leader whose own clock is off does not condemn the
// rest. A node found off gets skews/<node> (it stops claiming) and a clock-skew alert;
// both go when its clock agrees again.
import type { Cluster } from '../core/etcd';
import { keys } from '../core/keys';
import type { PrefixMirror } from '../core/mirror';
import { decodeOr, encode, type ClockReport, type SkewRecord } from '../core/records';
import { channelsFor, newAlert, resolveAlert } from '../core/alerting';
import type { AlertingView } from '../alert/config-view';
import type { AlertWriter } from '../alert/writer';

export const DEFAULT_CLOCK_SKEW_MS = 1000;
/** Offsets older than this are stale (the node stopped reporting). */
const STALE_MS = 15_000;

/**
 * Nodes whose clock is off by more than `thresholdMs` from the median; pure. `offsets` are
 * the reports as the leader read them; the leader's own clock counts once, as 0, whether or
 * not its own report is among them (counted twice, a skewed leader and its own report
 * outvoted two sound nodes and the median landed between them: every node was held).
 */
export function judgeClocks(
  offsets: Map<string, number>,
  thresholdMs: number,
  leader: string,
): Map<string, number> {
  const all = new Map(offsets).set(leader, 0);
  const values = [...all.values()].sort((a, b) => a - b);
  const mid = values.length >> 1;
  const median = values.length % 2 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
  const off = new Map<string, number>();
  for (const [node, o] of all) if (Math.abs(o - median) > thresholdMs) off.set(node, Math.round(o - median));
  return off;
}

export class ClockJudge {
  private offsets = new Map<string, { offsetMs: number; at: number }>();
  private timer: NodeJS.Timeout | undefined;
  private watching = false;

  constructor(
    private readonly cluster: Cluster,
    private readonly clocks: PrefixMirror,
    private readonly skews: PrefixMirror,
    private readonly writer: AlertWriter,
    private readonly alerting: AlertingView,
    private readonly thresholdMs: number,
    private readonly self: string,
    private readonly log: (msg: string) => void,
  ) {
    clocks.on('change', (changed: string[] | null) => {
      if (!changed) return; // a re-list: the values are not fresh, so they tell nothing
      const now = Date.now();
      for (const key of changed) {
        const e = clocks.entries.get(key);
        const r = e && decodeOr<ClockReport>('clock', key, e.value, (err) => this.log(err.message));
        if (r) this.offsets.set(keys.clockNode(key), { offsetMs: r.at - now, at: now });
      }
    });
  }

  start(): void {
    this.offsets.clear();
    this.timer = setInterval(
      () => void this.judge().catch((err) => this.log(`clock judge: ${(err as Error).message}`)),
      2000,
    );
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async judge(): Promise<void> {
    if (!this.writer.fence.isLeader) return;
    // Leader-only: the reports are watched by the leader alone (a watcher per node would
    // cost etcd N² events).
    if (!this.watching) {
      this.watching = true;
      await this.clocks.start();
    }
    const now = Date.now();
    const fresh = new Map<string, number>();
    for (const [node, o] of this.offsets) if (now - o.at < STALE_MS) fresh.set(node, o.offsetMs);
    const off = judgeClocks(fresh, this.thresholdMs, this.self);
    const { ns } = this.cluster;
    for (const [node, offsetMs] of off) {
      if (this.skews.entries.has(keys.skew(node))) continue;
      const config = this.alerting.current;
      const alert = newAlert(
        {
          id: `clock-skew.${node}.${now}`,
          rule: 'clock-skew',
          node,
          summary: `node ${node}'s clock is off by ${offsetMs} ms from the cluster's: it claims no job until it is fixed (check NTP)`,
        },
        channelsFor(config, config.cluster.channels),
        true,
        now,
      );
      const skew: SkewRecord = { offsetMs, since: now, alert: alert.id };
      this.log(`node ${node}: clock off by ${offsetMs} ms; holding its claims`);
      await this.writer.fence.txn(
        [ns.put(keys.skew(node)).value(encode(skew)), ns.put(keys.alert(alert.id)).value(encode(alert))],
        [[keys.skew(node), 0]],
      );
    }
    for (const e of [...this.skews.entries.values()]) {
      const node = keys.skewNode(e.key);
      // Lifted only on fresh evidence: a new leader knows no offsets yet.
      if (off.has(node) || !fresh.has(node)) continue;
      const skew = decodeOr<SkewRecord>('skew', e.key, e.value, () => undefined);
      this.log(`node ${node}: clock agrees with the cluster again`);
      if (await this.writer.fence.txn([ns.delete().key(e.key)], [[e.key, e.modRevision]]))
        if (skew)
          await this.writer.update(skew.alert, (a) =>
            a.state === 'open' ? resolveAlert(a, `node ${node}'s clock agrees again`, Date.now()) : null,
          );
    }
  }
}
