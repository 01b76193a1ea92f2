// runs.*: a job's latest runs and one run, without their output tails.
import type { RunRecord } from '../../core/records';
import type { RunCalls, RunInfo } from '../contract';
import type { Handlers, ServerContext } from './context';

export function runInfo(r: RunRecord): RunInfo {
  // Everything but the output tail, which can be KiBs per run (logs.follow serves it).
  const info: RunInfo & { tail?: string } = { ...r };
  delete info.tail;
  return info;
}

export function runHandlers(ctx: ServerContext): Handlers<RunCalls> {
  return {
    'runs.list': async (job, limit) =>
      (await ctx.need().store.listRuns(job, Math.max(1, Math.min(1000, Math.floor(limit))))).map(runInfo),
    'runs.get': async (runId) => {
      const r = await ctx.need().store.getRun(runId);
      return r && runInfo(r);
    },
  };
}
