// Delivering alerts: the leader alone sends, one notification at a time per channel
// (in order), each recorded in the alert before and after it is sent:
//   pending → sending (attempt n, by us) → delivered | pending again after a backoff | failed
// A `sending` left by a dead leader means the send's fate is unknown; the next leader
// sends it again with the same idempotency key. That repeat is the only one possible:
// a delivery recorded as delivered is never sent again.
import { EventEmitter } from 'node:events';
import type { PrefixMirror } from '../core/mirror';
import { decodeOr, type AlertRecord, type Delivery } from '../core/records';
import { parseDuration } from '../core/job/duration';
import type { AlertingView } from './config-view';
import { noticeOf, send } from './channels';
import type { AlertWriter } from './writer';

const TICK_MS = 500;
const MAX_BACKOFF_MS = 10 * 60_000;

interface Job {
  id: string;
  key: string; // `<event>:<channel>`
}

/** Events: 'delivered' (alert, delivery) and 'failed' (alert, delivery), for metrics and benchmarks. */
export class AlertSender extends EventEmitter {
  private timer: NodeJS.Timeout | undefined;
  /** Per channel: the deliveries waiting, and whether one is being sent. */
  private queues = new Map<string, Job[]>();
  private busy = new Set<string>();
  private queued = new Set<string>();

  constructor(
    private readonly writer: AlertWriter,
    private readonly alerts: PrefixMirror,
    private readonly config: AlertingView,
    private readonly cluster: string,
    private readonly log: (msg: string) => void,
  ) {
    super();
    alerts.on('change', () => this.scan());
  }

  start(): void {
    clearInterval(this.timer);
    this.timer = setInterval(() => this.scan(), TICK_MS);
    this.timer.unref();
    this.scan();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.queues.clear();
    this.queued.clear();
  }

  private scan(): void {
    if (!this.timer || !this.writer.fence.isLeader) return;
    const now = Date.now();
    for (const e of this.alerts.entries.values()) {
      const alert = decodeOr<AlertRecord>('alert', e.key, e.value, () => undefined);
      if (!alert) continue;
      for (const [key, d] of Object.entries(alert.deliveries)) {
        const due = (d.state === 'pending' && (d.nextAt ?? 0) <= now) || d.state === 'sending';
        const tag = `${alert.id}|${key}`;
        if (!due || this.queued.has(tag)) continue;
        this.queued.add(tag);
        const q = this.queues.get(d.channel) ?? [];
        q.push({ id: alert.id, key });
        this.queues.set(d.channel, q);
      }
    }
    for (const channel of this.queues.keys()) void this.drain(channel);
  }

  private async drain(channel: string): Promise<void> {
    if (this.busy.has(channel)) return;
    this.busy.add(channel);
    try {
      for (let job = this.queues.get(channel)?.shift(); job; job = this.queues.get(channel)?.shift()) {
        try {
          await this.deliver(job);
        } catch (err) {
          this.log(`alert ${job.id}: ${(err as Error).message}`);
        } finally {
          this.queued.delete(`${job.id}|${job.key}`);
        }
      }
    } finally {
      this.busy.delete(channel);
    }
  }

  /**
   * Records a send's result, retrying while etcd is away (a restart): a send that happened
   * but was not recorded would be sent again. Gives up only when we no longer lead.
   */
  private async record(
    id: string,
    change: (a: AlertRecord) => AlertRecord | null,
  ): Promise<AlertRecord | null> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.writer.update(id, change);
      } catch (err) {
        if (!this.writer.fence.isLeader || attempt >= 120) throw err;
        if (attempt === 1)
          this.log(`recording the delivery of alert ${id} failed (${(err as Error).message}); retrying`);
        await new Promise((r) => setTimeout(r, Math.min(250 * attempt, 2000)));
      }
    }
  }

  private async deliver({ id, key }: Job): Promise<void> {
    const me = this.writer.fence.nodeId;
    const config = this.config.current;
    const now = Date.now();
    // Claim the send in the alert first: if we die after sending, the next leader knows
    // the send may have happened and repeats it with the same key.
    const claimed = await this.writer.update(id, (a) => {
      const d = a.deliveries[key];
      if (!d || d.state === 'delivered' || d.state === 'failed') return null;
      if (d.state === 'pending' && (d.nextAt ?? 0) > now) return null;
      return withDelivery(a, key, {
        ...d,
        state: 'sending',
        attempts: d.attempts + 1,
        by: me,
        nextAt: undefined,
      });
    });
    if (!claimed) return;
    const d = claimed.deliveries[key];
    const channel = config.channels[d.channel];
    let error: string | undefined;
    if (!channel) error = `no channel named "${d.channel}" in the alerting config (peppercorn alerts config)`;
    else {
      try {
        await send(channel, noticeOf(claimed, d.event, this.cluster), parseDuration(config.delivery.timeout));
      } catch (err) {
        error = (err as Error).message;
      }
    }
    const done = Date.now();
    const final = !channel || d.attempts >= config.delivery.attempts;
    const backoff = Math.min(MAX_BACKOFF_MS, parseDuration(config.delivery.backoff) * 2 ** (d.attempts - 1));
    const written = await this.record(id, (a) => {
      const cur = a.deliveries[key];
      if (!cur || cur.state !== 'sending' || cur.by !== me) return null;
      const next: Delivery = error
        ? final
          ? { ...cur, state: 'failed', lastError: error, doneAt: done }
          : { ...cur, state: 'pending', lastError: error, nextAt: done + backoff }
        : { ...cur, state: 'delivered', doneAt: done, lastError: undefined };
      return withDelivery(a, key, next);
    });
    if (error)
      this.log(
        `alert ${id} (${d.event}) via ${d.channel}: attempt ${d.attempts} failed: ${error}` +
          (final ? '; giving up' : `; next attempt in ${Math.round(backoff / 1000)} s`),
      );
    if (written) this.emit(error ? 'failed' : 'delivered', written, written.deliveries[key]);
  }
}

function withDelivery(a: AlertRecord, key: string, d: Delivery): AlertRecord {
  const clean = Object.fromEntries(
    Object.entries(d).filter(([, v]) => v !== undefined),
  ) as unknown as Delivery;
  return { ...a, deliveries: { ...a.deliveries, [key]: clean } };
}
