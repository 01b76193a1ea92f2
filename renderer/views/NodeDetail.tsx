// One node: what it is (labels, capacity, cordon, lease), the jobs it owns with their
// last outcomes, its runs in flight (both live, from the shared cluster watch), and the
// recent runs of its jobs (read again when one of them finishes).
import { useEffect, useState } from 'react';
import type { NodeDetail, RunInfo } from '../../agent/console/contract';
import { fmtTime, NodeStateBadges, StatusBadge, useClient, useCluster } from '../state';
import { RunTable } from './RunTable';

/** How often the lease is read again: its TTL left tells when the node last renewed it. */
const LEASE_POLL_MS = 2000;
const JOBS_SHOWN = 200;

export function NodeDetailView({ id }: { id: string }) {
  const client = useClient();
  const { snapshot } = useCluster();
  const [detail, setDetail] = useState<NodeDetail | null>(null);
  const [runs, setRuns] = useState<RunInfo[]>([]);
  const [error, setError] = useState<string | null>(null);
  const node = snapshot?.nodes.find((n) => n.id === id) ?? detail?.node;
  const jobs = snapshot?.jobs.filter((j) => j.owner === id) ?? [];
  const running = snapshot?.running.filter((r) => r.node === id) ?? [];
  // The recent runs change when one of its jobs has a new last run.
  const runsKey = jobs.map((j) => `${j.name}:${j.lastRunId}:${j.lastStatus}`).join();
  const nodeKey = JSON.stringify(node ?? null);

  useEffect(() => {
    let live = true;
    const read = () =>
      client.call('nodes.get', id).then(
        (d) => live && (setDetail(d), setError(null)),
        (e: Error) => live && setError(e.message),
      );
    void read();
    const timer = setInterval(read, LEASE_POLL_MS);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [client, id, nodeKey]);

  useEffect(() => {
    let live = true;
    client.call('nodes.runs', id, 50).then(
      (r) => live && setRuns(r),
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [client, id, runsKey]);

  if (!node)
    return error ? <div className="banner error">{error}</div> : <p className="muted">Loading {id}…</p>;
  const lease = detail?.lease;
  return (
    <div className="detail node-detail" data-testid="node-detail">
      <div className="toolbar">
        <h1>{node.id}</h1>
        {node.leader && <span className="badge leader">leader</span>}
        <NodeStateBadges node={node} />
      </div>
      {error && <div className="banner error">{error}</div>}
      <dl className="facts">
        <dt>host</dt>
        <dd>
          {node.hostname}
          {detail?.pid ? <span className="muted"> · pid {detail.pid}</span> : null}
          {detail?.version ? <span className="muted"> · peppercorn {detail.version}</span> : null}
        </dd>
        <dt>labels</dt>
        <dd>
          {Object.entries(node.labels).map(([k, v]) => (
            <span key={k} className="label">
              {k}={v}
            </span>
          ))}
          {Object.keys(node.labels).length === 0 && <span className="muted">none</span>}
        </dd>
        <dt>capacity</dt>
        <dd>
          {node.jobs} job(s) owned of {node.capacity || 'no limit'}
        </dd>
        <dt>cordon</dt>
        <dd>
          {node.cordon === 'drain'
            ? 'draining: its jobs move to other nodes as their runs finish'
            : node.cordon === 'cordon'
              ? 'cordoned: it keeps its jobs and takes no new ones'
              : 'none: it takes new jobs'}
        </dd>
        <dt>lease</dt>
        <dd data-testid="node-lease">
          {!node.alive
            ? 'none: the node is not alive'
            : lease
              ? `${lease.granted} s TTL, ${lease.ttl} s left (renewed about ${Math.max(0, lease.granted - lease.ttl)} s ago) · id ${BigInt(lease.id).toString(16)}`
              : 'reading…'}
        </dd>
        <dt>epoch</dt>
        <dd className="mono">{node.alive ? node.epoch : '—'}</dd>
        <dt>started</dt>
        <dd>{fmtTime(node.startedAt)}</dd>
      </dl>

      <h2>Running now</h2>
      <ul className="list" data-testid="node-running">
        {running.map((r) => (
          <li key={r.runId}>
            <a href={`#/logs/${encodeURIComponent(r.runId)}`}>{r.runId}</a> since {fmtTime(r.since)}
          </li>
        ))}
        {running.length === 0 && <li className="muted">nothing running on this node</li>}
      </ul>

      <h2>Recent runs of its jobs</h2>
      <RunTable runs={runs} testId="node-runs" nodeHeader="ran on" />
      <h2>Jobs ({jobs.length})</h2>
      <table className="grid" data-testid="node-jobs">
        <thead>
          <tr>
            <th>job</th>
            <th>kind</th>
            <th>schedule</th>
            <th>next run</th>
            <th>last outcome</th>
            <th>last run</th>
          </tr>
        </thead>
        <tbody>
          {jobs.slice(0, JOBS_SHOWN).map((j) => (
            <tr key={j.name}>
              <td>
                <a href={`#/jobs/${encodeURIComponent(j.name)}`}>{j.name}</a>
                {j.paused && <span className="badge muted">paused</span>}
              </td>
              <td>{j.kind}</td>
              <td className="mono">{j.schedule}</td>
              <td>{j.paused ? 'paused' : fmtTime(j.next)}</td>
              <td>
                <StatusBadge status={j.lastStatus} />
              </td>
              <td>
                {j.lastRunId ? (
                  <a href={`#/logs/${encodeURIComponent(j.lastRunId)}`}>{fmtTime(j.lastAt)}</a>
                ) : (
                  '—'
                )}
              </td>
            </tr>
          ))}
          {jobs.length > JOBS_SHOWN && (
            <tr>
              <td colSpan={6} className="muted">
                and {jobs.length - JOBS_SHOWN} more: see the Jobs screen
              </td>
            </tr>
          )}
          {jobs.length === 0 && (
            <tr>
              <td colSpan={6} className="muted">
                {node.alive ? 'No job is assigned to this node.' : 'A dead node owns no jobs.'}
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}
