// Whether etcd accepts this node's writes. A full etcd (NOSPACE) or an unreachable one
// stops every claim and outcome: that must be loud (/healthz, a metric, an alert sent
// even though etcd cannot record it), and the times it cost must be explained once
// writes work again. The scheduler reports each write's fate here; the rest reads it.
import { EventEmitter } from 'node:events';

export interface WriteOutage {
  from: number;
  /** When writes worked again; absent while the outage lasts. */
  to?: number;
  reason: string;
}

/** Outages remembered, to explain the times skipped during them. */
const KEEP = 20;

/** What an etcd error means for writes, in words an operator can act on. */
export function writeFailureReason(err: unknown): string {
  const text = `${(err as Error)?.constructor?.name ?? ''} ${String((err as Error)?.message ?? err)}`;
  if (/database space exceeded|NOSPACE|ResourceExhast|RESOURCE_EXHAUSTED/i.test(text))
    return 'etcd is full (database space exceeded): compact, defragment and disarm the NOSPACE alarm';
  if (/Unavailable|ECONNREFUSED|No connection|deadline|BrokenCircuit|failed to connect|timed out/i.test(text))
    return 'etcd is unreachable';
  return `etcd refused a write (${text.trim().split('\n')[0].slice(0, 160)})`;
}

/** Events: 'refusing' (outage) when writes start failing, 'recovered' (outage) when they work again. */
export class EtcdWrites extends EventEmitter {
  readonly outages: WriteOutage[] = [];
  failures = 0;

  get current(): WriteOutage | undefined {
    const last = this.outages[this.outages.length - 1];
    return last && last.to === undefined ? last : undefined;
  }

  ok(now = Date.now()): void {
    const open = this.current;
    if (!open) return;
    open.to = now;
    this.emit('recovered', open);
  }

  failed(err: unknown, now = Date.now()): void {
    this.failures++;
    if (this.current) return;
    const outage: WriteOutage = { from: now, reason: writeFailureReason(err) };
    this.outages.push(outage);
    if (this.outages.length > KEEP) this.outages.shift();
    this.emit('refusing', outage);
  }

  /** How long writes have been failing (0 while they work). */
  unwritableFor(now = Date.now()): number {
    const open = this.current;
    return open ? now - open.from : 0;
  }

  /** The outages that overlap [first, last]: why times in that range were not launched. */
  during(first: number, last: number): WriteOutage[] {
    return this.outages.filter((o) => o.from <= last && (o.to ?? Infinity) >= first);
  }
}

/** The words added to a skipped range's reason when etcd refused writes during it. */
export function outageNote(outages: WriteOutage[]): string {
  return outages
    .map(
      (o) =>
        `etcd refused writes from ${new Date(o.from).toISOString()} to ${o.to ? new Date(o.to).toISOString() : 'now'}: ${o.reason}`,
    )
    .join('; ');
}
