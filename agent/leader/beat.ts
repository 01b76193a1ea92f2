// The leader's sign of life: `leader-beat` rewritten every few seconds while it leads, so
// that a leader elected after a gap — even after a whole-cluster outage, when no agent was
// there to see the old leader go — knows since when the cluster had none.
import type { Cluster } from '../core/etcd';
import { keys } from '../core/keys';
import { decodeOr, encode, type LeaderBeat } from '../core/records';
import type { LeaderFence } from '../alert/writer';

export class LeaderBeats {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly cluster: Cluster,
    private readonly fence: LeaderFence,
    /** Asked before each beat: it follows the no-leader threshold of the alerting config. */
    private readonly intervalMs: () => number,
    private readonly log: (msg: string) => void,
  ) {}

  /** The previous leader's last beat; read at election, before our own first one. */
  async last(): Promise<LeaderBeat | undefined> {
    const kv = (await this.cluster.ns.get(keys.leaderBeat).exec()).kvs[0];
    return kv && decodeOr<LeaderBeat>('beat', keys.leaderBeat, kv.value, (err) => this.log(err.message));
  }

  start(): void {
    this.stop();
    const beat = () => {
      void this.write(false).finally(() => {
        if (this.timer) this.timer = setTimeout(beat, this.intervalMs());
      });
    };
    this.timer = setTimeout(beat, 0);
    this.timer.unref();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Graceful step-down: the next leader does not report the gap as an outage. */
  async stepDown(): Promise<void> {
    this.stop();
    await this.write(true);
  }

  private async write(stopped: boolean): Promise<void> {
    const beat: LeaderBeat = { node: this.fence.nodeId, at: Date.now(), ...(stopped ? { stopped } : {}) };
    try {
      await this.fence.txn([this.cluster.ns.put(keys.leaderBeat).value(encode(beat))], []);
    } catch (err) {
      this.log(`leader beat failed: ${(err as Error).message}`);
    }
  }
}
