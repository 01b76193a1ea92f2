// Stream output crosses the transport in frames, never one message per chunk:
// a frame is flushed FRAME_MS after its first byte, or at once when it reaches FRAME_BYTES.
// Frames end only between pushes, so each frame can say where a reader resumes after it
// (the mark of its last push); a push larger than FRAME_BYTES goes alone, whole.
import { FRAME_BYTES, FRAME_MS } from '../contract';

export interface Batcher {
  /** Queues data; `mark` is where a reader resumes once it has this data (e.g. the next chunk's seq). */
  push(data: Buffer, mark?: number): void;
  /** Sends what is pending now (before an end-of-stream message). */
  flush(): void;
  close(): void;
}

export function createBatcher(
  send: (frame: Buffer, mark: number | undefined) => void,
  opts: { intervalMs?: number; maxBytes?: number } = {},
): Batcher {
  const intervalMs = opts.intervalMs ?? FRAME_MS;
  const maxBytes = opts.maxBytes ?? FRAME_BYTES;
  let parts: Buffer[] = [];
  let size = 0;
  let mark: number | undefined;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    if (size === 0 || closed) return;
    const frame = Buffer.concat(parts, size);
    const at = mark;
    parts = [];
    size = 0;
    mark = undefined;
    send(frame, at);
  };

  return {
    push(data, at) {
      if (closed || data.length === 0) return;
      if (size > 0 && size + data.length > maxBytes) flush();
      parts.push(data);
      size += data.length;
      if (at !== undefined) mark = at;
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
