// The jobs table: one row per job from the shared cluster.watch, virtualized
// (only the rows in view are in the DOM) so it stays smooth with 10,000 jobs.
import { useMemo, useState, type UIEvent } from 'react';
import type { JobRow } from '../../electron/common/contract';
import { fmtTime, go, StatusBadge, useClient, useCluster } from '../state';
import { Confirm } from './Confirm';

const ROW = 34;
const OVERSCAN = 10;

export function JobsView() {
  const { snapshot } = useCluster();
  const client = useClient();
  const [query, setQuery] = useState('');
  const [kind, setKind] = useState('');
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(600);
  const [confirm, setConfirm] = useState<string | null>(null);
  const [message, setMessage] = useState<{ error: boolean; text: string } | null>(null);

  const rows = useMemo(() => {
    const q = query.trim().toLowerCase();
    return (snapshot?.jobs ?? []).filter(
      (j) =>
        (!kind ||
          j.kind === kind ||
          (kind === 'paused' && j.paused) ||
          (kind === 'failing' && j.lastStatus === 'failed')) &&
        (!q || j.name.includes(q) || j.command.toLowerCase().includes(q) || (j.owner ?? '').includes(q)),
    );
  }, [snapshot, query, kind]);

  const act = async (what: string, fn: () => Promise<unknown>) => {
    try {
      const r = await fn();
      setMessage({ error: false, text: typeof r === 'string' ? `${what}: ${r}` : `${what}: done` });
    } catch (err) {
      setMessage({ error: true, text: `${what} failed: ${(err as Error).message}` });
    }
  };

  const first = Math.max(0, Math.floor(scrollTop / ROW) - OVERSCAN);
  const last = Math.min(rows.length, Math.ceil((scrollTop + height) / ROW) + OVERSCAN);
  const onScroll = (e: UIEvent<HTMLDivElement>) => {
    setScrollTop(e.currentTarget.scrollTop);
    setHeight(e.currentTarget.clientHeight);
  };

  return (
    <div className="jobs">
      <div className="toolbar">
        <input
          placeholder="Search name, command, owner…"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
          data-testid="jobs-search"
        />
        <select value={kind} onChange={(e) => setKind(e.target.value)} data-testid="jobs-filter">
          <option value="">all</option>
          <option value="cron">cron</option>
          <option value="loop">loop</option>
          <option value="once">once</option>
          <option value="paused">paused</option>
          <option value="failing">last run failed</option>
        </select>
        <span className="muted" data-testid="jobs-count">
          {rows.length} of {snapshot?.jobs.length ?? 0} jobs
        </span>
        <button onClick={() => go('new')}>New job</button>
      </div>
      {message && (
        <div className={`banner ${message.error ? 'error' : 'ok'}`} data-testid="jobs-message">
          {message.text}
        </div>
      )}
      <div className="vtable-head jobs-cols">
        <span>name</span>
        <span>kind</span>
        <span>schedule</span>
        <span>next run</span>
        <span>last outcome</span>
        <span>owner</span>
        <span>paused</span>
        <span />
      </div>
      <div className="vtable" onScroll={onScroll} data-testid="jobs-table">
        <div style={{ height: rows.length * ROW, position: 'relative' }}>
          {rows.slice(first, last).map((j, i) => (
            <Row
              key={j.name}
              job={j}
              top={(first + i) * ROW}
              onPause={() =>
                act(`${j.paused ? 'resume' : 'pause'} ${j.name}`, () =>
                  client.call(j.paused ? 'jobs.resume' : 'jobs.pause', j.name),
                )
              }
              onRun={() => act(`run ${j.name}`, () => client.call('jobs.trigger', j.name))}
              onDelete={() => setConfirm(j.name)}
            />
          ))}
        </div>
      </div>
      {confirm && (
        <Confirm
          text={`Delete job "${confirm}" and its run history? Runs in flight finish.`}
          yes="Delete"
          onNo={() => setConfirm(null)}
          onYes={() => {
            const name = confirm;
            setConfirm(null);
            void act(`delete ${name}`, () => client.call('jobs.remove', name));
          }}
        />
      )}
    </div>
  );
}

function Row(props: {
  job: JobRow;
  top: number;
  onPause: () => void;
  onRun: () => void;
  onDelete: () => void;
}) {
  const j = props.job;
  return (
    <div className="vrow jobs-cols" style={{ top: props.top, height: ROW }} data-testid={`job-${j.name}`}>
      <a href={`#/jobs/${encodeURIComponent(j.name)}`}>{j.name}</a>
      <span>{j.kind}</span>
      <span className="mono" title={j.timezone}>
        {j.schedule}
      </span>
      <span>{j.paused ? '—' : fmtTime(j.next)}</span>
      <span>
        {j.lastRunId ? (
          <a href={`#/logs/${encodeURIComponent(j.lastRunId)}`}>
            <StatusBadge status={j.lastStatus} />
          </a>
        ) : (
          <StatusBadge status={null} />
        )}
      </span>
      <span>{j.owner ?? <span className="muted">unassigned</span>}</span>
      <span>{j.paused ? 'paused' : ''}</span>
      <span className="actions">
        <button onClick={props.onPause}>{j.paused ? 'Resume' : 'Pause'}</button>
        <button onClick={props.onRun}>Run</button>
        <button onClick={() => go('edit', j.name)}>Edit</button>
        <button className="danger" onClick={props.onDelete}>
          Delete
        </button>
      </span>
    </div>
  );
}
