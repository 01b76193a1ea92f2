// Asking a node for part of a run's log file, through etcd: the one definition of the protocol,
// shared by the agent that answers (agent/runner/log-server.ts) and the reader (run-output.ts).
//
//   reader: put logreq/<node>/<id> = LogRequest, bound to its own short lease
//   node:   one transaction, only while that request key exists:
//             logresp/<id>/<seq> = up to LOG_CHUNK_BYTES of the file each, at most LOG_WINDOW_BYTES in all
//             logresp/<id>/end   = LogAnswer (where the bytes came from and how big the file is now)
//           every key on the request's lease, so a reader that dies leaves nothing behind.
//   reader: reads the answer, deletes the request and the answer, asks again from `to`.
//
// One window per request is the flow control: the node never has more than one window per request
// in etcd, and the reader asks for the next only when it has used the last, so a slow reader holds
// at most one window. Resuming is asking again from the last offset used.
import { randomBytes } from 'node:crypto';
import { parseRunId } from './keys';
import { checkFormat, encode } from './records';

/** Most bytes of log one request returns: the transaction (chunks and keys) stays under etcd's 1.5 MiB. */
export const LOG_WINDOW_BYTES = 1 << 20;
/** Most bytes in one answer key. */
export const LOG_CHUNK_BYTES = 256 << 10;
/** The reader's lease: the request and its answer vanish this long after the reader stops. */
export const LOG_REQUEST_TTL_SEC = 10;
/** A request value larger than this is refused unread. */
const REQUEST_MAX_BYTES = 1024;
/** `--tail` beyond this many lines is refused (a 64 MiB log has fewer lines of any use). */
export const TAIL_LINES_MAX = 10_000_000;

export interface LogRequest {
  /** The run id, as `peppercorn runs` prints it. */
  run: string;
  /** Where to start, in bytes from the start of the file. Ignored when tailLines or since is set. */
  offset?: number;
  /** Start at the beginning of the last N lines (first request of a `--tail N` read). */
  tailLines?: number;
  /** Start at the output written at or after this time, ms since the epoch (`--since`). */
  since?: number;
  /** Most bytes wanted back (capped at LOG_WINDOW_BYTES). */
  maxBytes: number;
}

export interface LogAnswer {
  /** File offset of the first byte returned (where tailLines/since led, else `offset`). */
  from: number;
  /** File offset after the last byte returned: the next request's `offset`. */
  to: number;
  /** The file's size when it was read; `to < size` means there is more. */
  size: number;
  /** How many chunk keys come with this answer. */
  chunks: number;
  /** Set when the node refused or could not read; nothing else is meaningful then. */
  error?: string;
  /** `refused`: not a valid request for this node; `missing`: no log file (never written, or pruned). */
  code?: 'refused' | 'missing' | 'failed';
}

export function newRequestId(): string {
  return randomBytes(12).toString('hex');
}

export function isRequestId(id: string): boolean {
  return /^[a-f0-9]{24}$/.test(id);
}

const isOffset = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** A request from etcd, checked field by field; a string says what is wrong with it. */
export function parseLogRequest(value: Buffer): LogRequest | string {
  if (value.length > REQUEST_MAX_BYTES) return `request larger than ${REQUEST_MAX_BYTES} bytes`;
  let v: unknown;
  try {
    v = JSON.parse(value.toString('utf8'));
  } catch {
    return 'request is not JSON';
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'request is not an object';
  const r = v as Record<string, unknown>;
  try {
    checkFormat('log request', r);
  } catch (err) {
    return (err as Error).message;
  }
  if (typeof r.run !== 'string' || !parseRunId(r.run))
    return `"${String(r.run).slice(0, 80)}" is not a run id (expected <job>.<scheduled ms>.<attempt>)`;
  if (r.offset !== undefined && !isOffset(r.offset)) return 'offset must be a whole number of bytes ≥ 0';
  if (r.tailLines !== undefined && (!isOffset(r.tailLines) || r.tailLines > TAIL_LINES_MAX))
    return `tailLines must be a whole number from 0 to ${TAIL_LINES_MAX}`;
  if (r.since !== undefined && !isOffset(r.since)) return 'since must be a time in ms since the epoch';
  if (!isOffset(r.maxBytes) || r.maxBytes === 0) return 'maxBytes must be a whole number ≥ 1';
  return {
    run: r.run,
    offset: r.offset as number | undefined,
    tailLines: r.tailLines as number | undefined,
    since: r.since as number | undefined,
    maxBytes: Math.min(r.maxBytes, LOG_WINDOW_BYTES),
  };
}

/** Requests and answers are records like any other: JSON with their format version. */
export function encodeLogMessage(m: LogRequest | LogAnswer): string {
  return encode(m);
}

export function parseLogAnswer(value: Buffer): LogAnswer | null {
  try {
    const a = JSON.parse(value.toString('utf8')) as LogAnswer & Record<string, unknown>;
    if (typeof a !== 'object' || a === null) return null;
    checkFormat('log answer', a);
    return isOffset(a.to) && isOffset(a.chunks) ? a : null;
  } catch {
    return null;
  }
}
