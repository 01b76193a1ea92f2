import { useEffect, useState } from 'react';
import type { JobDetail, RunInfo } from '../../agent/console/contract';
import { fmtDuration, fmtTime, go, useClient, useCluster } from '../state';
import { RunTable } from './RunTable';
import { JobHistory, TrustFacts } from './JobHistory';

export function JobDetailView({ name }: { name: string }) {
  const client = useClient();
  const { snapshot } = useCluster();
  const [detail, setDetail] = useState<JobDetail | null>(null);
  const [runs, setRuns] = useState<RunInfo[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const [tab, setTab] = useState<'runs' | 'history'>('runs');
  const row = snapshot?.jobs.find((j) => j.name === name);
  const running = snapshot?.running.filter((r) => r.job === name) ?? [];
  // Re-read when this job's row or its running runs change (the watch is shared; this is one read).
  const changeKey = JSON.stringify([row, running.map((r) => r.runId)]);

  useEffect(() => {
    let live = true;
    client.call('jobs.get', name).then(
      (d) => live && (setDetail(d), setError(null)),
      (e: Error) => live && setError(e.message),
    );
    client.call('runs.list', name, 100).then(
      (r) => live && setRuns(r),
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [client, name, changeKey]);

  if (error) return <div className="banner error">{error}</div>;
  if (!detail) return <p className="muted">Loading {name}…</p>;
  const s = detail.spec;
  return (
    <div className="detail">
      <div className="toolbar">
        <h1>{s.name}</h1>
        <button onClick={() => go('edit', s.name)}>Edit</button>
        <button
          onClick={() =>
            client.call('jobs.trigger', s.name).then(
              (id) => go('logs', id),
              (e: Error) => setNote(e.message),
            )
          }
          data-testid="detail-run"
        >
          Run now and follow
        </button>
      </div>
      {note && <div className="banner error">{note}</div>}
      <dl className="facts">
        <dt>kind</dt>
        <dd>{s.kind}</dd>
        <dt>schedule</dt>
        <dd className="mono">{row?.schedule ?? s.schedule}</dd>
        <dt>time zone</dt>
        <dd>{s.timezone}</dd>
        <dt>command</dt>
        <dd className="mono">{s.command}</dd>
        <dt>owner</dt>
        <dd data-testid="job-owner">
          <Owner detail={detail} />
        </dd>
        <dt>next run</dt>
        <dd>{s.paused ? 'paused' : fmtTime(row?.next)}</dd>
        <dt>cursor</dt>
        <dd>{fmtTime(detail.cursor)}</dd>
        <TrustFacts detail={detail} />
      </dl>
      <div className="toolbar">
        <button
          className={tab === 'runs' ? 'active' : ''}
          onClick={() => setTab('runs')}
          data-testid="tab-runs"
        >
          Runs
        </button>
        <button
          className={tab === 'history' ? 'active' : ''}
          onClick={() => setTab('history')}
          data-testid="tab-history"
        >
          History
        </button>
      </div>
      {tab === 'history' ? (
        <JobHistory name={name} changeKey={changeKey} />
      ) : (
        <>
          <AssignmentHistory detail={detail} />
          <h2>Durations and outcomes</h2>
          <RunChart runs={runs} />
          <h2>Run history</h2>
          <RunTable runs={runs} testId="runs-table" detailed />
        </>
      )}
    </div>
  );
}

function Owner({ detail }: { detail: JobDetail }) {
  const a = detail.assignment;
  const owner = a?.node ?? detail.owner;
  if (!owner) return <>unassigned (no live node matches, or the leader has not placed it yet)</>;
  return (
    <>
      <a href={`#/nodes/${encodeURIComponent(owner)}`}>{owner}</a>
      {a && (
        <span className="muted">
          {' '}
          since {fmtTime(a.since)} (epoch {a.epoch}), placed by {a.by}
          {a.reason && `: ${a.reason}`}
        </span>
      )}
    </>
  );
}

/** Where the job has been, newest first: the current owner, then the ones before it. */
function AssignmentHistory({ detail }: { detail: JobDetail }) {
  const a = detail.assignment;
  if (!a) return null;
  // Stored oldest first; each entry's time is when that owner got the job.
  const past = [...(a.history ?? [])].reverse();
  const rows = [
    { node: a.node, epoch: a.epoch, at: a.since, reason: a.reason ?? '', until: null as number | null },
  ];
  let until = a.since;
  for (const h of past) {
    rows.push({ ...h, until });
    until = h.at;
  }
  return (
    <>
      <h2>Assignment history</h2>
      <table className="grid" data-testid="assignment-history">
        <thead>
          <tr>
            <th>node</th>
            <th>epoch</th>
            <th>from</th>
            <th>until</th>
            <th>why it came there</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) => (
            <tr key={`${r.node}:${r.epoch}:${r.at}:${i}`}>
              <td>
                <a href={`#/nodes/${encodeURIComponent(r.node)}`}>{r.node}</a>
              </td>
              <td className="mono">{r.epoch}</td>
              <td>{fmtTime(r.at)}</td>
              <td>{r.until === null ? 'now' : fmtTime(r.until)}</td>
              <td className="muted">{r.reason || '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {past.length === 0 && <p className="muted">It has had no other owner.</p>}
    </>
  );
}

/** One bar per run, oldest left: height is the duration, colour the outcome. */
function RunChart({ runs }: { runs: RunInfo[] }) {
  const done = runs
    .filter((r) => r.startedAt && r.endedAt)
    .slice(0, 60)
    .reverse();
  if (done.length === 0) return <p className="muted">No finished runs to chart.</p>;
  const max = Math.max(...done.map((r) => r.endedAt! - r.startedAt!), 1);
  const w = 10;
  return (
    <svg className="chart" width={done.length * (w + 2)} height={80} role="img" aria-label="run durations">
      {done.map((r, i) => {
        const h = Math.max(2, ((r.endedAt! - r.startedAt!) / max) * 76);
        return (
          <rect
            key={r.id}
            x={i * (w + 2)}
            y={80 - h}
            width={w}
            height={h}
            className={`bar status-${r.status}`}
          >
            <title>{`${r.id}: ${r.status}, ${fmtDuration(r.endedAt! - r.startedAt!)}`}</title>
          </rect>
        );
      })}
    </svg>
  );
}
