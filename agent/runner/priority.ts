// The agent runs at a higher CPU priority than the jobs it launches. At a busy
// second boundary the agent must release every run due before the runs it has
// already released take the cores; each released process otherwise preempts the
// agent as it wakes. Jobs get the agent's original niceness back, so they run
// exactly as they would have without Peppercorn.
import { getPriority, setPriority } from 'node:os';

let jobNice: number | undefined;

/** Lowers the agent's niceness by `boost` (needs root); returns what changed, or undefined. */
export function raiseAgentPriority(boost: number): { from: number; to: number } | undefined {
  if (boost <= 0) return undefined;
  const from = getPriority();
  const to = Math.max(-20, from - boost);
  try {
    setPriority(to);
  } catch {
    return undefined; // not permitted: everything runs at one priority, as before
  }
  jobNice = from;
  return { from, to };
}

/** The niceness runs start at, when the agent raised its own above it. */
export function jobNiceness(): number | undefined {
  return jobNice;
}

/** Gives a freshly spawned run the niceness the agent had before raising its own. */
export function restoreJobPriority(pid: number | undefined): void {
  if (jobNice === undefined || pid === undefined) return;
  try {
    setPriority(pid, jobNice);
  } catch {
    /* the process is already gone; its exit is reported elsewhere */
  }
}
