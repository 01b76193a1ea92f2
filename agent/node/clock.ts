// This node's wall clock, published for the leader to compare (clocks/<node>, bound to
// our lease), and the leader's verdict on it (skews/<node>). Scheduled times are wall-
// clock times: a node whose clock runs 90 s ahead would launch every job 90 s early, so
// while the leader finds our clock off we claim nothing (fail closed). Agents need NTP.
import type { Cluster } from '../core/etcd';
import { keys } from '../core/keys';
import type { PrefixMirror } from '../core/mirror';
import { decodeOr, encode, type ClockReport, type SkewRecord } from '../core/records';
import type { Membership } from './membership';

/** How often the clock is published. */
export const CLOCK_EVERY_MS = 3000;

export class ClockReporter {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly cluster: Cluster,
    private readonly membership: Membership,
    private readonly skews: PrefixMirror,
    private readonly log: (msg: string) => void,
  ) {
    let was: SkewRecord | undefined;
    skews.on('change', () => {
      const now = this.skew;
      if (now && !was)
        this.log(
          `the leader finds this node's clock off by ${now.offsetMs} ms; claims held until it is fixed (check NTP)`,
        );
      if (!now && was) this.log("this node's clock agrees with the cluster again; claims resume");
      was = now;
    });
  }

  /** The leader's finding while our clock is off; undefined while it agrees. */
  get skew(): SkewRecord | undefined {
    const e = this.skews.entries.get(keys.skew(this.membership.id));
    return e && decodeOr<SkewRecord>('skew', e.key, e.value, (err) => this.log(err.message));
  }

  /** Why claims are held, if they are. */
  holdReason(): string | undefined {
    const s = this.skew;
    return (
      s &&
      `this node's clock is off by ${s.offsetMs} ms from the cluster's (since ${new Date(s.since).toISOString()}); check NTP`
    );
  }

  start(): void {
    const tick = () =>
      void this.publish().finally(() => {
        if (this.timer) this.timer = setTimeout(tick, CLOCK_EVERY_MS);
      });
    this.timer = setTimeout(tick, 0);
    this.timer.unref();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async publish(): Promise<void> {
    if (!this.membership.isLive()) return;
    const report: ClockReport = { node: this.membership.id, at: Date.now() };
    await this.cluster.ns
      .put(keys.clock(this.membership.id))
      .value(encode(report))
      .lease(this.membership.leaseId)
      .exec()
      .catch(() => undefined); // etcd trouble is reported by the scheduler's writes
  }
}
