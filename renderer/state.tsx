// App-wide state: the client, one shared cluster.watch subscription, and the hash route.
import { createContext, useContext, useEffect, useState, type ReactNode } from 'react';
import type { ClusterSnapshot, ConsoleClient, NodeInfo } from '../agent/console/contract';
import { applyClusterEvent } from '../agent/console/contract/cluster-delta';

const ClientContext = createContext<ConsoleClient | null>(null);
const ClusterContext = createContext<{ snapshot: ClusterSnapshot | null; transportUp: boolean }>({
  snapshot: null,
  transportUp: false,
});

export function Providers({ client, children }: { client: ConsoleClient; children: ReactNode }) {
  const [snapshot, setSnapshot] = useState<ClusterSnapshot | null>(null);
  const [transportUp, setTransportUp] = useState(false);
  useEffect(
    () => client.subscribe('cluster.watch', [], (ev) => setSnapshot((prev) => applyClusterEvent(prev, ev))),
    [client],
  );
  useEffect(() => client.onTransport(setTransportUp), [client]);
  return (
    <ClientContext.Provider value={client}>
      <ClusterContext.Provider value={{ snapshot, transportUp }}>{children}</ClusterContext.Provider>
    </ClientContext.Provider>
  );
}

export function useClient(): ConsoleClient {
  const c = useContext(ClientContext);
  if (!c) throw new Error('useClient outside Providers');
  return c;
}

export function useCluster() {
  return useContext(ClusterContext);
}

export function useRoute(): string[] {
  const read = () =>
    (location.hash.replace(/^#\/?/, '') || 'overview').split('/').map((p) => decodeURIComponent(p));
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const on = () => setRoute(read());
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}

export function go(...parts: string[]): void {
  location.hash = '#/' + parts.map(encodeURIComponent).join('/');
}

export function fmtTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

export function fmtDuration(ms: number | undefined): string {
  if (ms === undefined || ms < 0) return '—';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const m = Math.floor(ms / 60_000);
  return `${m} min ${Math.round((ms % 60_000) / 1000)} s`;
}

export function StatusBadge({ status }: { status: string | null }) {
  if (!status) return <span className="badge muted">—</span>;
  return <span className={`badge status-${status}`}>{status}</span>;
}

/** A node's state in the CLI's words: alive, dead or shutting down, and an operator's cordon or drain. */
export function NodeStateBadges({ node }: { node: NodeInfo }) {
  const [text, cls] = !node.alive
    ? ['dead', 'status-lost']
    : node.draining
      ? ['shutting down', 'status-timeout']
      : ['alive', 'status-succeeded'];
  return (
    <>
      <span className={`badge ${cls}`}>{text}</span>
      {node.cordon && (
        <span
          className="badge status-skipped"
          data-testid={`cordon-${node.id}`}
          title={
            node.cordon === 'drain'
              ? 'draining: its jobs move to other nodes as their runs finish'
              : 'cordoned: it keeps its jobs and takes no new ones'
          }
        >
          {node.cordon === 'drain' ? 'draining' : 'cordoned'}
        </span>
      )}
    </>
  );
}
