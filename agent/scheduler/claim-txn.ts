// The scheduler's etcd transactions, built and not sent: the claim of a time, the claim of
// a manual run or retry, and a run's outcome. Each guards everything its effect depends
// on, so whichever node or incarnation loses a race writes nothing:
//   assign/<job>  unchanged since we read it  (the leader still gives us the job)
//   nodes/<me>    has our epoch               (our lease is alive: we are not a ghost)
//   jobs/<job>    has the create revision we scheduled (the same incarnation)
//   cursors/<job> unchanged since we read it  (nobody accounted for the time before us)
//   runs/<job>/T and each semaphore slot do not exist yet
import type { IOperation } from 'etcd3';
import type { Cluster } from '../core/etcd';
import { keys, type RunRef } from '../core/keys';
import { encode, type ActiveEntry, type Cursor, type RunRecord } from '../core/records';

type Ns = Cluster['ns'];

/** One condition of a transaction, on a key of the cluster's namespace. */
export type Compare = [key: string, target: 'Mod' | 'Create' | 'Version', cmp: '==' | '>', value: number];

/**
 * A transaction as data: its conditions, its writes, and what its else branch reads. Claims
 * are kept as parts so several can be committed as one transaction (claim-batch.ts).
 */
export interface TxnParts {
  compares: Compare[];
  ops: IOperation[];
  reads: IOperation[];
}

/** The transaction of one or more parts, ready to commit. */
export function txnOf(ns: Ns, parts: TxnParts) {
  const [first, ...rest] = parts.compares;
  let txn = ns.if(...first);
  for (const c of rest) txn = txn.and(...c);
  return txn.then(...parts.ops).else(...parts.reads);
}

/** This node as a claimant. */
export interface Claimant {
  id: string;
  epoch: number;
  leaseId: string;
}

/** What a claim of a job's time stands on. */
export interface ClaimBasis {
  job: string;
  assignRev: number;
  createRev: number;
}

/** Writes that make a claimed run visible: its record, its in-flight entry, its slots. */
export function launchOps(ns: Ns, me: Claimant, run: RunRecord, single: boolean): IOperation[] {
  const active: ActiveEntry = { job: run.job, epoch: run.epoch, since: run.claimedAt };
  if (single) active.single = true;
  if (run.uid) active.uid = run.uid;
  // Slots are bound to our lease: if this node dies, they are freed when etcd expires it.
  const slots = (run.holds ?? []).map((slot) =>
    ns
      .put(slot)
      .value(encode({ run: run.id, node: run.node }))
      .lease(me.leaseId),
  );
  return [
    ns.put(keys.run(run)).value(encode(run)),
    ns.put(keys.activeRun(run.node, run.id)).value(encode(active)),
    ...slots,
  ];
}

/**
 * The claim of a time: the cursor moves to `next` and, when a run launches, its record,
 * in-flight entry and slots are written. On failure the else branch reads back the keys
 * `claimConflict` needs, in that order: cursor, assignment, node, run.
 */
export function claimParts(
  ns: Ns,
  me: Claimant,
  c: ClaimBasis & {
    cursorRev: number;
    next: Cursor;
    run?: { record: RunRecord; single: boolean };
    /** Written with the claim (skipped-time records and their alerts). */
    extraOps: IOperation[];
    /** Further mod revisions that must still hold (a dependency's completion keys). */
    compares: [string, number][];
  },
): TxnParts {
  const cursorKey = keys.cursor(c.job);
  const compares: Compare[] = [...basis(me, c), [cursorKey, 'Mod', '==', c.cursorRev]];
  const ops = [...c.extraOps, ns.put(cursorKey).value(encode(c.next))];
  if (c.run) {
    const run = c.run.record;
    compares.push([keys.run(run), 'Create', '==', 0]);
    for (const slot of run.holds ?? []) compares.push([slot, 'Create', '==', 0]);
    ops.push(...launchOps(ns, me, run, c.run.single));
  }
  for (const [key, rev] of c.compares) compares.push([key, 'Mod', '==', rev]);
  const reads = [ns.get(cursorKey), ns.get(keys.assignment(c.job)), ns.get(keys.node(me.id))];
  if (c.run) reads.push(ns.get(keys.run(c.run.record)));
  return { compares, ops, reads };
}

/**
 * The claim of a manual run or a retry: the trigger is consumed in the same write. A loop's
 * manual run is one of its iterations, so it also moves the loop's cursor (`loopCursor`).
 */
export function triggerClaimTxn(
  ns: Ns,
  me: Claimant,
  c: ClaimBasis & {
    trigger: string;
    run: RunRecord;
    single: boolean;
    loopCursor?: { rev: number; next: Cursor };
  },
) {
  const compares: Compare[] = [
    ...basis(me, c),
    [c.trigger, 'Version', '>', 0],
    [keys.run(c.run), 'Create', '==', 0],
  ];
  for (const slot of c.run.holds ?? []) compares.push([slot, 'Create', '==', 0]);
  const ops = [ns.delete().key(c.trigger), ...launchOps(ns, me, c.run, c.single)];
  if (c.loopCursor) {
    compares.push([keys.cursor(c.job), 'Mod', '==', c.loopCursor.rev]);
    ops.push(ns.put(keys.cursor(c.job)).value(encode(c.loopCursor.next)));
  }
  return txnOf(ns, { compares, ops, reads: [] });
}

/** A manual run of a loop asked for while the loop runs: recorded as skipped, not started. */
export function skippedTriggerTxn(ns: Ns, me: Claimant, trigger: string, ref: RunRef, run: RunRecord) {
  return txnOf(ns, {
    compares: [
      [keys.node(me.id), 'Create', '==', me.epoch],
      [trigger, 'Version', '>', 0],
      [keys.run(ref), 'Create', '==', 0],
    ],
    ops: [ns.delete().key(trigger), ns.put(keys.run(ref)).value(encode(run))],
    reads: [],
  });
}

/**
 * A run's outcome: the record (if it is still the one our claim wrote, or the one the
 * outcome last replaced), the in-flight entry, and only the slots our claim created (if
 * etcd expired our lease they may belong to other runs). On failure the else branch reads
 * the record and each slot, for `outcomeConflict`.
 */
export function outcomeTxn(
  ns: Ns,
  o: { run: RunRecord; claimRev: number; slots: string[]; slotRev: number; extraOps: IOperation[] },
) {
  const runKey = keys.run(o.run);
  return txnOf(ns, {
    compares: [
      [runKey, 'Mod', '==', o.claimRev],
      ...o.slots.map((slot): Compare => [slot, 'Create', '==', o.slotRev]),
    ],
    ops: [
      ns.put(runKey).value(encode(o.run)),
      ns.delete().key(keys.activeRun(o.run.node, o.run.id)),
      ...o.slots.map((slot) => ns.delete().key(slot)),
      ...o.extraOps,
    ],
    reads: [ns.get(runKey), ...o.slots.map((slot) => ns.get(slot))],
  });
}

function basis(me: Claimant, c: ClaimBasis): Compare[] {
  return [
    [keys.assignment(c.job), 'Mod', '==', c.assignRev],
    [keys.node(me.id), 'Create', '==', me.epoch],
    [keys.job(c.job), 'Create', '==', c.createRev],
  ];
}
