// The contract's jobs: the table's rows, one job's detail and history, the editor's checks,
// and what an operator does to a job.
import type { Assignment, RunStatus } from '../../core/records';
import type { JobSpec } from '../../core/job/spec';
import type { AuditEntry } from '../../core/audit';
import type { ArgType } from './args';

/** A job spec as stored; a spec from a newer version may carry fields this one does not know. */
export type JobSpecData = JobSpec & { [field: string]: unknown };

export interface JobRow {
  name: string;
  kind: string;
  schedule: string;
  timezone: string;
  paused: boolean;
  owner: string | null;
  next: number | null;
  lastStatus: RunStatus | null;
  lastAt: number | null;
  lastRunId: string | null;
  command: string;
}

export interface FieldError {
  field: string;
  message: string;
}

export interface ValidationReport {
  ok: boolean;
  errors: FieldError[];
  /** The validated spec with defaults filled, when ok. */
  spec?: JobSpecData;
  yaml?: string;
  /** Next firing times (ms) in the job's own schedule, when it has any. */
  next?: number[];
  nextError?: string;
}

export interface JobDetail {
  spec: JobSpecData;
  owner: string | null;
  cursor: number | null;
  yaml: string;
  /** The owner's record: node, epoch, since, by, and the owners before (newest last) when recorded. */
  assignment?: Assignment | null;
  /** Key id of the spec's signature; null when unsigned. */
  signedBy?: string | null;
  /** Live nodes whose policy refuses the job, and why. */
  refusedBy?: { node: string; reason: string }[];
}

/** One change of a job: who (etcd user, OS user and host, signing key), when and what. */
export type HistoryEntry = AuditEntry;

export interface JobCalls {
  'jobs.list': () => JobRow[];
  'jobs.get': (name: string) => JobDetail;
  /** Who changed the job, when and what; newest first. */
  'jobs.history': (name: string) => HistoryEntry[];
  'jobs.validate': (input: Record<string, unknown>) => ValidationReport;
  'jobs.parseYaml': (text: string) => { ok: boolean; errors: FieldError[]; input?: Record<string, unknown> };
  'jobs.apply': (input: Record<string, unknown>) => { name: string; result: string };
  'jobs.remove': (name: string) => void;
  'jobs.pause': (name: string) => boolean;
  'jobs.resume': (name: string) => boolean;
  'jobs.trigger': (name: string) => string;
  'jobs.nextTimes': (input: Record<string, unknown>, n: number) => number[];
}

export const jobCallArgs: { [K in keyof JobCalls]: ArgType[] } = {
  'jobs.list': [],
  'jobs.get': ['string'],
  'jobs.history': ['string'],
  'jobs.validate': ['object'],
  'jobs.parseYaml': ['string'],
  'jobs.apply': ['object'],
  'jobs.remove': ['string'],
  'jobs.pause': ['string'],
  'jobs.resume': ['string'],
  'jobs.trigger': ['string'],
  'jobs.nextTimes': ['object', 'number'],
};
