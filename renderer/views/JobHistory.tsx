// A job's audit trail: who changed it (etcd user, OS user and host, signing key), when and what.
import { useEffect, useState } from 'react';
import type { HistoryEntry, JobDetail } from '../../agent/console/contract';
import { fmtTime, useClient } from '../state';

export function JobHistory({ name, changeKey }: { name: string; changeKey: string }) {
  const client = useClient();
  const [entries, setEntries] = useState<HistoryEntry[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    client.call('jobs.history', name).then(
      (e) => live && (setEntries(e), setError(null)),
      (e: Error) => live && setError(e.message),
    );
    return () => {
      live = false;
    };
  }, [client, name, changeKey]);
  if (error) return <div className="banner error">{error}</div>;
  if (!entries) return <p className="muted">Loading the history…</p>;
  if (!entries.length) return <p className="muted">No recorded changes of this job.</p>;
  return (
    <table className="grid" data-testid="job-history">
      <thead>
        <tr>
          <th>when</th>
          <th>change</th>
          <th>who</th>
          <th>signed by</th>
          <th>what</th>
        </tr>
      </thead>
      <tbody>
        {entries.map((e, i) => (
          <tr key={`${e.at}:${i}`}>
            <td>{fmtTime(e.at)}</td>
            <td>{e.action}</td>
            <td>
              {e.osUser}@{e.host}
              {e.etcdUser && <span className="muted"> (etcd user {e.etcdUser})</span>}
            </td>
            <td className="mono">{e.keyId === undefined ? '—' : (e.keyId ?? 'unsigned')}</td>
            <td>
              {e.changes.map((c) => (
                <div key={c.field} className="mono">
                  {c.field}: {c.before === undefined ? '' : `${c.before} → `}
                  {c.after ?? '(removed)'}
                </div>
              ))}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The signature and the nodes whose policy refuses the job, as facts of the job. */
export function TrustFacts({ detail }: { detail: JobDetail }) {
  return (
    <>
      <dt>signature</dt>
      <dd data-testid="job-signature">
        {detail.signedBy ? (
          <>
            signed by key <span className="mono">{detail.signedBy}</span>
          </>
        ) : (
          'unsigned'
        )}
      </dd>
      {!!detail.refusedBy?.length && (
        <>
          <dt>refused by</dt>
          <dd data-testid="job-refused-by">
            {detail.refusedBy.map((r) => (
              <div key={r.node}>
                <a href={`#/nodes/${encodeURIComponent(r.node)}`}>{r.node}</a>: {r.reason}
              </div>
            ))}
          </dd>
        </>
      )}
    </>
  );
}
