// The jobs table: one row per job from the shared cluster.watch, virtualized
// (only the rows in view are in the DOM) so it stays smooth with 10,000 jobs.
import { useEffect, useMemo, useRef, useState, type UIEvent } from 'react';
import type { JobRow } from '../../agent/console/contract';
import { fmtTime, go, StatusBadge, useClient, useCluster } from '../state';
import { Confirm } from './Confirm';

const ROW = 34;
const OVERSCAN = 10;

export interface JobFilter {
  query: string;
  kind: string;
  /** '' | 'paused' | 'active' */
  paused: string;
  /** '' | a run status | 'none' (never ran) | 'problem' (failed, timeout or lost) */
  outcome: string;
  /** '' | a node id | 'none' (unassigned) */
  owner: string;
}

const NO_FILTER: JobFilter = { query: '', kind: '', paused: '', outcome: '', owner: '' };
const PROBLEMS = new Set(['failed', 'timeout', 'lost']);

export function matches(j: JobRow, f: JobFilter, q = f.query.trim().toLowerCase()): boolean {
  if (f.kind && j.kind !== f.kind) return false;
  if (f.paused && j.paused !== (f.paused === 'paused')) return false;
  const outcome =
    f.outcome === 'none'
      ? j.lastStatus === null
      : f.outcome === 'problem'
        ? PROBLEMS.has(j.lastStatus ?? '')
        : !f.outcome || j.lastStatus === f.outcome;
  const owner = f.owner === 'none' ? j.owner === null : !f.owner || j.owner === f.owner;
  if (!outcome || !owner) return false;
  return (
    !q ||
    j.name.includes(q) ||
    j.command.toLowerCase().includes(q) ||
    (j.owner ?? '').toLowerCase().includes(q) ||
    j.schedule.toLowerCase().includes(q)
  );
}

export function JobsView() {
  const { snapshot } = useCluster();
  const client = useClient();
  const [filter, setFilter] = useState<JobFilter>(NO_FILTER);
  // The first row in view, not the scroll offset: scrolling within a row re-renders nothing.
  const [top, setTop] = useState(0);
  const [height, setHeight] = useState(600);
  const table = useRef<HTMLDivElement>(null);
  const [confirm, setConfirm] = useState<string | null>(null);
  const [message, setMessage] = useState<{ error: boolean; text: string } | null>(null);
  const jobs = snapshot?.jobs;

  const rows = useMemo(() => (jobs ?? []).filter((j) => matches(j, filter)), [jobs, filter]);
  const owners = useMemo(() => {
    const ids = new Set((snapshot?.nodes ?? []).map((n) => n.id));
    for (const j of jobs ?? []) if (j.owner) ids.add(j.owner);
    return [...ids].sort();
  }, [jobs, snapshot?.nodes]);

  useEffect(() => {
    const el = table.current!;
    const ro = new ResizeObserver(() => setHeight(el.clientHeight));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  const act = async (what: string, fn: () => Promise<unknown>) => {
    try {
      const r = await fn();
      setMessage({ error: false, text: typeof r === 'string' ? `${what}: ${r}` : `${what}: done` });
    } catch (err) {
      setMessage({ error: true, text: `${what} failed: ${(err as Error).message}` });
    }
  };

  const first = Math.max(0, top - OVERSCAN);
  const last = Math.min(rows.length, top + Math.ceil(height / ROW) + OVERSCAN);
  const onScroll = (e: UIEvent<HTMLDivElement>) => setTop(Math.floor(e.currentTarget.scrollTop / ROW));
  const set = (k: keyof JobFilter) => (e: { target: { value: string } }) =>
    setFilter({ ...filter, [k]: e.target.value });

  return (
    <div className="jobs">
      <div className="toolbar">
        <input
          placeholder="Search name, command, owner, schedule…"
          value={filter.query}
          onChange={set('query')}
          data-testid="jobs-search"
        />
        <select value={filter.kind} onChange={set('kind')} data-testid="jobs-filter-kind" title="kind">
          <option value="">any kind</option>
          <option value="cron">cron</option>
          <option value="loop">loop</option>
          <option value="once">once</option>
        </select>
        <select
          value={filter.paused}
          onChange={set('paused')}
          data-testid="jobs-filter-paused"
          title="paused"
        >
          <option value="">paused or not</option>
          <option value="paused">paused</option>
          <option value="active">not paused</option>
        </select>
        <select
          value={filter.outcome}
          onChange={set('outcome')}
          data-testid="jobs-filter-outcome"
          title="last outcome"
        >
          <option value="">any last outcome</option>
          <option value="problem">failed, timeout or lost</option>
          {['succeeded', 'failed', 'timeout', 'lost', 'skipped', 'running'].map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
          <option value="none">never ran</option>
        </select>
        <select
          value={filter.owner}
          onChange={set('owner')}
          data-testid="jobs-filter-owner"
          title="owner node"
        >
          <option value="">any owner</option>
          {owners.map((id) => (
            <option key={id} value={id}>
              {id}
            </option>
          ))}
          <option value="none">unassigned</option>
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
      <div className="vtable" ref={table} onScroll={onScroll} data-testid="jobs-table">
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
