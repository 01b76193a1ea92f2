import { fmtTime, StatusBadge, useCluster } from '../state';

export function Overview() {
  const { snapshot } = useCluster();
  if (!snapshot) return <p className="muted">Waiting for the cluster…</p>;
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
        {(['succeeded', 'failed', 'timeout', 'lost', 'skipped'] as const).map((s) => (
          <Card key={s} label={s} value={String(outcomes[s] ?? 0)} />
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
                {n.id} {n.leader && <span className="badge leader">leader</span>}
              </td>
              <td>
                <span
                  className={`badge ${n.alive ? (n.draining ? 'status-timeout' : 'status-succeeded') : 'status-lost'}`}
                >
                  {n.alive ? (n.draining ? 'draining' : 'alive') : 'dead'}
                </span>
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

function Card({ label, value }: { label: string; value: string }) {
  return (
    <div className="card">
      <div className="value">{value}</div>
      <div className="label-text">{label}</div>
    </div>
  );
}
