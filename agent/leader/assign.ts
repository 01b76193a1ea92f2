// Which node owns which job: a pure function of the jobs, the live nodes and the
// current assignments, so the leader's decisions are easy to test and to explain.
// A job stays where it is while its owner lives (same epoch) and still matches
// its selector; only then is it moved. New placements go to the eligible node
// with the lowest load relative to its capacity, ties broken by a stable hash so
// equal clusters spread jobs the same way.

export interface JobPlacement {
  name: string;
  selector: Record<string, string>;
}

export interface LiveNode {
  id: string;
  epoch: number;
  labels: Record<string, string>;
  /** Most jobs this node will own; 0 means no limit. */
  capacity: number;
  /** Shutting down: owns nothing, so its jobs move before it leaves. */
  draining?: boolean;
}

export interface Owner {
  node: string;
  epoch: number;
}

export interface AssignmentPlan {
  /** Jobs to (re)assign: name → new owner. */
  moves: Map<string, Owner>;
  /** Jobs that no live node can take: name → why. Their assignment is removed. */
  unplaced: Map<string, string>;
}

export function matchesSelector(labels: Record<string, string>, selector: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

function stableHash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function planAssignments(
  jobs: JobPlacement[],
  nodes: LiveNode[],
  current: Map<string, Owner>,
): AssignmentPlan {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const load = new Map(nodes.map((n) => [n.id, 0]));
  const moves = new Map<string, Owner>();
  const unplaced = new Map<string, string>();
  const homeless: JobPlacement[] = [];

  for (const job of jobs) {
    const cur = current.get(job.name);
    const owner = cur && byId.get(cur.node);
    if (
      owner &&
      !owner.draining &&
      owner.epoch === cur.epoch &&
      matchesSelector(owner.labels, job.selector)
    ) {
      load.set(owner.id, (load.get(owner.id) ?? 0) + 1);
    } else {
      homeless.push(job);
    }
  }

  // Place in name order so the plan does not depend on etcd's listing order.
  homeless.sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const job of homeless) {
    let best: LiveNode | undefined;
    let bestScore = Infinity;
    let bestTie = 0;
    let sawEligible = false;
    for (const n of nodes) {
      if (n.draining) continue;
      if (!matchesSelector(n.labels, job.selector)) continue;
      sawEligible = true;
      const l = load.get(n.id) ?? 0;
      if (n.capacity > 0 && l >= n.capacity) continue;
      const score = n.capacity > 0 ? l / n.capacity : l / 1000;
      const tie = stableHash(`${job.name}/${n.id}`);
      if (score < bestScore || (score === bestScore && tie < bestTie)) {
        best = n;
        bestScore = score;
        bestTie = tie;
      }
    }
    if (best) {
      load.set(best.id, (load.get(best.id) ?? 0) + 1);
      moves.set(job.name, { node: best.id, epoch: best.epoch });
    } else {
      unplaced.set(
        job.name,
        sawEligible
          ? 'every node matching its selector is at capacity'
          : nodes.length === 0
            ? 'no live node'
            : `no live node has the labels ${JSON.stringify(job.selector)}`,
      );
    }
  }
  return { moves, unplaced };
}
