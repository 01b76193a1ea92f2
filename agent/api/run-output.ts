// A run's output, whole, from wherever it still is: what `peppercorn logs` and the console's log
// panel both read through (one definition of where output comes from).
//
// - Shipped output in etcd (logs/<run>/<seq>) is the live tail and holds small runs whole, but it
//   expires (about an hour) and stops at a per-run cap (1 MiB).
// - The node that ran it keeps the whole output in a file, and answers requests for it through etcd
//   (agent/core/log-requests.ts), a window at a time.
// - When that node is down, etcd still has the run record's tail and whatever chunks remain.
// planSource decides which; readRunOutput does it. Positions are byte offsets in the run's output,
// the same whichever source gave the bytes, so a reader that reconnects resumes where it was.
import type { Lease } from 'etcd3';
import type { Cluster } from '../core/etcd';
import { keys } from '../core/keys';
import type { RunRecord } from '../core/records';
import { Store } from './store';
import {
  LOG_REQUEST_TTL_SEC,
  LOG_WINDOW_BYTES,
  encodeLogMessage,
  newRequestId,
  parseLogAnswer,
  type LogAnswer,
  type LogRequest,
} from '../core/log-requests';
import { tailStart } from '../core/log-seek';
import { isShipCapMarker } from '../core/ship-marker';

export interface RunOutputOptions {
  /** Only the last N lines. */
  tailLines?: number;
  /** Only output written at or after this time (ms since the epoch; to within a second). */
  since?: number;
  /** Keep going while the run runs, until it ends. */
  follow?: boolean;
  /** Resume at this byte of the output (a reader that reconnects); onStart says if it could. */
  from?: number;
  signal?: AbortSignal;
  /** Called once, before any data: the offset the bytes shown start at (0: clear, from the start). */
  onStart?: (from: number) => void;
  /** `next`: the offset to resume at once `data` is shown (undefined when there is none). */
  onData: (data: Buffer, next: number | undefined) => Promise<void> | void;
  /** Something the reader should be told beside the output (the node is down, output expired…). */
  onNote?: (note: string) => void;
  /** How long a node may take to answer one request. */
  answerTimeoutMs?: number;
  /** How often a followed run whose output comes from its node is asked again. */
  pollMs?: number;
}

export type OutputSource = 'etcd' | 'node' | 'etcd-partial' | 'none';

export interface RunOutputResult {
  run: RunRecord | null;
  source: OutputSource;
}

/** What etcd holds of a run's output. */
export interface ShippedOutput {
  /** Chunks from seq 0 with no gap (each chunk is the next bytes of the output). */
  contiguous: boolean;
  /** Output bytes in those chunks (the cap marker excluded). */
  bytes: number;
  /** The shipper stopped at its cap: the rest is only in the node's file. */
  capped: boolean;
}

/**
 * Where to read a run's output from. etcd when it holds all of it (cheap; no node involved), else
 * the node's file while the node lives, else what etcd has. `--since` needs the node (only its file
 * has times); a followed running run stays on etcd's live tail while that tail is whole.
 */
export function planSource(
  run: RunRecord | null,
  shipped: ShippedOutput,
  nodeAlive: boolean,
  want: { since?: number; follow?: boolean },
): OutputSource {
  if (!run) return 'none';
  const running = run.status === 'running';
  const whole =
    shipped.contiguous && !shipped.capped && (running || shipped.bytes === (run.outputBytes ?? 0));
  if (want.since === undefined && whole) return 'etcd';
  if (nodeAlive && run.node) return 'node';
  return 'etcd-partial';
}

export class NodeLogError extends Error {
  constructor(
    message: string,
    readonly code: LogAnswer['code'] | 'no-answer',
  ) {
    super(message);
  }
}

export async function readRunOutput(
  cluster: Cluster,
  runId: string,
  opts: RunOutputOptions,
): Promise<RunOutputResult> {
  const store = new Store(cluster);
  const run = await store.getRun(runId);
  const note = (text: string) => opts.onNote?.(text);
  if (!run) {
    opts.onStart?.(0);
    return { run, source: 'none' };
  }
  const { chunks } = await store.readLogs(runId);
  const shipped = shippedOutput(chunks);
  const alive = run.node ? (await cluster.ns.get(keys.node(run.node)).exec()).kvs.length > 0 : false;
  let source = planSource(run, shipped, alive, opts);
  if (source === 'etcd') {
    const last = await fromEtcd(store, run, chunks, opts);
    // A followed run that outgrew the shipping cap meanwhile: the rest is in the node's file.
    if (last && last.capped && alive) {
      const final = last.run ?? run;
      const done = await fromNode(cluster, final, { offset: last.shown }, opts, false).catch((err: Error) => {
        note(`${err.message}; output after byte ${last.shown} is only in the log file on ${run.node}`);
        return null;
      });
      if (done) return { run: done.run ?? run, source: 'node' };
    } else if (last?.capped)
      note(`node ${run.node} is down: output after byte ${last.shown} is only in its log file`);
    return { run: last?.run ?? run, source };
  }
  if (source === 'node') {
    let shown = false;
    const onData: RunOutputOptions['onData'] = (data, next) => {
      shown = true;
      return opts.onData(data, next);
    };
    try {
      const done = await fromNode(cluster, run, opts, { ...opts, onData }, true);
      return { run: done.run ?? run, source };
    } catch (err) {
      // Once output is shown, falling back to other bytes would garble it: say why it stopped.
      if (!(err instanceof NodeLogError) || shown) throw err;
      note(`${err.message}; showing what etcd has`);
      source = 'etcd-partial';
    }
  } else if (run.node)
    note(
      `node ${run.node} is down: its log file cannot be read now; showing what etcd has` +
        (opts.since !== undefined ? ' (--since needs the node: output kept in etcd has no times)' : ''),
    );
  await fromEtcdPartial(run, chunks, shipped, opts);
  return { run, source };
}

/** Splits stored chunks into what they tell about the output. */
export function shippedOutput(chunks: { seq: number; data: Buffer }[]): ShippedOutput {
  let bytes = 0;
  let contiguous = true;
  let capped = false;
  chunks.forEach((c, i) => {
    if (c.seq !== i) contiguous = false;
    if (i === chunks.length - 1 && isShipCapMarker(c.data)) capped = true;
    else bytes += c.data.length;
  });
  return { contiguous, bytes, capped };
}

/**
 * Shipped chunks (then, following, new ones until the run ends). Resolves with the final record,
 * how many output bytes were passed, and whether the shipper's cap cut it.
 */
async function fromEtcd(
  store: Store,
  run: RunRecord,
  stored: { seq: number; data: Buffer }[],
  opts: RunOutputOptions,
): Promise<{ run: RunRecord | null; shown: number; capped: boolean } | null> {
  let pos = 0;
  let skip = opts.from ?? 0;
  if (opts.tailLines !== undefined && !opts.from) {
    const all = Buffer.concat(stored.filter((c) => !isShipCapMarker(c.data)).map((c) => c.data));
    skip = tailStart(all, opts.tailLines);
  }
  opts.onStart?.(skip);
  let capped = false;
  let nextSeq = 0;
  // Strictly in order: a chunk is passed on only after the previous one was taken.
  let chain = Promise.resolve();
  // A chunk whose send failed leaves a gap in the seqs: later bytes are shown, but byte positions
  // are no longer known, so there is nothing to resume at (nor to continue from on the node).
  let gap = false;
  const emit = (data: Buffer, seq: number) => {
    if (seq < nextSeq) return;
    if (seq > nextSeq && !gap) {
      gap = true;
      opts.onNote?.(
        `part of the live output did not reach etcd; the whole output is in the log file on ${run.node}`,
      );
    }
    nextSeq = seq + 1;
    if (isShipCapMarker(data)) {
      capped = !gap;
      return;
    }
    const start = pos;
    pos += data.length;
    if (pos <= skip) return;
    const part = start < skip ? data.subarray(skip - start) : data;
    const next = gap ? undefined : pos;
    chain = chain.then(() => opts.onData(part, next));
  };
  for (const c of stored) emit(c.data, c.seq);
  let final: RunRecord | null = run;
  if (opts.follow && run.status === 'running') {
    await chain;
    final = await store.followLogs(run.id, (data, seq) => emit(data, seq), opts.signal, nextSeq);
  }
  await chain;
  return { run: final, shown: pos, capped };
}

/** What etcd has when the node cannot be asked: chunks, then the record's tail past them. */
async function fromEtcdPartial(
  run: RunRecord,
  chunks: { seq: number; data: Buffer }[],
  shipped: ShippedOutput,
  opts: RunOutputOptions,
): Promise<void> {
  opts.onStart?.(0);
  const note = (text: string) => opts.onNote?.(text);
  const output = chunks.filter((c) => !isShipCapMarker(c.data)).map((c) => c.data);
  let out: Buffer;
  const tail = Buffer.from(run.tail ?? '');
  const total = run.outputBytes ?? 0;
  if (shipped.contiguous && output.length) {
    const head = Buffer.concat(output);
    // The tail holds the output's last bytes; show the part the chunks do not.
    const tailFrom = Math.max(0, total - tail.length);
    const past = tail.subarray(Math.max(0, head.length - tailFrom));
    if (total > head.length + past.length)
      note(
        `bytes ${head.length}–${total - past.length} of ${total} are only in the log file on ${run.node}; ` +
          `showing the ${head.length} bytes shipped to etcd and the last ${past.length} kept with the run`,
      );
    out = Buffer.concat([head, past]);
  } else if (tail.length) {
    if (total > tail.length)
      note(
        `the shipped output has expired; showing the last ${tail.length} of ${total} bytes kept with the run`,
      );
    out = tail;
  } else {
    if (output.length) note('the first part of the shipped output has expired; showing what remains');
    out = Buffer.concat(output);
  }
  if (opts.tailLines !== undefined) out = out.subarray(tailStart(out, opts.tailLines));
  if (out.length) await opts.onData(out, undefined);
}

/**
 * The run's log file, from its node, a window at a time; following, asks again until the run has
 * ended and the file is read to its end. `start` is where the first request starts.
 */
async function fromNode(
  cluster: Cluster,
  run: RunRecord,
  start: { offset?: number; from?: number; tailLines?: number; since?: number },
  opts: RunOutputOptions,
  announce: boolean,
): Promise<{ run: RunRecord | null }> {
  const timeoutMs = opts.answerTimeoutMs ?? 10_000;
  const lease = cluster.ns.lease(LOG_REQUEST_TTL_SEC);
  lease.on('lost', () => undefined);
  let current: RunRecord | null = run;
  try {
    let req: LogRequest = {
      run: run.id,
      maxBytes: LOG_WINDOW_BYTES,
      ...(start.tailLines !== undefined && !start.from
        ? { tailLines: start.tailLines }
        : start.since !== undefined && !start.from
          ? { since: start.since }
          : { offset: start.offset ?? start.from ?? 0 }),
    };
    // One attempt for the first window (its failure decides the fallback); later windows are asked
    // again from the same offset a few times (a dropped watch, an etcd hiccup).
    const ask = async (r: LogRequest, attempts: number) => {
      for (let i = 1; ; i++) {
        try {
          return await askNode(cluster, lease, run.node, r, timeoutMs);
        } catch (err) {
          if (i < attempts && err instanceof NodeLogError && err.code === 'no-answer') continue;
          if (attempts === 1) throw err;
          throw new NodeLogError(`node ${run.node} stopped answering at byte ${r.offset ?? 0}`, 'no-answer');
        }
      }
    };
    let first = true;
    let next = ask(req, 1);
    for (;;) {
      if (opts.signal?.aborted) return { run: current };
      const { answer, data } = await next;
      if (answer.error) {
        // A run that printed nothing has no file: that is its whole output.
        if (answer.code === 'missing' && first && (run.outputBytes ?? 0) === 0 && run.status !== 'running') {
          if (announce) opts.onStart?.(0);
          return { run: current };
        }
        if (!first) throw new NodeLogError(`node ${run.node}: ${answer.error}`, 'failed');
        throw new NodeLogError(`node ${run.node} could not send the log: ${answer.error}`, answer.code);
      }
      if (first && announce) opts.onStart?.(answer.from);
      first = false;
      req = { run: run.id, offset: answer.to, maxBytes: LOG_WINDOW_BYTES };
      const more = answer.to < answer.size;
      // Ask for the next window while this one is written out: two windows at most in memory.
      if (more) {
        next = ask(req, 4);
        next.catch(() => undefined); // handled at the next turn, unless onData fails first
      }
      if (data.length) await opts.onData(data, answer.to);
      if (more) continue;
      // At the end of the file: done, unless following a run still writing to it.
      if (!opts.follow || current?.status !== 'running') return { run: current };
      await sleep(opts.pollMs ?? 1000, opts.signal);
      current = await new Store(cluster).getRun(run.id).catch(() => current);
      // Ended: one last read catches what it wrote last.
      if (current && current.status !== 'running') opts = { ...opts, follow: false };
      next = ask(req, 4);
    }
  } finally {
    await lease.revoke().catch(() => undefined);
  }
}

/** One request, one answer: the bytes of one window (or the node's refusal). Exported for tests. */
export async function askNode(
  cluster: Cluster,
  lease: Lease,
  node: string,
  req: LogRequest,
  timeoutMs: number,
): Promise<{ answer: LogAnswer; data: Buffer }> {
  const ns = cluster.ns;
  const id = newRequestId();
  const watcher = await ns.watch().prefix(keys.logResponse(id)).create();
  let timer: NodeJS.Timeout | undefined;
  try {
    const answered = new Promise<{ answer: LogAnswer; parts: Map<number, Buffer> }>((resolve, reject) => {
      const parts = new Map<number, Buffer>();
      timer = setTimeout(
        () =>
          reject(
            new NodeLogError(
              `node ${node} did not answer within ${Math.round(timeoutMs / 1000)} s (is its agent older than this one, or overloaded?)`,
              'no-answer',
            ),
          ),
        timeoutMs,
      );
      watcher.on('error', () => reject(new NodeLogError('the watch on the answer failed', 'no-answer')));
      watcher.on('put', (kv) => {
        const key = kv.key.toString();
        if (key !== keys.logResponseEnd(id)) return void parts.set(keys.logSeq(key), kv.value);
        const answer = parseLogAnswer(kv.value);
        if (answer) resolve({ answer, parts });
        else reject(new NodeLogError(`node ${node} sent an answer this reader cannot read`, 'failed'));
      });
    });
    await lease.put(keys.logRequest(node, id)).value(encodeLogMessage(req)).exec();
    const { answer, parts } = await answered;
    const list: Buffer[] = [];
    for (let i = 0; i < answer.chunks; i++) {
      const p = parts.get(i);
      if (!p) throw new NodeLogError(`chunk ${i} of an answer from node ${node} is missing`, 'no-answer');
      list.push(p);
    }
    return { answer, data: Buffer.concat(list) };
  } finally {
    clearTimeout(timer);
    await Promise.all([
      watcher.cancel(),
      ns.delete().prefix(keys.logResponse(id)).exec(),
      ns.delete().key(keys.logRequest(node, id)).exec(),
    ]).catch(() => undefined);
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done);
  });
}
