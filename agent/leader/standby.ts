// Which node stands by for each job: it claims a time the owner has left unclaimed a short
// grace after it was due (scheduler/standby.ts), so a dead owner's jobs go on within about
// a second instead of after its lease expires. Only jobs whose claims need nothing but the
// cursor have one: clock-scheduled, no semaphore, no parents, not a loop — a single-copy
// run must never start beside a copy on a node that may still be alive — and not a job
// whose owner leaves a due time unclaimed on purpose (overlap: queue, misfire: all); the
// leader decides which (leader.ts, standbyEligible). Pure.
import type { LiveNode, Owner } from './assign';
import { fits, refusalOf, type JobPlacement } from './assign';
import { fnv1a32 } from '../core/job/hash';

export interface StandbyCandidate extends JobPlacement {
  /** Eligible for a standby at all (see above). */
  standby: boolean;
}

/**
 * The standby of each job: the current one while it is still live, not the owner and still
 * fit; else the fit live node, other than the owner, that takes new jobs and has the fewest
 * standbys so far (ties by a stable hash). No standby for an ineligible job or when no
 * other node fits.
 */
export function planStandbys(
  jobs: StandbyCandidate[],
  nodes: LiveNode[],
  owners: Map<string, Owner>,
  current: Map<string, Owner>,
): Map<string, Owner | undefined> {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const open = nodes.filter((n) => !n.draining && !n.cordon && !n.clockOff);
  const load = new Map(open.map((n) => [n.id, 0]));
  const takes = (n: LiveNode, job: JobPlacement) => fits(n.labels, job) && refusalOf(n, job) === null;
  const plan = new Map<string, Owner | undefined>();
  const pending: StandbyCandidate[] = [];
  for (const job of jobs) {
    const owner = owners.get(job.name);
    if (!job.standby || !owner) {
      plan.set(job.name, undefined);
      continue;
    }
    const cur = current.get(job.name);
    const node = cur && byId.get(cur.node);
    if (
      node &&
      node.epoch === cur.epoch &&
      cur.node !== owner.node &&
      load.has(cur.node) &&
      takes(node, job)
    ) {
      load.set(cur.node, load.get(cur.node)! + 1);
      plan.set(job.name, cur);
    } else pending.push(job);
  }
  pending.sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const job of pending) {
    const owner = owners.get(job.name)!;
    let best: LiveNode | undefined;
    for (const n of open) {
      if (n.id === owner.node || !takes(n, job)) continue;
      const better =
        !best ||
        load.get(n.id)! < load.get(best.id)! ||
        (load.get(n.id) === load.get(best.id) &&
          fnv1a32(`${job.name}/${n.id}`) < fnv1a32(`${job.name}/${best.id}`));
      if (better) best = n;
    }
    if (best) load.set(best.id, load.get(best.id)! + 1);
    plan.set(job.name, best && { node: best.id, epoch: best.epoch });
  }
  return plan;
}
