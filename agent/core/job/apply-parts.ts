// How a `job apply` too large for one etcd transaction is split (pure). etcd takes at
// most 128 operations and 128 compares per transaction and 1.5 MiB per request
// (--max-txn-ops, --max-request-bytes); operators run stock etcd, so an apply of
// thousands of jobs is written as parts that each fit, staged first and made visible by
// one commit (staged-apply.ts). A job's writes always share a part: a job is never seen
// without its cursor.
import type { Cursor } from '../records';
import { MAX_TXN_OPS } from './apply-plan';

/** One write of a staged apply, serializable (the parts are stored in etcd before the commit). */
export type StagedWrite =
  | { put: string; value: string }
  | { del: string }
  | { delPrefix: string }
  /** A cursor written unless an agent moved it further meanwhile (merged when rolled forward). */
  | { cursor: string; value: Cursor }
  /** The cursor a removed job leaves behind, on an hour's lease (granted when rolled forward). */
  | { tombstone: string; value: Cursor };

export interface PartLimits {
  /** Operations: etcd's limit, less the put or delete of the apply's record in the same transaction. */
  writes: number;
  /** Compares: the apply's record, and one per cursor written (a claim may move it meanwhile). */
  compares: number;
  /**
   * Bytes of keys and values: etcd refuses requests over 1.5 MiB (its default
   * --max-request-bytes); a part is also one staged value, JSON-escaped, so it keeps headroom.
   */
  bytes: number;
}

export const PART_LIMITS: PartLimits = { writes: MAX_TXN_OPS - 1, compares: MAX_TXN_OPS, bytes: 1 << 20 };

const comparesOf = (ws: StagedWrite[]) => ws.filter((w) => 'cursor' in w).length;

export function writeBytes(w: StagedWrite): number {
  const key =
    'put' in w
      ? w.put
      : 'del' in w
        ? w.del
        : 'delPrefix' in w
          ? w.delPrefix
          : 'cursor' in w
            ? w.cursor
            : w.tombstone;
  const value = 'value' in w ? (typeof w.value === 'string' ? w.value : JSON.stringify(w.value)) : '';
  // Escaping in the staged JSON may double a value; 32 bytes of framing per write.
  return key.length + 2 * value.length + 32;
}

/**
 * Splits the writes of each job (groups, in order) into parts within `limits` (counting
 * the one compare on the apply's record); a group is never split. Throws when one group
 * alone does not fit.
 */
export function splitParts(
  groups: { name: string; writes: StagedWrite[] }[],
  limits: PartLimits = PART_LIMITS,
): StagedWrite[][] {
  const out: StagedWrite[][] = [];
  let cur: StagedWrite[] = [];
  let bytes = 0;
  let cmp = 1;
  for (const g of groups) {
    const b = g.writes.reduce((n, w) => n + writeBytes(w), 0);
    const c = comparesOf(g.writes);
    if (g.writes.length > limits.writes || 1 + c > limits.compares || b > limits.bytes)
      throw new Error(
        `job "${g.name}" alone is too large for one etcd transaction (${g.writes.length} writes, ${b} bytes); make its spec smaller`,
      );
    if (
      cur.length &&
      (cur.length + g.writes.length > limits.writes || cmp + c > limits.compares || bytes + b > limits.bytes)
    ) {
      out.push(cur);
      cur = [];
      bytes = 0;
      cmp = 1;
    }
    cur.push(...g.writes);
    bytes += b;
    cmp += c;
  }
  if (cur.length) out.push(cur);
  return out;
}
