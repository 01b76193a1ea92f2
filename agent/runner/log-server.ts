// Answers readers that ask this node, through etcd, for part of a run's log file (the protocol is in
// agent/core/log-requests.ts). Only runs whose record names this node, only their own log file (the
// path is built from the parsed run id, never taken from the request), at most one window per
// request, a few requests at a time, and every answer on the asker's lease.
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import type { Cluster } from '../core/etcd';
import { keys, parseRunId } from '../core/keys';
import type { Entry, PrefixMirror } from '../core/mirror';
import { decode, type RunRecord } from '../core/records';
import {
  LOG_CHUNK_BYTES,
  encodeLogMessage,
  isRequestId,
  parseLogRequest,
  type LogAnswer,
  type LogRequest,
} from '../core/log-requests';
import {
  INDEX_ENTRY_BYTES,
  decodeIndexEntry,
  nthNewlineFromEnd,
  sinceStart,
  tailStartOf,
} from '../core/log-seek';
import { runLogIndexPath, runLogPath } from './logfiles';

/** Requests read files at once; the rest wait in line, up to QUEUE_MAX, then are told to retry. */
const PARALLEL = 2;
const QUEUE_MAX = 64;
/** Block size when scanning back for lines. */
const SCAN_BYTES = 64 << 10;

export interface LogServerOptions {
  nodeId: string;
  dataDir: string;
  log: (msg: string) => void;
}

class Refusal extends Error {
  constructor(
    message: string,
    readonly code: NonNullable<LogAnswer['code']>,
  ) {
    super(message);
  }
}

export class LogServer {
  /** Request keys taken, by the revision taken at: a re-listed mirror does not answer twice. */
  private readonly taken = new Map<string, number>();
  private readonly queue: Entry[] = [];
  private running = 0;

  constructor(
    private readonly cluster: Cluster,
    private readonly requests: PrefixMirror,
    private readonly opts: LogServerOptions,
  ) {
    requests.on('change', () => this.scan());
  }

  private scan(): void {
    const entries = this.requests.entries;
    for (const key of this.taken.keys()) if (!entries.has(key)) this.taken.delete(key);
    for (const e of entries.values()) {
      if (this.taken.get(e.key) === e.modRevision) continue;
      this.taken.set(e.key, e.modRevision);
      if (this.queue.length >= QUEUE_MAX)
        void this.refuse(e, 'the node is busy answering log requests; retry');
      else this.queue.push(e);
    }
    this.pump();
  }

  private pump(): void {
    while (this.running < PARALLEL && this.queue.length) {
      const e = this.queue.shift()!;
      this.running++;
      void this.serve(e).finally(() => {
        this.running--;
        this.pump();
      });
    }
  }

  private async serve(e: Entry): Promise<void> {
    const id = keys.logRequestId(this.opts.nodeId, e.key);
    if (!id || !isRequestId(id) || e.lease === '0') {
      // No answer can be written that would expire: drop the request.
      this.opts.log(`log request ${e.key}: malformed (bad id, or not bound to a lease); deleted`);
      await this.cluster.ns
        .delete()
        .key(e.key)
        .exec()
        .catch(() => undefined);
      return;
    }
    let answer: LogAnswer;
    let data: Buffer = Buffer.alloc(0);
    try {
      const req = parseLogRequest(e.value);
      if (typeof req === 'string') throw new Refusal(req, 'refused');
      ({ answer, data } = await this.read(req));
    } catch (err) {
      const code = err instanceof Refusal ? err.code : 'failed';
      answer = { from: 0, to: 0, size: 0, chunks: 0, error: (err as Error).message, code };
    }
    await this.send(e, id, answer, data);
  }

  private refuse(e: Entry, error: string): Promise<void> {
    const id = keys.logRequestId(this.opts.nodeId, e.key);
    if (!id || !isRequestId(id) || e.lease === '0') return Promise.resolve();
    return this.send(e, id, { from: 0, to: 0, size: 0, chunks: 0, error, code: 'failed' }, Buffer.alloc(0));
  }

  /** The answer in one transaction, only if the request is still there as we read it. */
  private async send(e: Entry, id: string, answer: LogAnswer, data: Buffer): Promise<void> {
    const ns = this.cluster.ns;
    const ops = [];
    let seq = 0;
    for (let off = 0; off < data.length; off += LOG_CHUNK_BYTES)
      ops.push(
        ns
          .put(keys.logResponseChunk(id, seq++))
          .value(data.subarray(off, off + LOG_CHUNK_BYTES))
          .lease(e.lease),
      );
    ops.push(
      ns
        .put(keys.logResponseEnd(id))
        .value(encodeLogMessage({ ...answer, chunks: seq }))
        .lease(e.lease),
    );
    try {
      await ns
        .if(e.key, 'Mod', '==', e.modRevision)
        .then(...ops)
        .commit();
    } catch (err) {
      // Most often the asker's lease ran out (it went away): nothing to answer.
      if (!/lease not found/i.test((err as Error).message))
        this.opts.log(`answering log request for ${e.key}: ${(err as Error).message}`);
    }
  }

  private async read(req: LogRequest): Promise<{ answer: LogAnswer; data: Buffer }> {
    const ref = parseRunId(req.run)!;
    const res = await this.cluster.ns.get(keys.run(ref)).exec();
    if (!res.kvs[0]) throw new Refusal(`no run ${req.run} in the history`, 'refused');
    const run = decode<RunRecord>('run', keys.run(ref), res.kvs[0].value);
    if (run.node !== this.opts.nodeId)
      throw new Refusal(
        `run ${req.run} ran on ${run.node ? `node ${run.node}` : 'no node'}, not on ${this.opts.nodeId}`,
        'refused',
      );
    const path = runLogPath(this.opts.dataDir, ref.job, req.run);
    let fh: FileHandle;
    try {
      // O_NOFOLLOW: a link planted in the logs folder must not make us read another file.
      fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT')
        throw new Refusal(
          `no log file for run ${req.run} on node ${this.opts.nodeId} (it printed nothing, or its log was pruned)`,
          'missing',
        );
      throw new Refusal(`cannot open the log of run ${req.run}: ${(err as Error).message}`, 'failed');
    }
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw new Refusal(`the log of run ${req.run} is not a regular file`, 'failed');
      const size = st.size;
      let from = Math.min(req.offset ?? 0, size);
      if (req.tailLines !== undefined)
        from = await tailStartOf({ size, read: (at, n) => readAt(fh, at, n) }, req.tailLines, SCAN_BYTES);
      else if (req.since !== undefined) {
        from = await this.sinceFrom(path, req.since, { size, mtimeMs: st.mtimeMs });
        from = await lineStart(fh, from);
      }
      const data = await readAt(fh, from, Math.min(req.maxBytes, size - from));
      return { answer: { from, to: from + data.length, size, chunks: 0 }, data };
    } finally {
      await fh.close();
    }
  }

  private async sinceFrom(logPath: string, since: number, file: { size: number; mtimeMs: number }) {
    let idx: FileHandle | undefined;
    try {
      idx = await open(runLogIndexPath(logPath), constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch {
      return sinceStart(since, { count: 0, entry: () => ({ t: 0, offset: 0 }) }, file);
    }
    try {
      const count = Math.floor((await idx.stat()).size / INDEX_ENTRY_BYTES);
      const entry = async (i: number) =>
        decodeIndexEntry(await readAt(idx!, i * INDEX_ENTRY_BYTES, INDEX_ENTRY_BYTES));
      return await sinceStart(since, { count, entry }, file);
    } finally {
      await idx.close();
    }
  }
}

/** The start of the line `offset` is in (looking back at most one scan block), so lines stay whole. */
async function lineStart(fh: FileHandle, offset: number): Promise<number> {
  if (offset === 0) return 0;
  const start = Math.max(0, offset - SCAN_BYTES);
  const r = nthNewlineFromEnd(await readAt(fh, start, offset - start), 1);
  return 'at' in r ? start + r.at + 1 : start === 0 ? 0 : offset;
}

async function readAt(fh: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(Math.max(0, length));
  let got = 0;
  while (got < buf.length) {
    const { bytesRead } = await fh.read(buf, got, buf.length - got, position + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got === buf.length ? buf : buf.subarray(0, got);
}
