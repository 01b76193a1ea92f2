import { useEffect, useState } from 'react';
import type { AlertInfo } from '../../agent/console/contract';
import { fmtTime, NodeStateBadges, StatusBadge, useClient, useCluster } from '../state';

/** Alerts are read, not watched (their history is not bounded): this often, and at each new failure. */
const ALERTS_POLL_MS = 5000;
const ALERTS_READ = 50;

function useAlerts(): { alerts: AlertInfo[] | null; error: string | null } {
  const client = useClient();
  const { snapshot } = useCluster();
  const [alerts, setAlerts] = useState<AlertInfo[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const connected = snapshot?.connection.state === 'connected';
  const failures = snapshot?.recentFailures.map((f) => f.id).join() ?? '';
  useEffect(() => {
    if (!connected) return;
    let live = true;
    const read = () =>
      client.call('alerts.list', ALERTS_READ).then(
        (a) => live && (setAlerts(a), setError(null)),
        (e: Error) => live && setError(e.message),
      );
    void read();
    const timer = setInterval(read, ALERTS_POLL_MS);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [client, connected, failures]);
  return { alerts, error };
}

export function Overview() {
  const { snapshot } = useCluster();
  const { alerts, error: alertsError } = useAlerts();
  if (!snapshot) return <p className="muted">Waiting for the cluster…</p>;
  const open = alerts?.filter((a) => a.state === 'open') ?? [];
  const resolved = alerts?.filter((a) => a.state === 'resolved').slice(0, 10) ?? [];
  const { nodes, jobs, running, recentFailures, outcomes, connection } = snapshot;
  const alive = nodes.filter((n) => n.alive).length;
  const leader = nodes.find((n) => n.leader);
  return (
    <div className="overview">
      {connection.state === 'unreachable' && (
        <div className="banner error" data-testid="etcd-error">
          {connection.error} — showing the last known state; reconnecting automatically.
        </div>
      )}
      <section className="cards">
        <Card label="nodes alive" value={`${alive} / ${nodes.length}`} />
        <Card label="leader" value={leader?.id ?? 'none'} />
        <Card label="jobs" value={String(jobs.length)} />
        <Card label="paused" value={String(jobs.filter((j) => j.paused).length)} />
        <Card label="running now" value={String(running.length)} />
        <Card
          label="open alerts"
          value={alerts ? `${open.length}${open.length >= ALERTS_READ ? '+' : ''}` : '…'}
        />
        {(['succeeded', 'failed', 'timeout', 'lost', 'skipped'] as const).map((s) => (
          <Card key={s} label={`${s} (24 h)`} value={String(outcomes[s] ?? 0)} />
        ))}
      </section>
      <h2>Nodes</h2>
      <table className="grid" data-testid="nodes-table">
        <thead>
          <tr>
            <th>node</th>
            <th>state</th>
            <th>host</th>
            <th>labels</th>
            <th>capacity</th>
            <th>jobs</th>
            <th>running</th>
            <th>started</th>
          </tr>
        </thead>
        <tbody>
          {nodes.map((n) => (
            <tr key={n.id} data-testid={`node-${n.id}`} data-alive={String(n.alive)}>
              <td>
                <a href={`#/nodes/${encodeURIComponent(n.id)}`} data-testid={`node-link-${n.id}`}>
                  {n.id}
                </a>{' '}
                {n.leader && <span className="badge leader">leader</span>}
              </td>
              <td>
                <NodeStateBadges node={n} />
              </td>
              <td>{n.hostname}</td>
              <td>
                {Object.entries(n.labels).map(([k, v]) => (
                  <span key={k} className="label">
                    {k}={v}
                  </span>
                ))}
              </td>
              <td>{n.capacity || '∞'}</td>
              <td>{n.jobs}</td>
              <td>{n.running}</td>
              <td>{fmtTime(n.startedAt)}</td>
            </tr>
          ))}
          {nodes.length === 0 && (
            <tr>
              <td colSpan={8} className="muted">
                No node has joined this cluster yet. Start one with `peppercorn agent`.
              </td>
            </tr>
          )}
        </tbody>
      </table>
      <div className="two">
        <div>
          <h2>Running now</h2>
          <ul className="list" data-testid="running-list">
            {running.map((r) => (
              <li key={r.runId}>
                <a href={`#/logs/${encodeURIComponent(r.runId)}`}>{r.runId}</a> on {r.node} since{' '}
                {fmtTime(r.since)}
              </li>
            ))}
            {running.length === 0 && <li className="muted">nothing running</li>}
          </ul>
        </div>
        <div>
          <h2>Recent failures</h2>
          <ul className="list" data-testid="failures-list">
            {recentFailures.map((r) => (
              <li key={r.id}>
                <StatusBadge status={r.status} /> <a href={`#/logs/${encodeURIComponent(r.id)}`}>{r.id}</a>{' '}
                {r.node && `on ${r.node}`} {r.reason && <span className="muted">— {r.reason}</span>}
              </li>
            ))}
            {recentFailures.length === 0 && <li className="muted">no failures in the kept history</li>}
          </ul>
        </div>
      </div>
      <div className="two">
        <div>
          <h2>Open alerts</h2>
          <ul className="list" data-testid="open-alerts">
            {open.map((a) => (
              <AlertItem key={a.id} alert={a} />
            ))}
            {alerts && open.length === 0 && <li className="muted">no open alerts</li>}
            {alertsError && <li className="warn-text">alerts could not be read: {alertsError}</li>}
          </ul>
        </div>
        <div>
          <h2>Recently resolved</h2>
          <ul className="list" data-testid="resolved-alerts">
            {resolved.map((a) => (
              <AlertItem key={a.id} alert={a} />
            ))}
            {alerts && resolved.length === 0 && <li className="muted">none</li>}
          </ul>
        </div>
      </div>
      {snapshot.warnings.length > 0 && (
        <div className="banner warn">
          {snapshot.warnings.slice(0, 5).map((w) => (
            <div key={w}>{w}</div>
          ))}
        </div>
      )}
    </div>
  );
}

function AlertItem({ alert: a }: { alert: AlertInfo }) {
  const deliveries = Object.values(a.deliveries);
  return (
    <li data-testid={`alert-${a.id}`}>
      <span className={`badge ${a.state === 'open' ? 'status-failed' : 'status-succeeded'}`}>{a.rule}</span>{' '}
      {a.summary}
      {a.job && (
        <>
          {' '}
          · job <a href={`#/jobs/${encodeURIComponent(a.job)}`}>{a.job}</a>
        </>
      )}
      {a.node && (
        <>
          {' '}
          · node <a href={`#/nodes/${encodeURIComponent(a.node)}`}>{a.node}</a>
        </>
      )}
      {a.run && (
        <>
          {' '}
          · <a href={`#/logs/${encodeURIComponent(a.run)}`}>output</a>
        </>
      )}
      <div className="muted">
        {a.state === 'open'
          ? `open since ${fmtTime(a.openedAt)}`
          : `resolved ${fmtTime(a.resolvedAt)}${a.resolution ? `: ${a.resolution}` : ''}`}
        {deliveries.length > 0 &&
          ` · ${deliveries.map((d) => `${d.channel} ${d.event}: ${d.state}${d.lastError ? ` (${d.lastError})` : ''}`).join(', ')}`}
        {a.channels.length === 0 && ' · no channel configured'}
      </div>
    </li>
  );
}

function Card({ label, value }: { label: string; value: string }) {
  return (
    <div className="card">
      <div className="value">{value}</div>
      <div className="label-text">{label}</div>
    </div>
  );
}
