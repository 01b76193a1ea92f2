// The console's contract: every call and stream the renderer may use, defined once.
// Both transports (Electron IPC, loopback WebSocket) carry exactly this, and both
// check arguments against `argSpecs` before a service sees them.
// Runs everywhere (renderer, preload, main, Node). The shapes of nodes, runs and specs are
// core's own (type-only imports: erased, so no agent code reaches the renderer bundle), so a
// field added in core shows up here.

import type { AlertRecord, Assignment, RunRecord, RunStatus } from '../../agent/core/records';
import type { NodeView, RunInFlight } from '../../agent/api/node-views';
import type { JobSpec } from '../../agent/core/job/spec';
import type { AuditEntry } from '../../agent/core/audit';

export type { RunStatus };

/** A job spec as stored; a spec from a newer version may carry fields this one does not know. */
export type JobSpecData = JobSpec & { [field: string]: unknown };

export type NodeInfo = NodeView;

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

/** A run record without its output tail (read that through logs.follow). */
export type RunInfo = Omit<RunRecord, 'tail'>;

export type ActiveRun = RunInFlight;

export type ConnectionState = 'connecting' | 'connected' | 'unreachable';

export interface ConnectionStatus {
  state: ConnectionState;
  profileId: string | null;
  name: string;
  endpoints: string[];
  prefix: string;
  /** Readable reason when unreachable. */
  error?: string;
  since: number;
}

export interface ClusterSnapshot {
  kind?: 'snapshot';
  connection: ConnectionStatus;
  revision: number;
  nodes: NodeInfo[];
  jobs: JobRow[];
  running: ActiveRun[];
  recentFailures: RunInfo[];
  /** Runs that ended in the last 24 hours, by outcome. */
  outcomes: Partial<Record<RunStatus, number>>;
  warnings: string[];
}

/**
 * What changed since the previous event of the same stream: rows changed (added or
 * updated) and removed by id, small parts whole. Applied by applyClusterEvent.
 */
export interface ClusterDelta {
  kind: 'delta';
  revision?: number;
  connection?: ConnectionStatus;
  nodes?: RowChanges<NodeInfo>;
  jobs?: RowChanges<JobRow>;
  running?: RowChanges<ActiveRun>;
  recentFailures?: RunInfo[];
  outcomes?: Partial<Record<RunStatus, number>>;
  warnings?: string[];
}

/** Removals apply first: an id both removed and changed ends up present, as changed. */
export interface RowChanges<T> {
  changed: T[];
  removed: string[];
}

/** cluster.watch sends a full snapshot first (and after switching clusters), then deltas. */
export type ClusterEvent = ClusterSnapshot | ClusterDelta;

/** What the renderer sends to save a cluster; secrets go one way only. */
export interface ConnectionInput {
  id?: string;
  name: string;
  endpoints: string[];
  prefix: string;
  user?: string;
  /** Absent: keep the stored password. Empty string: clear it. */
  password?: string;
  cacert?: string;
  cert?: string;
  key?: string;
  /** The user agreed to store the password in clear text (there is no OS keyring). */
  storeInClearText?: boolean;
  /**
   * A signing key file (`peppercorn keys generate`) on the machine running the services: read
   * there and kept like the password (safeStorage); specs applied on this cluster are signed
   * with it. Absent: keep the stored key. Empty string: forget it.
   */
  signingKeyFile?: string;
}

/** What the renderer gets back: never the password. */
export interface ConnectionProfile {
  id: string;
  name: string;
  endpoints: string[];
  prefix: string;
  user?: string;
  hasPassword: boolean;
  /** Saved without a keyring, in clear text, because the user said yes. */
  passwordInClearText?: boolean;
  /** Key id of the signing key kept for this cluster (the key itself never leaves the services). */
  signingKeyId?: string;
  cacert?: string;
  cert?: string;
  key?: string;
}

export interface ConnectionList {
  profiles: ConnectionProfile[];
  activeId: string | null;
  /** False when credentials cannot be encrypted at rest (no OS keyring, or the web console). */
  secureStorage: boolean;
  storageNote: string;
  /** Set when a saved password would be written in clear text: saving one needs the user's yes. */
  clearTextWarning?: string;
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

/** An alert as stored: what raised it, open or resolved, and its notifications' delivery. */
export type AlertInfo = AlertRecord;

export interface NodeDetail {
  node: NodeInfo;
  pid: number | null;
  version: string | null;
  /** The node key's lease as etcd tells it now; null when the node is not alive. */
  lease: { id: string; ttl: number; granted: number } | null;
}

/**
 * A run's output. Positions are byte offsets in the run's output: `start.from` is where this stream
 * begins (0 or absent: from the start, so a reader clears what it shows), and a data frame's `next`
 * is where to resume once its bytes are shown: logs.follow(runId, next) after a dropped connection
 * goes on with no byte lost or repeated. `end.source` says where the output came from: etcd, the
 * log file on the node that ran it, or (that node being down) the part etcd still has.
 */
export type LogFrame =
  | { kind: 'start'; runId: string; from?: number }
  | { kind: 'data'; b64: string; next?: number }
  | { kind: 'end'; status: RunStatus | null; note?: string; source?: LogSource };

export type LogSource = 'etcd' | 'node' | 'etcd-partial';

export interface Calls {
  'connection.status': () => ConnectionStatus;
  'connection.list': () => ConnectionList;
  'connection.save': (input: ConnectionInput) => ConnectionProfile;
  'connection.remove': (id: string) => void;
  'connection.test': (input: ConnectionInput) => { ok: boolean; message: string };
  'connection.use': (id: string) => ConnectionStatus;
  'nodes.list': () => NodeInfo[];
  'nodes.get': (id: string) => NodeDetail;
  /** The latest runs of the jobs a node owns, newest first. */
  'nodes.runs': (id: string, limit: number) => RunInfo[];
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
  'runs.list': (job: string, limit: number) => RunInfo[];
  'runs.get': (runId: string) => RunInfo | null;
  /** Open alerts first, then the most recent ones. */
  'alerts.list': (limit: number) => AlertInfo[];
}

export interface Streams {
  'cluster.watch': { args: []; event: ClusterEvent };
  'logs.follow': { args: [runId: string, fromByte: number]; event: LogFrame };
}

export type CallName = keyof Calls;
export type CallArgs<K extends CallName> = Parameters<Calls[K]>;
export type CallResult<K extends CallName> = ReturnType<Calls[K]>;
export type StreamName = keyof Streams;
export type StreamArgs<K extends StreamName> = Streams[K]['args'];
export type StreamEvent<K extends StreamName> = Streams[K]['event'];

/** The one interface the renderer sees, whatever carries it. */
export interface ConsoleClient {
  call<K extends CallName>(name: K, ...args: CallArgs<K>): Promise<CallResult<K>>;
  /**
   * `resume`: the arguments to subscribe again with when a transport that dropped comes back
   * (a stream's resume position); without it the stream starts again with `args`.
   */
  subscribe<K extends StreamName>(
    name: K,
    args: StreamArgs<K>,
    onEvent: (event: StreamEvent<K>) => void,
    onEnd?: (error?: string) => void,
    resume?: () => StreamArgs<K>,
  ): () => void;
  /** Transport state (the WebSocket can drop; IPC is always up). */
  onTransport(listener: (up: boolean) => void): () => void;
}

type ArgType = 'string' | 'number' | 'object' | 'connection';
const NAME_MAX = 4096;

export const callArgs: { [K in CallName]: ArgType[] } = {
  'connection.status': [],
  'connection.list': [],
  'connection.save': ['connection'],
  'connection.remove': ['string'],
  'connection.test': ['connection'],
  'connection.use': ['string'],
  'nodes.list': [],
  'nodes.get': ['string'],
  'nodes.runs': ['string', 'number'],
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
  'runs.list': ['string', 'number'],
  'runs.get': ['string'],
  'alerts.list': ['number'],
};

export const streamArgs: { [K in StreamName]: ArgType[] } = {
  'cluster.watch': [],
  'logs.follow': ['string', 'number'],
};

const isPlain = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function checkConnection(v: unknown): string | null {
  if (!isPlain(v)) return 'a connection must be an object';
  if (typeof v.name !== 'string' || v.name.length > 200) return 'connection name must be a short string';
  if (!Array.isArray(v.endpoints) || !v.endpoints.every((e) => typeof e === 'string'))
    return 'connection endpoints must be a list of URLs';
  if (typeof v.prefix !== 'string') return 'connection prefix must be a string';
  for (const f of ['id', 'user', 'password', 'cacert', 'cert', 'key', 'signingKeyFile']) {
    if (v[f] !== undefined && typeof v[f] !== 'string') return `connection ${f} must be a string`;
  }
  if (v.storeInClearText !== undefined && typeof v.storeInClearText !== 'boolean')
    return 'connection storeInClearText must be true or false';
  return null;
}

function checkOne(type: ArgType, v: unknown, i: number): string | null {
  switch (type) {
    case 'string':
      return typeof v === 'string' && v.length <= NAME_MAX ? null : `argument ${i + 1} must be a string`;
    case 'number':
      return typeof v === 'number' && Number.isFinite(v) ? null : `argument ${i + 1} must be a number`;
    case 'object':
      return isPlain(v) ? null : `argument ${i + 1} must be an object`;
    case 'connection':
      return checkConnection(v);
  }
}

function check(specs: Record<string, ArgType[]>, kind: string, name: unknown, args: unknown): string | null {
  if (typeof name !== 'string' || !Object.prototype.hasOwnProperty.call(specs, name))
    return `unknown ${kind} ${JSON.stringify(String(name)).slice(0, 80)}`;
  if (!Array.isArray(args)) return `${name}: arguments must be a list`;
  const spec = specs[name];
  if (args.length !== spec.length) return `${name}: expected ${spec.length} argument(s), got ${args.length}`;
  for (let i = 0; i < spec.length; i++) {
    const err = checkOne(spec[i], args[i], i);
    if (err) return `${name}: ${err}`;
  }
  return null;
}

/** null when `name(...args)` is a call of the contract with well-typed arguments, else why not. */
export function checkCall(name: unknown, args: unknown): string | null {
  return check(callArgs, 'call', name, args);
}

export function checkStream(name: unknown, args: unknown): string | null {
  return check(streamArgs, 'stream', name, args);
}

/** Stream output is sent in frames of at most this many bytes, at most every this many ms. */
export const FRAME_MS = 16;
export const FRAME_BYTES = 200 * 1024;
