// The console's contract: every call and stream the renderer may use, defined once.
// Both transports (Electron IPC, loopback WebSocket) carry exactly this, and both
// check arguments against `argSpecs` before a service sees them.
// Runs everywhere (renderer, preload, main, Node): no imports.

export type RunStatus = 'running' | 'succeeded' | 'failed' | 'timeout' | 'lost' | 'skipped';

/** A job spec as stored (validated by the shared job model in the services). */
export interface JobSpecData {
  name: string;
  kind: 'cron' | 'loop' | 'once';
  schedule?: string;
  timezone: string;
  command: string;
  env: Record<string, string>;
  workdir?: string;
  user?: string;
  timeout?: string;
  selector: Record<string, string>;
  policy: string;
  paused: boolean;
  times?: number;
  delay?: string;
  at?: string;
  description?: string;
  [field: string]: unknown;
}

export interface NodeInfo {
  id: string;
  alive: boolean;
  leader: boolean;
  epoch: number;
  hostname: string;
  labels: Record<string, string>;
  capacity: number;
  running: number;
  jobs: number;
  startedAt: number;
  draining: boolean;
}

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

export interface RunInfo {
  id: string;
  job: string;
  node: string;
  attempt: number;
  cause: string;
  scheduledAt: number;
  claimedAt: number;
  startedAt?: number;
  endedAt?: number;
  status: RunStatus;
  exitCode?: number | null;
  signal?: string | null;
  reason?: string;
  count?: number;
  until?: number;
  outputBytes?: number;
}

export interface ActiveRun {
  runId: string;
  job: string;
  node: string;
  since: number;
}

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
  connection: ConnectionStatus;
  revision: number;
  nodes: NodeInfo[];
  jobs: JobRow[];
  running: ActiveRun[];
  recentFailures: RunInfo[];
  outcomes: Partial<Record<RunStatus, number>>;
  warnings: string[];
}

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
}

/** What the renderer gets back: never the password. */
export interface ConnectionProfile {
  id: string;
  name: string;
  endpoints: string[];
  prefix: string;
  user?: string;
  hasPassword: boolean;
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
}

export type LogFrame =
  | { kind: 'start'; runId: string }
  | { kind: 'data'; b64: string }
  | { kind: 'end'; status: RunStatus | null; note?: string };

export interface Calls {
  'connection.status': () => ConnectionStatus;
  'connection.list': () => ConnectionList;
  'connection.save': (input: ConnectionInput) => ConnectionProfile;
  'connection.remove': (id: string) => void;
  'connection.test': (input: ConnectionInput) => { ok: boolean; message: string };
  'connection.use': (id: string) => ConnectionStatus;
  'nodes.list': () => NodeInfo[];
  'jobs.list': () => JobRow[];
  'jobs.get': (name: string) => JobDetail;
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
}

export interface Streams {
  'cluster.watch': { args: []; event: ClusterSnapshot };
  'logs.follow': { args: [runId: string]; event: LogFrame };
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
  subscribe<K extends StreamName>(
    name: K,
    args: StreamArgs<K>,
    onEvent: (event: StreamEvent<K>) => void,
    onEnd?: (error?: string) => void,
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
  'jobs.list': [],
  'jobs.get': ['string'],
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
};

export const streamArgs: { [K in StreamName]: ArgType[] } = {
  'cluster.watch': [],
  'logs.follow': ['string'],
};

const isPlain = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function checkConnection(v: unknown): string | null {
  if (!isPlain(v)) return 'a connection must be an object';
  if (typeof v.name !== 'string' || v.name.length > 200) return 'connection name must be a short string';
  if (!Array.isArray(v.endpoints) || !v.endpoints.every((e) => typeof e === 'string'))
    return 'connection endpoints must be a list of URLs';
  if (typeof v.prefix !== 'string') return 'connection prefix must be a string';
  for (const f of ['id', 'user', 'password', 'cacert', 'cert', 'key']) {
    if (v[f] !== undefined && typeof v[f] !== 'string') return `connection ${f} must be a string`;
  }
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
