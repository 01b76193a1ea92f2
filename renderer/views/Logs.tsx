// A run's output in xterm.js: live while it runs (logs.follow), the whole output once done (from
// etcd, or from the log file on the node that ran it; the services decide and say which).
// Colours pass through untouched; fit to size; search; copy is the terminal's own selection.
import { useEffect, useRef, useState } from 'react';
import { Terminal } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import { SearchAddon } from '@xterm/addon-search';
import type { LogSource, RunInfo } from '../../agent/console/contract';
import { fmtTime, StatusBadge, useClient } from '../state';

function decodeB64(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

const SOURCE_TEXT: Record<LogSource, (node: string) => string> = {
  etcd: () => 'from etcd',
  node: (node) => `from the log file on ${node}`,
  'etcd-partial': () => 'partial: what etcd still has',
};

export function LogsView({ runId }: { runId: string }) {
  const client = useClient();
  const host = useRef<HTMLDivElement>(null);
  const search = useRef<SearchAddon | null>(null);
  const term = useRef<Terminal | null>(null);
  const [state, setState] = useState<'following' | 'ended' | 'error'>('following');
  const [note, setNote] = useState<string | null>(null);
  const [run, setRun] = useState<RunInfo | null>(null);
  const [query, setQuery] = useState('');
  const [bytes, setBytes] = useState(0);
  const [source, setSource] = useState<LogSource | null>(null);

  useEffect(() => {
    const t = new Terminal({
      convertEol: true,
      scrollback: 100_000,
      fontSize: 13,
      fontFamily: 'ui-monospace, "DejaVu Sans Mono", monospace',
      theme: { background: '#0f1115' },
      disableStdin: true,
    });
    const fit = new FitAddon();
    const s = new SearchAddon();
    t.loadAddon(fit);
    t.loadAddon(s);
    t.open(host.current!);
    fit.fit();
    term.current = t;
    search.current = s;
    const ro = new ResizeObserver(() => fit.fit());
    ro.observe(host.current!);
    let total = 0;
    // The next chunk to show: a dropped connection resubscribes from here, so the
    // terminal keeps what it has and gets only what it lacks.
    let next = 0;
    const unsub = client.subscribe(
      'logs.follow',
      [runId, 0],
      (frame) => {
        if (frame.kind === 'start') {
          // From the beginning (a first subscription, or a server that could not resume): clear first.
          if (!frame.from) {
            t.reset();
            total = 0;
            next = 0;
            setBytes(0);
          }
          setState('following');
        } else if (frame.kind === 'data') {
          const data = decodeB64(frame.b64);
          total += data.length;
          if (frame.next !== undefined) next = frame.next;
          setBytes(total);
          t.write(data);
        } else {
          setState('ended');
          if (frame.note) setNote(frame.note);
          setSource(frame.source ?? null);
          void client.call('runs.get', runId).then(setRun, () => undefined);
        }
      },
      (error) => {
        if (error) {
          setState('error');
          setNote(error);
        }
      },
      () => [runId, next],
    );
    void client.call('runs.get', runId).then(setRun, (e: Error) => setNote(e.message));
    return () => {
      unsub();
      ro.disconnect();
      t.dispose();
    };
  }, [client, runId]);

  const find = (forward: boolean) => {
    if (!query) return;
    if (forward) search.current?.findNext(query);
    else search.current?.findPrevious(query);
  };

  return (
    <div className="logs">
      <div className="toolbar">
        <h1 className="mono">{runId}</h1>
        {run && <StatusBadge status={state === 'following' ? 'running' : run.status} />}
        <span className="muted" data-testid="logs-state">
          {state === 'following' ? 'following live…' : state === 'ended' ? 'complete' : 'error'} · {bytes}{' '}
          bytes
        </span>
        {source && run && (
          <span className="muted" data-testid="logs-source">
            {SOURCE_TEXT[source](run.node)}
          </span>
        )}
        {run && (
          <span className="muted">
            {run.node && `on ${run.node} · `}scheduled {fmtTime(run.scheduledAt)}
          </span>
        )}
        <span className="grow" />
        <input
          placeholder="Search output"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
          onKeyDown={(e) => e.key === 'Enter' && find(!e.shiftKey)}
          data-testid="logs-search"
        />
        <button onClick={() => find(false)}>↑</button>
        <button onClick={() => find(true)}>↓</button>
        <button onClick={() => term.current?.selectAll()}>Select all</button>
        <button
          onClick={() => {
            const text = term.current?.getSelection();
            if (text) void navigator.clipboard?.writeText(text);
          }}
        >
          Copy
        </button>
        {run && <a href={`#/jobs/${encodeURIComponent(run.job)}`}>job {run.job}</a>}
      </div>
      {note && (
        <div className={`banner ${state === 'error' ? 'error' : 'warn'}`} data-testid="logs-note">
          {note}
        </div>
      )}
      <div className="term" ref={host} data-testid="terminal" />
    </div>
  );
}
