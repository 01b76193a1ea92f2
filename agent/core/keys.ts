// The etcd key layout: the only place in Peppercorn that spells a key.
// Everything below is relative to the cluster prefix (default `/peppercorn/`),
// so several clusters can share one etcd.
//
//   jobs/<job>                    job spec (JSON)                       written by CLI/console
//   cursors/<job>                 last scheduled time claimed           claim transaction
//   assign/<job>                  which node (and epoch) owns the job   leader, fenced
//   nodes/<node>                  live node, bound to its lease         the node itself
//   members/<node>                every node ever seen (survives death) the node itself
//   cordons/<node>                cordon or drain asked by an operator  CLI/console
//   leader                        the leader, bound to its node lease   campaign
//   leader-beat                   the leader's last sign of life (every few s)   leader, fenced
//   runs/<job>/<time>.<attempt>   run record                            claim, outcome
//   active/<node>/<run id>        runs in flight on a node              claim, outcome
//   triggers/<job>/<time>.<attempt>  a run asked for by hand or by a retry
//   logs/<run id>/<seq>           output chunks, bound to a shared lease
//   logreq/<node>/<request id>    a reader asks a node for part of a run's log file,
//                                 bound to the reader's short lease       CLI/console
//   logresp/<request id>/<seq>|end   the node's answer, on the same lease  the node
//   sem/<semaphore>/<slot>        a slot held by a run, bound to its node's lease
//   completions/<job>             a job's latest completed run: for jobs that run after it, and alerts
//   alerts/<alert id>             an alert, open or resolved, with its delivery state   outcome writer, leader
//   alerting                      channels and cluster alert rules (YAML-derived JSON)  CLI
//   audit/jobs/<job>              who changed the job, when and what (last 50), kept after rm   CLI/console
//   audit/alerting                the same for the alerting config                      CLI/console
//   clocks/<node>                 the node's wall clock, every few s, bound to its lease   the node itself
//   skews/<node>                  the node's clock is off: it claims nothing meanwhile      leader, fenced
//   apply-lock                    a `job apply` too large for one transaction: staging (on the
//                                 CLI's lease), then committed (no lease) until rolled forward   CLI, leader
//   apply-parts/<apply id>/<n>    its writes, staged before the commit                   CLI
//
// A run id is `<job>.<scheduled ms>.<attempt>`: job names cannot contain dots, so
// it parses back, and the same scheduled time always gets the same id, which a
// job can use as an idempotency key.

import { JOB_NAME_RE } from './job/shape';

export const DEFAULT_PREFIX = '/peppercorn/';

/** Zero-padded so that keys sort in time order (good until the year 2286). */
const TIME_WIDTH = 13;
const SEQ_WIDTH = 8;

export function normalizePrefix(prefix: string): string {
  let p = prefix.trim() || DEFAULT_PREFIX;
  if (!p.startsWith('/')) p = '/' + p;
  if (!p.endsWith('/')) p += '/';
  return p;
}

export interface RunRef {
  job: string;
  scheduledAt: number;
  attempt: number;
}

export function formatRunId(ref: RunRef): string {
  return `${ref.job}.${ref.scheduledAt}.${ref.attempt}`;
}

const RUN_ID_RE = new RegExp(
  `^(?<job>${JOB_NAME_RE.source.slice(1, -1)})\\.(?<time>\\d{1,13})\\.(?<attempt>\\d{1,4})$`,
);

export function parseRunId(id: string): RunRef | null {
  const g = RUN_ID_RE.exec(id)?.groups;
  if (!g) return null;
  return { job: g.job, scheduledAt: Number(g.time), attempt: Number(g.attempt) };
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

function timeAttempt(scheduledAt: number, attempt: number): string {
  return `${pad(scheduledAt, TIME_WIDTH)}.${attempt}`;
}

/** Relative key names; the client is namespaced to the prefix. */
export const keys = {
  jobs: 'jobs/',
  job: (name: string) => `jobs/${name}`,
  jobName: (key: string) => key.slice('jobs/'.length),

  cursors: 'cursors/',
  cursor: (job: string) => `cursors/${job}`,

  assignments: 'assign/',
  assignment: (job: string) => `assign/${job}`,
  assignmentJob: (key: string) => key.slice('assign/'.length),

  nodes: 'nodes/',
  node: (id: string) => `nodes/${id}`,
  nodeId: (key: string) => key.slice('nodes/'.length),

  members: 'members/',
  member: (id: string) => `members/${id}`,

  cordons: 'cordons/',
  cordon: (node: string) => `cordons/${node}`,
  cordonNode: (key: string) => key.slice('cordons/'.length),

  leader: 'leader',
  leaderBeat: 'leader-beat',

  runs: 'runs/',
  jobRuns: (job: string) => `runs/${job}/`,
  run: (ref: RunRef) => `runs/${ref.job}/${timeAttempt(ref.scheduledAt, ref.attempt)}`,
  /** The first run key of `job` scheduled at or after `time`: a range bound for pruning. */
  runsFrom: (job: string, time: number) => `runs/${job}/${pad(time, TIME_WIDTH)}`,
  runRef: (key: string): RunRef | null => {
    const m = /^runs\/([^/]+)\/(\d+)\.(\d+)$/.exec(key);
    return m ? { job: m[1], scheduledAt: Number(m[2]), attempt: Number(m[3]) } : null;
  },

  active: 'active/',
  activeOn: (node: string) => `active/${node}/`,
  activeRun: (node: string, runId: string) => `active/${node}/${runId}`,
  activeParse: (key: string): { node: string; runId: string } | null => {
    const m = /^active\/([^/]+)\/(.+)$/.exec(key);
    return m ? { node: m[1], runId: m[2] } : null;
  },

  triggers: 'triggers/',
  jobTriggers: (job: string) => `triggers/${job}/`,
  trigger: (ref: RunRef) => `triggers/${ref.job}/${timeAttempt(ref.scheduledAt, ref.attempt)}`,
  triggerRef: (key: string): RunRef | null => {
    const m = /^triggers\/([^/]+)\/(\d+)\.(\d+)$/.exec(key);
    return m ? { job: m[1], scheduledAt: Number(m[2]), attempt: Number(m[3]) } : null;
  },

  completions: 'completions/',
  completion: (job: string) => `completions/${job}`,
  completionJob: (key: string) => key.slice('completions/'.length),

  alerts: 'alerts/',
  alert: (id: string) => `alerts/${id}`,
  alertId: (key: string) => key.slice('alerts/'.length),
  alerting: 'alerting',

  audit: 'audit/',
  jobAudit: (job: string) => `audit/jobs/${job}`,
  alertingAudit: 'audit/alerting',
  clocks: 'clocks/',
  clock: (node: string) => `clocks/${node}`,
  clockNode: (key: string) => key.slice('clocks/'.length),
  skews: 'skews/',
  skew: (node: string) => `skews/${node}`,
  skewNode: (key: string) => key.slice('skews/'.length),

  semaphores: 'sem/',
  semaphore: (name: string) => `sem/${name}/`,
  semaphoreSlot: (name: string, slot: number) => `sem/${name}/${slot}`,

  applyLock: 'apply-lock',
  applyParts: 'apply-parts/',
  applyPartsOf: (applyId: string) => `apply-parts/${applyId}/`,
  applyPart: (applyId: string, n: number) => `apply-parts/${applyId}/${pad(n, SEQ_WIDTH)}`,

  allLogs: 'logs/',
  logs: (runId: string) => `logs/${runId}/`,
  logChunk: (runId: string, seq: number) => `logs/${runId}/${pad(seq, SEQ_WIDTH)}`,
  logSeq: (key: string) => Number(key.slice(key.lastIndexOf('/') + 1)),

  logRequests: (node: string) => `logreq/${node}/`,
  logRequest: (node: string, requestId: string) => `logreq/${node}/${requestId}`,
  /** The request id of a key under logRequests(node); null when the rest is not one segment. */
  logRequestId: (node: string, key: string): string | null => {
    const rest = key.slice(`logreq/${node}/`.length);
    return key.startsWith(`logreq/${node}/`) && rest && !rest.includes('/') ? rest : null;
  },
  logResponse: (requestId: string) => `logresp/${requestId}/`,
  logResponseChunk: (requestId: string, seq: number) => `logresp/${requestId}/${pad(seq, SEQ_WIDTH)}`,
  /** Written last, in the same transaction as the chunks: sorts after every chunk. */
  logResponseEnd: (requestId: string) => `logresp/${requestId}/end`,
};
