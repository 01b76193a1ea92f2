// Ships a run's output to a remote store in batches, best effort: one send in flight at a time, failures
// reported and dropped, and never more than capBytes in total (the node's log file is the full record).

import { shipCapMarker } from '../core/ship-marker';

export interface OutputBatcherOptions {
  flushMs: number;
  maxBatchBytes: number;
  capBytes: number;
  send: (data: Buffer, seq: number) => Promise<void>;
  onError?: (err: unknown) => void;
}

export class OutputBatcher {
  private readonly opts: OutputBatcherOptions;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private accepted = 0;
  private dropped = 0;
  private shipped = 0;
  private failed = 0;
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly queue: { data: Buffer; isOutput: boolean }[] = [];
  private sending: Promise<void> | undefined;
  private closing: Promise<void> | undefined;

  constructor(opts: OutputBatcherOptions) {
    this.opts = { ...opts, maxBatchBytes: Math.max(1, Math.floor(opts.maxBatchBytes)) };
  }

  /** Output bytes that reached the store. */
  get shippedBytes(): number {
    return this.shipped;
  }

  /** Output bytes not sent because of the cap (or pushed after close). */
  get droppedBytes(): number {
    return this.dropped;
  }

  /** Output bytes lost because their send failed. */
  get failedBytes(): number {
    return this.failed;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.closing) {
      this.dropped += chunk.length;
      return;
    }
    const room = Math.max(0, this.opts.capBytes - this.accepted);
    const take = Math.min(room, chunk.length);
    this.dropped += chunk.length - take;
    if (take === 0) return;
    this.accepted += take;
    this.pending.push(take === chunk.length ? chunk : chunk.subarray(0, take));
    this.pendingBytes += take;
    const max = this.opts.maxBatchBytes;
    if (this.pendingBytes >= max) {
      // Only whole batches now; the remainder waits for more output or the timer.
      this.cut(Math.floor(this.pendingBytes / max) * max);
    }
    if (this.pendingBytes > 0 && !this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.cut(this.pendingBytes);
      }, this.opts.flushMs);
    } else if (this.pendingBytes === 0 && this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  /** Sends what is left, plus a marker if the cap cut the output. Never rejects. */
  close(): Promise<void> {
    if (!this.closing) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.cut(this.pendingBytes);
      if (this.dropped > 0) {
        this.enqueue(Buffer.from(shipCapMarker(this.opts.capBytes)), false);
      }
      this.closing = this.idle();
    }
    return this.closing;
  }

  /** Moves `bytes` from pending into the send queue as batches of at most maxBatchBytes. */
  private cut(bytes: number): void {
    if (bytes <= 0) return;
    const all = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending, this.pendingBytes);
    const max = this.opts.maxBatchBytes;
    for (let off = 0; off < bytes; off += max)
      this.enqueue(all.subarray(off, Math.min(bytes, off + max)), true);
    const rest = all.subarray(bytes);
    this.pending = rest.length ? [rest] : [];
    this.pendingBytes = rest.length;
  }

  private enqueue(data: Buffer, isOutput: boolean): void {
    this.queue.push({ data, isOutput });
    if (!this.sending) this.sending = this.pump();
  }

  private async pump(): Promise<void> {
    for (let item = this.queue.shift(); item; item = this.queue.shift()) {
      const { data, isOutput } = item;
      try {
        await this.opts.send(data, this.seq++);
        if (isOutput) this.shipped += data.length;
      } catch (err) {
        if (isOutput) this.failed += data.length;
        try {
          this.opts.onError?.(err);
        } catch {
          // The error reporter failing must not stop later sends.
        }
      }
    }
    this.sending = undefined;
  }

  private async idle(): Promise<void> {
    while (this.sending) await this.sending;
  }
}
