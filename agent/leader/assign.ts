// Which node owns which job: a pure function of the jobs, the live nodes and the
// current assignments, so the leader's decisions are easy to test and to explain.
// - A job stays where it is while its owner lives (same epoch), still matches its
//   selector and is not being drained away.
// - New placements go to the eligible node with the lowest load relative to its
//   capacity, ties broken by a stable hash so equal clusters spread jobs alike.
// - Cordoned nodes take no new jobs; drained nodes give theirs up as each goes
//   idle; a node shutting down gives them up at once.
// - When nodes join, idle jobs move from the most to the least loaded node, a few
//   per pass. A job is never moved in the middle of a run (except at shutdown).
// - A job with a single-copy run (a loop, a semaphore holder) in flight on a live node
//   is pinned there: it goes to no other node until that run has ended (its in-flight
//   entry is gone) or the node is dead. When it must leave (selector, a drained loop),
//   it is unassigned first, which makes its node stop the run; it is placed once it
//   has. A job re-created while its old copy runs waits for it the same way.
// - A node whose clock the leader finds off claims nothing (node/clock.ts), so it takes no
//   job and gives up its idle ones at once: their times run elsewhere instead of waiting.
// - A node whose policy (users, commands: node-policy.ts) refuses a job never gets it,
//   and loses it when its policy or the job changes so that it refuses it.
import { policyRefusal, type PublishedPolicy } from '../core/node-policy';
import { fnv1a32 } from '../core/job/hash';

export interface JobPlacement {
  name: string;
  selector: Record<string, string>;
  /** Labels a node must have, whatever their value (a container job needs `runtime`). */
  needs?: string[];
  /** For node policies; a job without them is judged as running the empty command as the agent's user. */
  user?: string;
  command?: string;
}

export interface LiveNode {
  id: string;
  epoch: number;
  labels: Record<string, string>;
  /** Most jobs this node will own; 0 means no limit. */
  capacity: number;
  /** Shutting down: owns nothing, so its jobs move before it leaves. */
  draining?: boolean;
  /** An operator's cordon (no new jobs) or drain (and move its jobs away when idle). */
  cordon?: 'cordon' | 'drain';
  /** What the node will run (absent: everything). */
  policy?: PublishedPolicy;
  /** Its clock is off (skews/): it claims nothing until it agrees again. */
  clockOff?: boolean;
}

export interface Owner {
  node: string;
  epoch: number;
}

/** A single-copy run in flight on a live node, by job. */
export interface Pin extends Owner {
  run: string;
  /** A loop: it never goes idle by itself, so a drain stops it. */
  loop: boolean;
}

export interface AssignmentPlan {
  /** Jobs to (re)assign: name → new owner. */
  moves: Map<string, Owner>;
  /** Jobs that no live node can take: name → why. Their assignment is removed. */
  unplaced: Map<string, string>;
}

/** Rebalancing moves at most this many jobs per pass, so a join does not reshuffle everything at once. */
const REBALANCE_PER_PASS = 20;

export function matchesSelector(labels: Record<string, string>, selector: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** The node can take the job: its selector matches and it has every label the job needs. */
export function fits(labels: Record<string, string>, job: JobPlacement): boolean {
  return matchesSelector(labels, job.selector) && (job.needs ?? []).every((k) => labels[k] !== undefined);
}

/** The node's policy refusal of the job, or null. */
export function refusalOf(node: LiveNode, job: JobPlacement): string | null {
  return policyRefusal(node.policy, { user: job.user, command: job.command ?? '' });
}

/** The node may own the job: its labels fit and its policy allows the job. */
function accepts(node: LiveNode, job: JobPlacement): boolean {
  return fits(node.labels, job) && refusalOf(node, job) === null;
}

const takesNewJobs = (n: LiveNode) => !n.draining && !n.cordon && !n.clockOff;
const score = (n: LiveNode, load: number) => (n.capacity > 0 ? load / n.capacity : load / 1000);

export function planAssignments(
  jobs: JobPlacement[],
  nodes: LiveNode[],
  current: Map<string, Owner>,
  /** Jobs with a run in flight on their owner. */
  busy: Set<string> = new Set(),
  /** Jobs with a single-copy run in flight on a live node. */
  pinned: Map<string, Pin> = new Map(),
): AssignmentPlan {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const load = new Map(nodes.map((n) => [n.id, 0]));
  const owned = new Map<string, JobPlacement[]>(nodes.map((n) => [n.id, []]));
  const moves = new Map<string, Owner>();
  const unplaced = new Map<string, string>();
  const homeless: JobPlacement[] = [];

  const keep = (job: JobPlacement, nodeId: string) => {
    load.set(nodeId, (load.get(nodeId) ?? 0) + 1);
    owned.get(nodeId)?.push(job);
  };

  for (const job of jobs) {
    const cur = current.get(job.name);
    const pin = pinned.get(job.name);
    const pinNode = pin && byId.get(pin.node);
    if (pin && pinNode && pinNode.epoch === pin.epoch) {
      const waiting = `waiting for its run ${pin.run} on ${pin.node} to stop`;
      const ownedByPin = cur && cur.node === pin.node && cur.epoch === pin.epoch;
      const mustLeave =
        !matchesSelector(pinNode.labels, job.selector) || (pinNode.cordon === 'drain' && pin.loop);
      if (ownedByPin) {
        if (mustLeave)
          unplaced.set(job.name, waiting); // unassigned: its node stops the run
        else keep(job, pinNode.id);
      } else if (!cur) {
        const room = pinNode.capacity === 0 || (load.get(pinNode.id) ?? 0) < pinNode.capacity;
        if (!mustLeave && takesNewJobs(pinNode) && room) {
          keep(job, pinNode.id);
          moves.set(job.name, { node: pinNode.id, epoch: pinNode.epoch });
        } else unplaced.set(job.name, waiting);
      } else if (byId.get(cur.node)?.epoch === cur.epoch) {
        keep(job, cur.node); // already elsewhere (assigned before the pin was seen): no reshuffle
      }
      continue;
    }
    const owner = cur && byId.get(cur.node);
    const stays =
      owner &&
      owner.epoch === cur.epoch &&
      !owner.draining &&
      !owner.clockOff &&
      accepts(owner, job) &&
      (owner.cordon !== 'drain' || busy.has(job.name));
    if (stays) {
      load.set(owner.id, (load.get(owner.id) ?? 0) + 1);
      owned.get(owner.id)!.push(job);
    } else {
      homeless.push(job);
    }
  }

  const bestFor = (job: JobPlacement): { node?: LiveNode; sawEligible: boolean; refusals: string[] } => {
    let best: LiveNode | undefined;
    let bestScore = Infinity;
    let bestTie = 0;
    let sawEligible = false;
    const refusals: string[] = [];
    for (const n of nodes) {
      if (!takesNewJobs(n) || !fits(n.labels, job)) continue;
      const refusal = refusalOf(n, job);
      if (refusal) {
        refusals.push(`${n.id}: ${refusal}`);
        continue;
      }
      sawEligible = true;
      const l = load.get(n.id) ?? 0;
      if (n.capacity > 0 && l >= n.capacity) continue;
      const sc = score(n, l);
      const tie = fnv1a32(`${job.name}/${n.id}`);
      if (sc < bestScore || (sc === bestScore && tie < bestTie)) {
        best = n;
        bestScore = sc;
        bestTie = tie;
      }
    }
    return { node: best, sawEligible, refusals };
  };

  // Place in name order so the plan does not depend on etcd's listing order.
  homeless.sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const job of homeless) {
    const { node, sawEligible, refusals } = bestFor(job);
    if (node) {
      load.set(node.id, (load.get(node.id) ?? 0) + 1);
      owned.get(node.id)!.push(job);
      moves.set(job.name, { node: node.id, epoch: node.epoch });
    } else {
      unplaced.set(
        job.name,
        sawEligible
          ? 'every node matching its selector is at capacity'
          : refusals.length
            ? `the policy of every node that could take it refuses it (${refusals.join('; ')})`
            : nodes.length === 0
              ? 'no live node'
              : job.needs?.length
                ? `no live node that takes new jobs has ${job.needs.map((k) => `a ${k} label`).join(' and ')}${Object.keys(job.selector).length ? ` and the labels ${JSON.stringify(job.selector)}` : ''} (a container job needs a node whose agent found podman or docker)`
                : `no live node that takes new jobs has the labels ${JSON.stringify(job.selector)}`,
      );
    }
  }

  // Rebalance: move idle jobs from the most loaded node to one where they would
  // leave the cluster more even.
  for (let moved = 0; moved < REBALANCE_PER_PASS; moved++) {
    const open = nodes.filter(takesNewJobs);
    if (open.length < 2) break;
    open.sort((a, b) => score(b, load.get(b.id)!) - score(a, load.get(a.id)!) || (a.id < b.id ? -1 : 1));
    const from = open[0];
    let done = false;
    for (const to of open.slice(1).reverse()) {
      const lf = load.get(from.id)!;
      const lt = load.get(to.id)!;
      // Only a move that makes the pair more even, not one that swaps who is heavier.
      if (score(from, lf - 1) < score(to, lt + 1) || (to.capacity > 0 && lt >= to.capacity)) continue;
      const candidates = owned
        .get(from.id)!
        .filter((j) => !busy.has(j.name) && !moves.has(j.name) && accepts(to, j))
        .sort((a, b) => (a.name < b.name ? -1 : 1));
      const job = candidates[candidates.length - 1];
      if (!job) continue;
      owned.set(
        from.id,
        owned.get(from.id)!.filter((j) => j !== job),
      );
      owned.get(to.id)!.push(job);
      load.set(from.id, lf - 1);
      load.set(to.id, lt + 1);
      moves.set(job.name, { node: to.id, epoch: to.epoch });
      done = true;
      break;
    }
    if (!done) break;
  }
  return { moves, unplaced };
}
