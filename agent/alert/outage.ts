// An alert etcd cannot hold: when etcd refuses writes (full, or unreachable for this
// node), alerts recorded in etcd cannot be raised or delivered the usual way. The
// leader sends this one straight through the cluster channels (cluster.channels, or
// all), keeps it in memory, and records it, resolved, once writes work again. Only a
// leader that still holds its lease can send (a full etcd still renews leases).
import type { AlertingView } from './config-view';
import { channelsFor, newAlert, resolveAlert } from '../core/alerting';
import type { AlertRecord, Delivery } from '../core/records';
import { noticeOf, send } from './channels';
import type { AlertWriter } from './writer';
import type { EtcdWrites, WriteOutage } from '../node/etcd-writes';

/** Refused writes this long before the alert is sent: an etcd restart is not an outage. */
export const OUTAGE_ALERT_AFTER_MS = 10_000;
const SEND_TIMEOUT_MS = 10_000;

/** Whether the outage deserves its alert now; pure. */
export function outageAlertDue(
  outage: WriteOutage | undefined,
  sent: boolean,
  isLeader: boolean,
  now: number,
): boolean {
  return !!outage && !sent && isLeader && now - outage.from >= OUTAGE_ALERT_AFTER_MS;
}

export class OutageAlerts {
  private timer: NodeJS.Timeout | undefined;
  private alert: AlertRecord | undefined;
  private sending = false;

  constructor(
    private readonly writes: EtcdWrites,
    private readonly writer: AlertWriter,
    private readonly config: AlertingView,
    private readonly cluster: string,
    private readonly log: (msg: string) => void,
  ) {
    writes.on('recovered', (o: WriteOutage) => void this.recovered(o));
  }

  start(): void {
    this.timer = setInterval(() => void this.tick(), 1000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async tick(): Promise<void> {
    const outage = this.writes.current;
    if (this.sending || !outageAlertDue(outage, !!this.alert, this.writer.fence.isLeader, Date.now())) return;
    const config = this.config.current;
    this.alert = newAlert(
      {
        id: `etcd-unwritable.${outage!.from}`,
        rule: 'etcd-unwritable',
        node: this.writer.fence.nodeId,
        summary: `${outage!.reason} since ${new Date(outage!.from).toISOString()}: no run can be claimed or recorded`,
      },
      channelsFor(config, config.cluster.channels),
      true,
      Date.now(),
    );
    this.log(`alert ${this.alert.id}: ${this.alert.summary}`);
    await this.deliver('open');
  }

  private async recovered(outage: WriteOutage): Promise<void> {
    if (!this.alert) return;
    this.alert = resolveAlert(
      this.alert,
      `etcd took writes again at ${new Date(outage.to ?? Date.now()).toISOString()}`,
      Date.now(),
    );
    await this.deliver('resolved');
    const alert = this.alert;
    this.alert = undefined;
    // Recorded now that etcd takes writes: the history shows the outage and who was told.
    for (let attempt = 0; attempt < 10; attempt++) {
      try {
        if (await this.writer.create(alert)) return;
        if (!this.writer.fence.isLeader) return;
      } catch {
        /* etcd flapping: try again */
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
    this.log(`could not record alert ${alert.id} after etcd recovered`);
  }

  private async deliver(event: 'open' | 'resolved'): Promise<void> {
    const alert = this.alert!;
    this.sending = true;
    try {
      const config = this.config.current;
      for (const name of alert.channels) {
        const channel = config.channels[name];
        const d: Delivery = {
          channel: name,
          event,
          state: 'sending',
          attempts: 1,
          by: this.writer.fence.nodeId,
        };
        try {
          if (!channel) throw new Error(`channel ${name} is not configured`);
          await send(channel, noticeOf(alert, event, this.cluster), SEND_TIMEOUT_MS);
          d.state = 'delivered';
        } catch (err) {
          d.state = 'failed';
          d.lastError = (err as Error).message;
          this.log(`alert ${alert.id}: ${event} notice to ${name} failed: ${d.lastError}`);
        }
        d.doneAt = Date.now();
        alert.deliveries[`${event}:${name}`] = d;
      }
    } finally {
      this.sending = false;
    }
  }
}
