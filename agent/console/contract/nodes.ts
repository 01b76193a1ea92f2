// The contract's nodes: the list, one node's detail and its recent runs.
import type { NodeView, RunInFlight } from '../../api/node-views';
import type { RunInfo } from './runs';
import type { ArgType } from './args';

export type NodeInfo = NodeView;

export type ActiveRun = RunInFlight;

export interface NodeDetail {
  node: NodeInfo;
  pid: number | null;
  version: string | null;
  /** The node key's lease as etcd tells it now; null when the node is not alive. */
  lease: { id: string; ttl: number; granted: number } | null;
}

export interface NodeCalls {
  'nodes.list': () => NodeInfo[];
  'nodes.get': (id: string) => NodeDetail;
  /** The latest runs of the jobs a node owns, newest first. */
  'nodes.runs': (id: string, limit: number) => RunInfo[];
}

export const nodeCallArgs: { [K in keyof NodeCalls]: ArgType[] } = {
  'nodes.list': [],
  'nodes.get': ['string'],
  'nodes.runs': ['string', 'number'],
};
