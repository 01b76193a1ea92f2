// Why a claim's transaction failed, read from its else branch (the keys it compared, read in
// the same round trip); pure. The order matters: a lost lease explains everything after it.
export type ClaimConflict =
  /** Our node key is gone or has another epoch: membership tells everyone. */
  | 'lease-gone'
  /** The leader moved or removed the job's assignment. */
  | 'unassigned'
  /** The job was deleted (or re-created: another incarnation). */
  | 'recreated'
  /** Another claim (or an apply) moved the cursor: re-read it from what was found. */
  | 'cursor-moved'
  /** Nothing moved but the run key exists (a manual run at that very millisecond): that
   *  record accounts for the time, which must not launch again. */
  | 'run-exists'
  /** Most likely a semaphore slot taken meanwhile. */
  | 'slot-taken';

export function claimConflict(
  found: {
    /** Create revision of nodes/<me>, if it exists. */
    nodeCreate?: number;
    /** Mod revision of assign/<job>, if it exists. */
    assignMod?: number;
    /** Mod revision of cursors/<job>, if it exists. */
    cursorMod?: number;
    /** The run key exists. */
    run: boolean;
    /** Create revision of jobs/<job> in our mirror, if it exists there. */
    jobCreate?: number;
  },
  expected: { epoch: number; assignRev: number; cursorRev: number; jobCreate: number; launching: boolean },
): ClaimConflict {
  if (found.nodeCreate !== expected.epoch) return 'lease-gone';
  if (found.assignMod !== expected.assignRev) return 'unassigned';
  if (found.jobCreate !== expected.jobCreate) return 'recreated';
  if ((found.cursorMod ?? 0) !== expected.cursorRev) return 'cursor-moved';
  if (expected.launching && found.run) return 'run-exists';
  return 'slot-taken';
}
