// Appends one run's output to its log file, up to a cap. The file is opened asynchronously (creating
// the directory only when the open says it is missing), so preparing a run costs no sync fs call.
// Beside it, a time index (one entry per second of output, opened only once output spans more than a
// second) lets a reader start at `--since` without timestamps in the output itself.
import { EventEmitter } from 'node:events';
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { createWriteStream, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { encodeIndexEntry, INDEX_STEP_MS, type IndexEntry } from '../core/log-seek';
import { runLogIndexPath } from './logfiles';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from '../node/data-dir';

const HIGH_WATER = 256 * 1024;

export class CappedLogWriter extends EventEmitter {
  private stream: WriteStream | undefined;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private written = 0;
  private truncated = false;
  private lastByte = 0x0a;
  private ended = false;
  private failed: Error | undefined;
  private readonly opened: Promise<void>;
  private firstEntry: IndexEntry | undefined;
  private lastIndexedAt = 0;
  private index: WriteStream | undefined;

  constructor(
    readonly path: string,
    readonly capBytes: number,
  ) {
    super();
    this.opened = openAppend(path).then(
      (fh) => {
        this.stream = createWriteStream('', { fd: fh, highWaterMark: HIGH_WATER });
        this.stream.on('error', (err) => this.fail(err));
        this.stream.on('drain', () => this.emit('drain'));
        const queued = this.pending;
        this.pending = [];
        this.pendingBytes = 0;
        for (const b of queued) this.stream.write(b);
        if (queued.length) this.emit('drain');
      },
      (err: Error) => this.fail(err),
    );
  }

  /** First error opening or writing the file, if any; output keeps flowing to the other sinks. */
  get error(): Error | undefined {
    return this.failed;
  }

  /**
   * Appends a chunk (or the part of it under the cap). Returns false when the caller should pause its
   * sources until 'drain', so a slow disk cannot make us buffer a fast producer's output in memory.
   */
  write(chunk: Buffer): boolean {
    if (this.ended || this.truncated || this.failed) return true;
    const room = this.capBytes - this.written;
    let part = chunk;
    if (chunk.length > room) {
      part = chunk.subarray(0, Math.max(0, room));
      this.truncated = true;
    }
    let ok = true;
    if (part.length > 0) {
      this.indexWrite(Date.now());
      this.written += part.length;
      this.lastByte = part[part.length - 1];
      ok = this.put(part);
    }
    if (this.truncated) {
      const nl = this.lastByte === 0x0a ? '' : '\n';
      ok = this.put(Buffer.from(`${nl}[peppercorn] output truncated after ${this.capBytes} bytes\n`)) && ok;
    }
    return ok;
  }

  /** Flushes and closes the file. Never rejects. */
  async end(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    await this.opened;
    const idx = this.index;
    if (idx && !idx.destroyed)
      await new Promise<void>((resolve) => {
        idx.once('close', () => resolve());
        idx.end();
      });
    const s = this.stream;
    if (!s || s.destroyed) return;
    await new Promise<void>((resolve) => {
      s.once('close', () => resolve());
      s.end();
    });
  }

  /** Notes that output starting at the current offset is written at `now` (see log-seek.ts). */
  private indexWrite(now: number): void {
    if (!this.firstEntry) {
      this.firstEntry = { t: now, offset: this.written };
      this.lastIndexedAt = now;
      return;
    }
    if (now - this.lastIndexedAt < INDEX_STEP_MS) return;
    this.lastIndexedAt = now;
    if (!this.index) {
      // Losing the index only makes --since coarser: its errors are ignored.
      this.index = createWriteStream(runLogIndexPath(this.path), { flags: 'a', mode: PRIVATE_FILE_MODE });
      this.index.on('error', () => this.index?.destroy());
      this.index.write(encodeIndexEntry(this.firstEntry));
    }
    if (!this.index.destroyed) this.index.write(encodeIndexEntry({ t: now, offset: this.written }));
  }

  private put(b: Buffer): boolean {
    if (this.stream) return this.stream.write(b);
    this.pending.push(b);
    this.pendingBytes += b.length;
    return this.pendingBytes < HIGH_WATER;
  }

  private fail(err: Error): void {
    if (this.failed) return;
    this.failed = err;
    this.pending = [];
    this.pendingBytes = 0;
    this.stream?.destroy();
    // Release a paused producer: nothing more will be written here.
    this.emit('drain');
  }
}

async function openAppend(path: string): Promise<FileHandle> {
  // Retry because log pruning may remove an empty job directory between our mkdir and open.
  for (let attempt = 0; ; attempt++) {
    try {
      return await open(path, 'a', PRIVATE_FILE_MODE);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 2) throw err;
      await mkdir(dirname(path), { recursive: true, mode: PRIVATE_DIR_MODE });
    }
  }
}
