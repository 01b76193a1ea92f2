// Where `--tail N` and `--since T` start in a run's output: pure decisions over bytes and over the
// log's time index, shared by the node that holds the file and by a reader of shipped output.
//
// The time index (<log>.idx, written beside the log by the runner) is a list of fixed-size entries
// (t, offset): the output from `offset` on was written at `t` or later, and the output before the
// next entry's offset within INDEX_STEP_MS of `t` (an entry is added at the first write a step after
// the previous one). So `--since` is exact to within one step, and costs 16 bytes per second of output.
// A log whose output all came within one step has no index: its file's mtime stands for it.

export const INDEX_STEP_MS = 1000;
export const INDEX_ENTRY_BYTES = 16;

export interface IndexEntry {
  t: number;
  offset: number;
}

export function encodeIndexEntry(e: IndexEntry): Buffer {
  const b = Buffer.alloc(INDEX_ENTRY_BYTES);
  b.writeDoubleLE(e.t, 0);
  b.writeDoubleLE(e.offset, 8);
  return b;
}

export function decodeIndexEntry(b: Buffer): IndexEntry {
  return { t: b.readDoubleLE(0), offset: b.readDoubleLE(8) };
}

/**
 * The index of the `need`-th newline counting back from the end of `block`, or how many are still
 * needed before the block starts. Used block by block from a file's end.
 */
export function nthNewlineFromEnd(block: Buffer, need: number): { at: number } | { left: number } {
  let i = block.length;
  for (; need > 0; need--) {
    if (i === 0) return { left: need };
    i = block.lastIndexOf(0x0a, i - 1);
    if (i < 0) return { left: need };
  }
  return { at: i };
}

/**
 * How many newlines to pass, going back from the end, to reach the start of the last `lines` lines.
 * A final newline ends the last line rather than starting an empty one.
 */
export function newlinesToPass(lines: number, endsWithNewline: boolean): number {
  return lines + (endsWithNewline ? 1 : 0);
}

/** Where the last `lines` lines of `buf` start (its length for 0 lines, 0 when it has fewer). */
export function tailStart(buf: Buffer, lines: number): number {
  if (lines <= 0) return buf.length;
  const r = nthNewlineFromEnd(buf, newlinesToPass(lines, buf[buf.length - 1] === 0x0a));
  return 'at' in r ? r.at + 1 : 0;
}

/**
 * tailStart over a file read backwards in blocks of `blockBytes` (a log can be 64 MiB; only the
 * blocks holding its last `lines` lines are read).
 */
export async function tailStartOf(
  file: { size: number; read: (position: number, length: number) => Promise<Buffer> },
  lines: number,
  blockBytes = 64 << 10,
): Promise<number> {
  if (file.size === 0 || lines <= 0) return file.size;
  const last = await file.read(file.size - 1, 1);
  let need = newlinesToPass(lines, last[0] === 0x0a);
  for (let end = file.size; end > 0;) {
    const start = Math.max(0, end - blockBytes);
    const r = nthNewlineFromEnd(await file.read(start, end - start), need);
    if ('at' in r) return start + r.at + 1;
    need = r.left;
    end = start;
  }
  return 0;
}

/**
 * The offset output written at or after `since` starts at, to within INDEX_STEP_MS (earlier rather
 * than later: nothing written after `since` is left out). `entry(i)` reads entry i of `count`;
 * without an index (count 0) the file's mtime is when all of it was written.
 */
export async function sinceStart(
  since: number,
  index: { count: number; entry: (i: number) => Promise<IndexEntry> | IndexEntry },
  file: { size: number; mtimeMs: number },
): Promise<number> {
  if (index.count === 0) return since <= file.mtimeMs ? 0 : file.size;
  // The last entry at or before `since`.
  let lo = 0;
  let hi = index.count - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if ((await index.entry(mid)).t <= since) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  if (found < 0) return 0;
  const e = await index.entry(found);
  // Everything from e.offset to the next entry was written within a step of e.t.
  if (since - e.t < INDEX_STEP_MS) return Math.min(e.offset, file.size);
  return found + 1 < index.count ? Math.min((await index.entry(found + 1)).offset, file.size) : file.size;
}
