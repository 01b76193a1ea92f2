// Bounded memory of the last N bytes of a run's output, for the run record.

export class TailBuffer {
  private readonly buf: Buffer;
  private pos = 0; // next write position in the ring
  private filled = false;

  constructor(readonly capacity: number) {
    this.buf = Buffer.alloc(Math.max(0, Math.floor(capacity)));
  }

  push(chunk: Buffer): void {
    const cap = this.buf.length;
    if (cap === 0 || chunk.length === 0) return;
    if (chunk.length >= cap) {
      chunk.copy(this.buf, 0, chunk.length - cap);
      this.pos = 0;
      this.filled = true;
      return;
    }
    const first = Math.min(chunk.length, cap - this.pos);
    chunk.copy(this.buf, this.pos, 0, first);
    if (first < chunk.length) chunk.copy(this.buf, 0, first);
    const end = this.pos + chunk.length;
    if (end >= cap) this.filled = true;
    this.pos = end % cap;
  }

  /** The retained bytes, oldest first. */
  bytes(): Buffer {
    if (!this.filled) return Buffer.from(this.buf.subarray(0, this.pos));
    return Buffer.concat([this.buf.subarray(this.pos), this.buf.subarray(0, this.pos)]);
  }

  /** The retained bytes as UTF-8, starting at a character boundary (the ring may have cut one in half). */
  toString(): string {
    const b = this.bytes();
    let start = 0;
    // Skip at most 3 continuation bytes (10xxxxxx) left over from a character cut at the front.
    while (this.filled && start < 3 && start < b.length && (b[start] & 0xc0) === 0x80) start++;
    return b.subarray(start).toString('utf8');
  }
}
