// Where run logs live on a node, reading them back, and keeping their total size in check.
import { open, readdir, rmdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';

/** <dataDir>/logs/<job>/<runId>.log; unsafe characters in names are %-escaped so a name stays one segment. */
export function runLogPath(dataDir: string, job: string, runId: string): string {
  return join(dataDir, 'logs', safeSegment(job), `${safeSegment(runId)}.log`);
}

/** The time index beside a run's log (see agent/core/log-seek.ts): where `--since` starts reading. */
export function runLogIndexPath(logPath: string): string {
  return `${logPath}.idx`;
}

function safeSegment(name: string): string {
  const s = name.replace(/[^A-Za-z0-9._@+=:-]/g, (c) => encodeURIComponent(c).replace(/[!'()*]/g, hex));
  // '', '.' and '..' would not name a file of their own.
  return /^\.*$/.test(s) ? s.replace(/\./g, '%2E') || '%00' : s;
}

function hex(c: string): string {
  return `%${c.charCodeAt(0).toString(16).toUpperCase()}`;
}

interface LogFile {
  path: string;
  size: number;
  mtimeMs: number;
}

/**
 * Deletes logs older than maxAgeMs, then the oldest ones until the total is within maxTotalBytes, and
 * removes job directories left empty. Files vanishing meanwhile (another prune) are not errors.
 */
export async function pruneLogs(
  dataDir: string,
  opts: { maxAgeMs: number; maxTotalBytes: number; now?: number },
): Promise<{ removed: number; freedBytes: number }> {
  const now = opts.now ?? Date.now();
  const root = join(dataDir, 'logs');
  const jobDirs = await listDirs(root);
  const files: LogFile[] = [];
  for (const dir of jobDirs) {
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      const path = join(dir, name);
      const st = await stat(path).catch(() => undefined);
      if (st?.isFile()) files.push({ path, size: st.size, mtimeMs: st.mtimeMs });
    }
  }
  files.sort((a, b) => a.mtimeMs - b.mtimeMs);
  let total = files.reduce((n, f) => n + f.size, 0);
  let removed = 0;
  let freedBytes = 0;
  for (const f of files) {
    const tooOld = now - f.mtimeMs > opts.maxAgeMs;
    if (!tooOld && total <= opts.maxTotalBytes) continue;
    if (
      await unlink(f.path).then(
        () => true,
        () => false,
      )
    ) {
      removed++;
      freedBytes += f.size;
    }
    total -= f.size;
  }
  for (const dir of jobDirs) {
    // Fails with ENOTEMPTY when logs remain or a run just created one; that is fine.
    await rmdir(dir).catch(() => {});
  }
  return { removed, freedBytes };
}

async function listDirs(root: string): Promise<string[]> {
  const entries = await readdir(root, { withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isDirectory()).map((e) => join(root, e.name));
}

/**
 * Reads part of a log: from offset (negative counts back from the end) up to maxBytes (default: to the end).
 * Rejects with the fs error (ENOENT when there is no such log).
 */
export async function readLog(
  path: string,
  opts: { offset?: number; maxBytes?: number } = {},
): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const size = (await fh.stat()).size;
    let start = opts.offset ?? 0;
    if (start < 0) start = Math.max(0, size + start);
    start = Math.min(start, size);
    const want = Math.min(size - start, opts.maxBytes ?? Infinity);
    const buf = Buffer.alloc(Math.max(0, want));
    let got = 0;
    while (got < buf.length) {
      const { bytesRead } = await fh.read(buf, got, buf.length - got, start + got);
      if (bytesRead === 0) break; // truncated under us
      got += bytesRead;
    }
    return got === buf.length ? buf : buf.subarray(0, got);
  } finally {
    await fh.close();
  }
}
