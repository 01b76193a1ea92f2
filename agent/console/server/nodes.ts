// nodes.*: the nodes of the live picture, one node's detail (its record and lease) and its recent runs.
import { NotFoundError } from '../../api/store';
import type { RunRecord } from '../../core/records';
import type { NodeCalls, NodeDetail } from '../contract';
import type { Handlers, ServerContext } from './context';
import { runInfo } from './runs';

/** Node detail: how many of a node's jobs, and runs of each, are read for its recent runs. */
const NODE_JOBS_READ = 25;
const RUNS_PER_JOB = 5;

export function nodeHandlers(ctx: ServerContext): Handlers<NodeCalls> {
  return {
    'nodes.list': () => ctx.active?.live.nodes() ?? [],
    'nodes.get': async (id) => {
      const { live } = ctx.need();
      const node = live.node(id);
      if (!node)
        throw new NotFoundError(`no node named "${id}" in this cluster; see the Overview's node list`);
      const rec = live.nodeRecord(id);
      let lease: NodeDetail['lease'] = null;
      if (node.alive && rec?.lease) {
        const ttl = await live.leaseTtl(rec.lease).catch(() => null);
        if (ttl) lease = { id: rec.lease, ...ttl };
      }
      return { node, pid: rec?.record.pid ?? null, version: rec?.record.version ?? null, lease };
    },
    'nodes.runs': async (id, limit) => {
      const { live, store } = ctx.need();
      // A few runs of each of its most recently active jobs: bounded reads, whatever the node owns.
      const jobs = live.jobsOwnedBy(id).slice(0, NODE_JOBS_READ);
      const runs = (await Promise.all(jobs.map((j) => store.listRuns(j, RUNS_PER_JOB)))).flat();
      const at = (r: RunRecord) => r.startedAt ?? r.scheduledAt;
      return runs
        .sort((a, b) => at(b) - at(a))
        .slice(0, Math.max(1, Math.min(200, Math.floor(limit))))
        .map(runInfo);
    },
  };
}
