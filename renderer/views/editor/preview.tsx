// Beside the form: the next 10 firing times, from the services' check (the same schedule
// code the agents run), shown in the job's own time zone.
import type { ReactNode } from 'react';
import type { ValidationReport } from '../../../agent/console/contract';
import { fmtTime } from '../../state';
import type { Draft, Kind } from './draft';

export function Preview({
  draft,
  kind,
  report,
}: {
  draft: Draft;
  kind: Kind;
  report: ValidationReport | null;
}) {
  const tz = typeof draft.timezone === 'string' && draft.timezone ? draft.timezone : 'UTC';
  let body: ReactNode;
  if (kind === 'loop')
    body = (
      <p className="muted">
        Loop jobs run one after another, {String(draft.delay ?? 'with no delay')} apart.
      </p>
    );
  else if (!report?.ok) body = <p className="muted">Shown once the spec is valid.</p>;
  else if (report.next?.length)
    body = (
      <ol>
        {report.next.map((t) => (
          <li key={t}>
            {fmtTime(t)} <span className="muted">{zoned(t, tz)}</span>
          </li>
        ))}
      </ol>
    );
  else
    body = (
      <p className="muted">
        {report.nextError ??
          (draft.after !== undefined
            ? 'No clock: runs each time its parents complete.'
            : 'No future firing time: runs only when triggered.')}
      </p>
    );
  return (
    <aside className="preview" data-testid="next-times">
      <h2>Next 10 times ({tz})</h2>
      {body}
    </aside>
  );
}

function zoned(t: number, tz: string): string {
  try {
    return (
      new Intl.DateTimeFormat('sv-SE', { timeZone: tz, dateStyle: 'short', timeStyle: 'medium' }).format(
        new Date(t),
      ) + ` ${tz}`
    );
  } catch {
    return '';
  }
}
