// How the leader writes many assignments at once: in transactions of as many operations as
// etcd takes, each fenced by the leader key (a deposed leader's write fails), a few in flight
// at once; and how it logs them without a line per job when thousands land together
// (10,000 jobs applied at once made the log the leader's main cost).
import type { IOperation } from 'etcd3';
import { MAX_TXN_OPS } from '../core/job/apply-plan';

/** Transactions in flight at once: the writes are independent puts and deletes. */
export const WRITES_IN_FLIGHT = 4;

/** Moves logged one line each up to this many per pass; more are summed up per node. */
export const MOVES_LOGGED_EACH = 20;

/**
 * Splits `ops` into transactions that each also carry the leader-key compare and
 * `compares` (the same on every one): at most MAX_TXN_OPS compares and operations.
 */
export function splitFenced<T>(ops: T[], compares: number, max = MAX_TXN_OPS): T[][] {
  const per = max - 1 - compares;
  if (per < 1) throw new Error(`${compares} compares leave no room for an operation in a transaction`);
  const out: T[][] = [];
  for (let i = 0; i < ops.length; i += per) out.push(ops.slice(i, i + per));
  return out;
}

/**
 * Runs the batches through `txn` (fenced by the caller), WRITES_IN_FLIGHT at once; stops
 * issuing new ones after the first that did not apply. True when all applied.
 */
export async function writeFenced(
  batches: IOperation[][],
  txn: (ops: IOperation[]) => Promise<boolean>,
): Promise<boolean> {
  let next = 0;
  let ok = true;
  await Promise.all(
    Array.from({ length: Math.min(WRITES_IN_FLIGHT, batches.length) }, async () => {
      while (ok && next < batches.length) {
        const batch = batches[next++];
        if (!(await txn(batch))) ok = false;
      }
    }),
  );
  return ok;
}

/** Log lines for a pass's moves: one per move when few, else one line per new owner. */
export function describeMoves(moves: { job: string; node: string; reason: string }[]): string[] {
  if (moves.length <= MOVES_LOGGED_EACH) return moves.map((m) => `assign ${m.job} → ${m.node}: ${m.reason}`);
  const byNode = new Map<string, { count: number; reasons: Map<string, number>; first: string }>();
  for (const m of moves) {
    const n = byNode.get(m.node) ?? { count: 0, reasons: new Map(), first: m.job };
    n.count++;
    n.reasons.set(m.reason, (n.reasons.get(m.reason) ?? 0) + 1);
    byNode.set(m.node, n);
  }
  return [...byNode].map(
    ([node, n]) =>
      `assign ${n.count} jobs → ${node} (${n.first} …): ` +
      [...n.reasons].map(([reason, k]) => `${k} × ${reason}`).join('; '),
  );
}
