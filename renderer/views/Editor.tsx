// The job editor: every field of the job model, checked on each change by the
// services with the same validateJob the CLI uses; a preview of the next 10
// firing times; a YAML view that loads back into the form (and applies with `peppercorn job apply`).
import { useEffect, useMemo, useState } from 'react';
import type { JobSpecData, ValidationReport } from '../../electron/common/contract';
import { fmtTime, go, useClient } from '../state';

interface Form {
  name: string;
  kind: string;
  schedule: string;
  timezone: string;
  at: string;
  times: string;
  delay: string;
  command: string;
  env: string;
  workdir: string;
  user: string;
  timeout: string;
  selector: string;
  policy: string;
  paused: boolean;
  description: string;
  /** Fields the form has no widget for (retries, overlap, ...): kept as loaded or typed in YAML. */
  extra: Record<string, unknown>;
}

const EMPTY: Form = {
  name: '',
  kind: 'cron',
  schedule: '',
  timezone: 'UTC',
  at: '',
  times: '0',
  delay: '',
  command: '',
  env: '',
  workdir: '',
  user: '',
  timeout: '',
  selector: '',
  policy: 'at-most-once',
  paused: false,
  description: '',
  extra: {},
};

const FORM_FIELDS = new Set(Object.keys(EMPTY).filter((k) => k !== 'extra'));

function pairs(text: string): Record<string, string> | string {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    const i = line.indexOf('=');
    if (i <= 0) return `"${line}" is not KEY=value`;
    out[line.slice(0, i).trim()] = line.slice(i + 1);
  }
  return out;
}

function toInput(f: Form): { input: Record<string, unknown>; local: Record<string, string> } {
  const local: Record<string, string> = {};
  const input: Record<string, unknown> = { ...f.extra, name: f.name, kind: f.kind, command: f.command };
  if (f.kind === 'cron') input.schedule = f.schedule;
  if (f.kind === 'loop') {
    if (f.times.trim()) input.times = /^\d+$/.test(f.times.trim()) ? Number(f.times) : f.times;
    if (f.delay.trim()) input.delay = f.delay.trim();
  }
  if (f.kind === 'once' && f.at.trim()) input.at = f.at.trim();
  if (f.timezone.trim()) input.timezone = f.timezone.trim();
  for (const k of ['workdir', 'user', 'timeout', 'description'] as const)
    if (f[k].trim()) input[k] = f[k].trim();
  for (const k of ['env', 'selector'] as const) {
    const p = pairs(f[k]);
    if (typeof p === 'string') local[k] = p;
    else if (Object.keys(p).length) input[k] = p;
  }
  input.policy = f.policy;
  if (f.paused) input.paused = true;
  return { input, local };
}

function fromSpec(s: Record<string, unknown>): Form {
  const str = (v: unknown) => (v === undefined || v === null ? '' : String(v));
  const kv = (v: unknown) =>
    v && typeof v === 'object'
      ? Object.entries(v as Record<string, unknown>)
          .map(([k, x]) => `${k}=${str(x)}`)
          .join('\n')
      : '';
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s)) if (!FORM_FIELDS.has(k)) extra[k] = v;
  return {
    name: str(s.name),
    kind: str(s.kind) || 'cron',
    schedule: str(s.schedule),
    timezone: str(s.timezone) || 'UTC',
    at: str(s.at),
    times: s.times === undefined ? '0' : str(s.times),
    delay: str(s.delay),
    command: str(s.command),
    env: kv(s.env),
    workdir: str(s.workdir),
    user: str(s.user),
    timeout: str(s.timeout),
    selector: kv(s.selector),
    policy: str(s.policy) || 'at-most-once',
    paused: s.paused === true,
    description: str(s.description),
    extra,
  };
}

export function EditorView({ name }: { name: string | null }) {
  const client = useClient();
  const [form, setForm] = useState<Form>(EMPTY);
  const [loaded, setLoaded] = useState(name === null);
  const [checked, setChecked] = useState<{ for: string; report: ValidationReport } | null>(null);
  const [tab, setTab] = useState<'form' | 'yaml'>('form');
  const [yamlText, setYamlText] = useState('');
  const [yamlError, setYamlError] = useState<string | null>(null);
  const [result, setResult] = useState<{ error: boolean; text: string } | null>(null);
  const [saving, setSaving] = useState(false);

  useEffect(() => {
    if (name === null) return;
    client.call('jobs.get', name).then(
      (d) => {
        setForm(fromSpec(d.spec as JobSpecData));
        setLoaded(true);
      },
      (e: Error) => setResult({ error: true, text: e.message }),
    );
  }, [client, name]);

  const { input, local } = useMemo(() => toInput(form), [form]);
  const inputKey = JSON.stringify(input);
  // A report counts only for the input it checked: no stale "valid" while a check is pending.
  const report = checked && checked.for === inputKey ? checked.report : null;

  useEffect(() => {
    if (!loaded) return;
    let live = true;
    const t = setTimeout(() => {
      client.call('jobs.validate', input).then(
        (r) => live && setChecked({ for: inputKey, report: r }),
        (e: Error) =>
          live &&
          setChecked({
            for: inputKey,
            report: { ok: false, errors: [{ field: '(check)', message: e.message }] },
          }),
      );
    }, 150);
    return () => {
      live = false;
      clearTimeout(t);
    };
  }, [client, input, inputKey, loaded]);

  const errors = new Map<string, string[]>();
  for (const e of checked?.report.errors ?? []) {
    const field = e.field.split(/[.[]/)[0];
    const key = FORM_FIELDS.has(field) ? field : '(other)';
    errors.set(key, [...(errors.get(key) ?? []), `${e.field === field ? '' : e.field + ': '}${e.message}`]);
  }
  for (const [k, m] of Object.entries(local)) errors.set(k, [...(errors.get(k) ?? []), m]);
  const valid = !!report?.ok && Object.keys(local).length === 0;

  const set = (k: keyof Form) => (e: { target: { value: string } }) =>
    setForm({ ...form, [k]: e.target.value });
  const field = (k: keyof Form, label: string, control: JSX.Element, hint?: string) => (
    <label className={`field ${errors.has(k) ? 'invalid' : ''}`}>
      <span className="flabel">{label}</span>
      {control}
      {hint && <span className="hint">{hint}</span>}
      {errors.get(k)?.map((m) => (
        <span key={m} className="ferror" data-testid={`error-${k}`}>
          {m}
        </span>
      ))}
    </label>
  );
  const text = (k: keyof Form, placeholder = '') => (
    <input value={form[k] as string} onChange={set(k)} placeholder={placeholder} data-testid={`field-${k}`} />
  );

  const save = async () => {
    setSaving(true);
    try {
      const r = await client.call('jobs.apply', input);
      setResult({ error: false, text: `job/${r.name} ${r.result}` });
      go('jobs', r.name);
    } catch (e) {
      setResult({ error: true, text: (e as Error).message });
    } finally {
      setSaving(false);
    }
  };

  const loadYaml = async () => {
    const r = await client.call('jobs.parseYaml', yamlText);
    if (!r.ok || !r.input) setYamlError(r.errors.map((e) => e.message).join('; '));
    else {
      setYamlError(null);
      setForm(fromSpec(r.input));
      setTab('form');
    }
  };

  return (
    <div className="editor">
      <div className="toolbar">
        <h1>{name ? `Edit ${name}` : 'New job'}</h1>
        <button className={tab === 'form' ? 'active' : ''} onClick={() => setTab('form')}>
          Form
        </button>
        <button
          className={tab === 'yaml' ? 'active' : ''}
          onClick={() => {
            void client.call('jobs.validate', input).then((r) => {
              setYamlText(
                r.yaml ??
                  `# not valid yet:\n${r.errors.map((e) => `# ${e.field}: ${e.message}`).join('\n')}\n`,
              );
              setTab('yaml');
            });
          }}
          data-testid="tab-yaml"
        >
          YAML
        </button>
        <button onClick={save} disabled={!valid || saving} className="primary" data-testid="save-job">
          {name ? 'Save' : 'Create'}
        </button>
        <span className={valid ? 'ok-text' : 'err-text'} data-testid="validity">
          {report === null ? 'checking…' : valid ? 'valid' : 'fix the fields marked in red'}
        </span>
      </div>
      {result && (
        <div className={`banner ${result.error ? 'error' : 'ok'}`} data-testid="editor-result">
          {result.text}
        </div>
      )}
      {tab === 'yaml' ? (
        <div className="yaml">
          <p className="muted">
            The spec as `peppercorn job apply -f` takes it. Edit and load it back into the form.
          </p>
          <textarea
            value={yamlText}
            onChange={(e) => setYamlText(e.target.value)}
            rows={22}
            data-testid="yaml-text"
          />
          {yamlError && <div className="banner error">{yamlError}</div>}
          <button onClick={loadYaml}>Load into form</button>
        </div>
      ) : (
        <div className="editor-body">
          <div className="form">
            {field(
              'name',
              'name',
              <input
                value={form.name}
                onChange={set('name')}
                disabled={name !== null}
                data-testid="field-name"
              />,
              'lowercase letters, digits and dashes',
            )}
            {field(
              'kind',
              'kind',
              <select value={form.kind} onChange={set('kind')} data-testid="field-kind">
                <option value="cron">cron — on a schedule</option>
                <option value="loop">loop — supervised, N times or forever</option>
                <option value="once">once — at a time, or when triggered</option>
              </select>,
            )}
            {form.kind === 'cron' &&
              field(
                'schedule',
                'schedule',
                text('schedule', '*/5 * * * *'),
                '5 or 6 fields (seconds first), @daily, @every 10s, H for a stable spread',
              )}
            {form.kind === 'loop' && field('times', 'times', text('times'), '0 = forever')}
            {form.kind === 'loop' && field('delay', 'delay between runs', text('delay', '5s'))}
            {form.kind === 'once' &&
              field(
                'at',
                'at',
                text('at', '2030-01-01T09:00:00+01:00'),
                'ISO time with offset; empty = only when triggered',
              )}
            {field('timezone', 'time zone', text('timezone', 'Europe/Paris'))}
            {field(
              'command',
              'command',
              <textarea
                value={form.command}
                onChange={set('command')}
                rows={3}
                data-testid="field-command"
              />,
              'run with /bin/sh -c',
            )}
            {field(
              'env',
              'environment (KEY=value per line)',
              <textarea value={form.env} onChange={set('env')} rows={2} data-testid="field-env" />,
            )}
            {field('workdir', 'working directory', text('workdir'))}
            {field('user', 'run as user', text('user'))}
            {field('timeout', 'timeout', text('timeout', '10m'))}
            {field(
              'selector',
              'node selector (label=value per line)',
              <textarea
                value={form.selector}
                onChange={set('selector')}
                rows={2}
                data-testid="field-selector"
              />,
            )}
            {field(
              'policy',
              'when its node dies mid-run',
              <select value={form.policy} onChange={set('policy')} data-testid="field-policy">
                <option value="at-most-once">at-most-once: mark lost, never re-run</option>
                <option value="at-least-once">at-least-once: re-run once elsewhere</option>
              </select>,
            )}
            {field(
              'paused',
              'paused',
              <input
                type="checkbox"
                checked={form.paused}
                onChange={(e) => setForm({ ...form, paused: e.target.checked })}
                data-testid="field-paused"
              />,
            )}
            {field('description', 'description', text('description'))}
            {Object.keys(form.extra).length > 0 && (
              <p className="muted">Also set (edit in the YAML view): {Object.keys(form.extra).join(', ')}</p>
            )}
            {errors.get('(other)')?.map((m) => (
              <div key={m} className="ferror" data-testid="error-other">
                {m}
              </div>
            ))}
          </div>
          <aside className="preview" data-testid="next-times">
            <h2>Next 10 times ({form.timezone || 'UTC'})</h2>
            {form.kind === 'loop' ? (
              <p className="muted">Loop jobs run one after another, {form.delay || 'with no delay'} apart.</p>
            ) : report?.ok ? (
              report.next && report.next.length ? (
                <ol>
                  {report.next.map((t) => (
                    <li key={t}>
                      {fmtTime(t)} <span className="muted">{zoned(t, form.timezone)}</span>
                    </li>
                  ))}
                </ol>
              ) : (
                <p className="muted">
                  {report.nextError ?? 'No future firing time: runs only when triggered.'}
                </p>
              )
            ) : (
              <p className="muted">Shown once the spec is valid.</p>
            )}
          </aside>
        </div>
      )}
    </div>
  );
}

function zoned(t: number, tz: string): string {
  try {
    return (
      new Intl.DateTimeFormat('sv-SE', {
        timeZone: tz || 'UTC',
        dateStyle: 'short',
        timeStyle: 'medium',
      }).format(new Date(t)) + ` ${tz || 'UTC'}`
    );
  } catch {
    return '';
  }
}
