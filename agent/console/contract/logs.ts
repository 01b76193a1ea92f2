// The contract's logs: a run's output as a stream of frames.
import type { RunStatus } from './runs';
import type { ArgType } from './args';

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

export interface LogStreams {
  'logs.follow': { args: [runId: string, fromByte: number]; event: LogFrame };
}

export const logStreamArgs: { [K in keyof LogStreams]: ArgType[] } = {
  'logs.follow': ['string', 'number'],
};

/** Stream output is sent in frames of at most this many bytes, at most every this many ms. */
export const FRAME_MS = 16;
export const FRAME_BYTES = 200 * 1024;
