// What an agent's log line is about and how serious it is, for the lines written as plain
// sentences by the scheduler, the leader and the rest (`log(msg)`): they name a job as
// "job NAME" / "assign NAME" / "runs of NAME" and a run by its id (`<job>.<ms>.<attempt>`, see
// agent/core/job). Lines written with explicit fields keep theirs; these only fill the gaps,
// so every line about a job or a run carries `job` (and `run`) without rewriting call sites.
import { JOB_NAME_RE } from '../core/job/shape';

export type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

export interface LogFields {
  job?: string;
  run?: string;
  level?: Level;
  [field: string]: unknown;
}

// The job name pattern without anchors or capturing groups, to embed in the patterns below.
const NAME = JOB_NAME_RE.source.replace(/^\^|\$$/g, '').replace(/\((?!\?)/g, '(?:');
const RUN_ID = new RegExp(`(?:^|[\\s"'(])(${NAME})\\.(\\d{10,})\\.(\\d+)(?=$|[\\s"'):;,])`);
const JOB = new RegExp(`(?:^|\\s)(?:job|assign|unassign|runs of)\\s+(${NAME})(?=$|[\\s:;,])`);

// Wording of the lines that report trouble: a failed etcd call, a corrupt value, a lost lease.
const ERROR = /\b(gave up|corrupt|cannot|crashed)\b/i;
const WARN =
  /\b(fail(ed|s|ure)?|error|retrying|lost|not valid|invalid|refused|suspended|could not|unexpected|newer than this agent)\b/i;

/** The job and run a sentence names, and a level from its wording (info unless it reports trouble). */
export function subjectOf(msg: string): { job?: string; run?: string; level: Level } {
  const level: Level = ERROR.test(msg) ? 'error' : WARN.test(msg) ? 'warn' : 'info';
  const run = RUN_ID.exec(msg);
  if (run) return { job: run[1], run: `${run[1]}.${run[2]}.${run[3]}`, level };
  const job = JOB.exec(msg);
  return job ? { job: job[1], level } : { level };
}
