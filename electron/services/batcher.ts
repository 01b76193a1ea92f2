// Stream output crosses the transport in frames, never one message per chunk:
// a frame is flushed FRAME_MS after its first byte, or at once when it reaches FRAME_BYTES.
import { FRAME_BYTES, FRAME_MS } from '../common/contract';

export interface Batcher {
  push(data: Buffer): void;
  /** Sends what is pending now (before an end-of-stream message). */
  flush(): void;
  close(): void;
}

export function createBatcher(
  send: (frame: Buffer) => void,
  opts: { intervalMs?: number; maxBytes?: number } = {},
): Batcher {
  const intervalMs = opts.intervalMs ?? FRAME_MS;
  const maxBytes = opts.maxBytes ?? FRAME_BYTES;
  let parts: Buffer[] = [];
  let size = 0;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    if (size === 0 || closed) return;
    const all = Buffer.concat(parts, size);
    parts = [];
    size = 0;
    for (let i = 0; i < all.length; i += maxBytes) send(all.subarray(i, i + maxBytes));
  };

  return {
    push(data) {
      if (closed || data.length === 0) return;
      parts.push(data);
      size += data.length;
      if (size >= maxBytes) flush();
      else if (!timer) timer = setTimeout(flush, intervalMs);
    },
    flush,
    close() {
      clearTimeout(timer);
      closed = true;
      parts = [];
      size = 0;
    },
  };
}
