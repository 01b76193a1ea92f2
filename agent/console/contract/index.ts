// The console's contract: every call and stream the renderer may use, one file per feature
// (connections, cluster, nodes, jobs, runs, alerts, logs), put together here.
// Both transports (Electron IPC, loopback WebSocket) carry exactly this, and both
// check arguments against the argument specs before the server sees them.
// Runs everywhere (renderer, preload, main, Node). The shapes of nodes, runs and specs are
// core's own (type-only imports: erased, so no agent code reaches the renderer bundle), so a
// field added in core shows up here.
import { checkArgs, type ArgType } from './args';
import { alertCallArgs, type AlertCalls } from './alerts';
import { clusterStreamArgs, type ClusterStreams } from './cluster';
import { connectionCallArgs, type ConnectionCalls } from './connections';
import { jobCallArgs, type JobCalls } from './jobs';
import { logStreamArgs, type LogStreams } from './logs';
import { nodeCallArgs, type NodeCalls } from './nodes';
import { runCallArgs, type RunCalls } from './runs';

export * from './alerts';
export * from './cluster';
export * from './connections';
export * from './jobs';
export * from './logs';
export * from './nodes';
export * from './runs';

export interface Calls extends ConnectionCalls, NodeCalls, JobCalls, RunCalls, AlertCalls {}

export interface Streams extends ClusterStreams, LogStreams {}

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

export const callArgs: { [K in CallName]: ArgType[] } = {
  ...connectionCallArgs,
  ...nodeCallArgs,
  ...jobCallArgs,
  ...runCallArgs,
  ...alertCallArgs,
};

export const streamArgs: { [K in StreamName]: ArgType[] } = { ...clusterStreamArgs, ...logStreamArgs };

/** null when `name(...args)` is a call of the contract with well-typed arguments, else why not. */
export function checkCall(name: unknown, args: unknown): string | null {
  return checkArgs(callArgs, 'call', name, args);
}

export function checkStream(name: unknown, args: unknown): string | null {
  return checkArgs(streamArgs, 'stream', name, args);
}
