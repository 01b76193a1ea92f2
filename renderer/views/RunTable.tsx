// A table of run records, as Job detail and Node detail show them; each run links to its output.
import type { RunInfo } from '../../agent/console/contract';
import { fmtDuration, fmtTime, StatusBadge } from '../state';

export function RunTable({
  runs,
  testId,
  nodeHeader = 'node',
  detailed = false,
}: {
  runs: RunInfo[];
  testId: string;
  /** What the node column is called ("ran on" on a node's own page). */
  nodeHeader?: string;
  /** Also the run's cause and exit status. */
  detailed?: boolean;
}) {
  // Container jobs: a column with the image and the container's short id.
  const boxed = runs.some((r) => r.image);
  const columns = (detailed ? 9 : 7) + (boxed ? 1 : 0);
  return (
    <table className="grid" data-testid={testId}>
      <thead>
        <tr>
          <th>outcome</th>
          <th>run</th>
          <th>{nodeHeader}</th>
          {detailed && <th>cause</th>}
          <th>scheduled</th>
          <th>started</th>
          <th>duration</th>
          {detailed && <th>exit</th>}
          {boxed && <th>container</th>}
          <th>reason</th>
        </tr>
      </thead>
      <tbody>
        {runs.map((r) => (
          <tr key={r.id}>
            <td>
              <StatusBadge status={r.status} />
            </td>
            <td>
              <a href={`#/logs/${encodeURIComponent(r.id)}`}>{r.id}</a>
            </td>
            <td>{r.node || '—'}</td>
            {detailed && <td>{r.cause}</td>}
            <td>{fmtTime(r.scheduledAt)}</td>
            <td>{fmtTime(r.startedAt)}</td>
            <td>{r.startedAt && r.endedAt ? fmtDuration(r.endedAt - r.startedAt) : '—'}</td>
            {detailed && <td>{r.oomKilled ? 'OOM' : (r.signal ?? r.exitCode ?? '')}</td>}
            {boxed && (
              <td title={r.containerId ?? r.container}>
                {r.image ? `${r.image} ${r.containerId?.slice(0, 12) ?? ''}` : '—'}
              </td>
            )}
            <td className="muted">{r.reason}</td>
          </tr>
        ))}
        {runs.length === 0 && (
          <tr>
            <td colSpan={columns} className="muted">
              No runs yet.
            </td>
          </tr>
        )}
      </tbody>
    </table>
  );
}
