// The contract's runs: a job's history and one run.
import type { RunRecord, RunStatus } from '../../core/records';
import type { ArgType } from './args';

export type { RunStatus };

/** A run record without its output tail (read that through logs.follow). */
export type RunInfo = Omit<RunRecord, 'tail'>;

export interface RunCalls {
  'runs.list': (job: string, limit: number) => RunInfo[];
  'runs.get': (runId: string) => RunInfo | null;
}

export const runCallArgs: { [K in keyof RunCalls]: ArgType[] } = {
  'runs.list': ['string', 'number'],
  'runs.get': ['string'],
};
