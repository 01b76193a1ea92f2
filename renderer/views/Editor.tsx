// The job editor: a control for every field of the job model, checked on each change by the
// services with the same validateJob the CLI uses (errors shown under their field); a preview
// of the next 10 firing times; a YAML view that is what `peppercorn job get` prints and
// `peppercorn job apply` takes. The draft is the spec itself (see editor/draft.ts).
import { useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import type { ValidationReport } from '../../agent/console/contract';
import { go, useClient, useCluster } from '../state';
import {
  Errors,
  fromNumber,
  fromText,
  kindOf,
  shown,
  switchKind,
  textOf,
  withField,
  type Draft,
  type Kind,
} from './editor/draft';
import { Field, pairsInput, ParsedInput, Select, TextInput } from './editor/controls';
import { AfterField, AlertsField, MisfireField, Others, RetriesField } from './editor/sections';
import { Preview } from './editor/preview';
import { ContainerFields, LimitsField } from './editor/isolation';

const NEW_JOB: Draft = { kind: 'cron' };

const TIME_ZONES: string[] = (() => {
  try {
    return (Intl as unknown as { supportedValuesOf(k: string): string[] }).supportedValuesOf('timeZone');
  } catch {
    return [];
  }
})();

export function EditorView({ name }: { name: string | null }) {
  const client = useClient();
  const { snapshot } = useCluster();
  const [draft, setDraft] = useState<Draft>(NEW_JOB);
  // Fields of other kinds, set aside while the kind is switched (see switchKind).
  const stash = useRef<Draft>({});
  const [loaded, setLoaded] = useState(name === null);
  const [checked, setChecked] = useState<{ for: string; report: ValidationReport } | null>(null);
  // Text the form could not turn into a value yet (a half-typed KEY=value line).
  const [local, setLocalErrors] = useState<Record<string, string>>({});
  const [tab, setTab] = useState<'form' | 'yaml'>('form');
  const [yamlText, setYamlText] = useState('');
  const [yamlError, setYamlError] = useState<string | null>(null);
  const [result, setResult] = useState<{ error: boolean; text: string } | null>(null);
  const [saving, setSaving] = useState(false);

  useEffect(() => {
    if (name === null) return;
    client.call('jobs.get', name).then(
      (d) => {
        setDraft(structuredClone(d.spec) as Draft);
        setLoaded(true);
      },
      (e: Error) => setResult({ error: true, text: e.message }),
    );
  }, [client, name]);

  const inputKey = useMemo(() => JSON.stringify(draft), [draft]);
  // A report counts only for the draft it checked: no stale "valid" while a check is pending.
  const report = checked && checked.for === inputKey ? checked.report : null;

  useEffect(() => {
    if (!loaded) return;
    let live = true;
    const t = setTimeout(() => {
      client.call('jobs.validate', draft).then(
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
  }, [client, draft, inputKey, loaded]);

  const update = useCallback((fn: (d: Draft) => Draft) => setDraft(fn), []);
  const setLocal = useCallback(
    (field: string, error: string | null) =>
      setLocalErrors((prev) => {
        if ((prev[field] ?? null) === error) return prev;
        const next = { ...prev };
        if (error === null) delete next[field];
        else next[field] = error;
        return next;
      }),
    [],
  );
  // The last report's errors stay shown while the next check runs, so they do not flicker.
  const errors = new Errors(checked?.report.errors ?? []);
  const errs = (path: string) => [...errors.at(path), ...(local[path] ? [local[path]] : [])];
  const valid = !!report?.ok && Object.keys(local).length === 0;
  const kind = kindOf(draft);
  const section = { draft, update, errors, setLocal };

  const text = (field: string, label: string, placeholder = '', hint?: string, list?: string) => (
    <Field id={field} label={label} errors={errs(field)} hint={hint}>
      <TextInput
        id={field}
        value={draft[field]}
        onChange={(t) => update((d) => withField(d, field, fromText(t)))}
        placeholder={placeholder}
        disabled={field === 'name' && name !== null}
        list={list}
      />
    </Field>
  );
  const number = (field: string, label: string, placeholder: string, hint?: string) => (
    <Field id={field} label={label} errors={errs(field)} hint={hint}>
      <TextInput
        id={field}
        value={draft[field]}
        onChange={(t) => update((d) => withField(d, field, fromNumber(t)))}
        placeholder={placeholder}
      />
    </Field>
  );
  const pairs = (field: string, label: string, placeholder: string, numbers = false) => (
    <Field id={field} label={label} errors={errs(field)}>
      <ParsedInput
        id={field}
        value={draft[field]}
        {...pairsInput(numbers)}
        placeholder={placeholder}
        onChange={(v) => update((d) => withField(d, field, v))}
        onLocalError={(e) => setLocal(field, e)}
      />
    </Field>
  );

  /** The YAML text parsed into a draft, or null (with the reason shown) when it cannot be used. */
  const parseYamlText = async (): Promise<Draft | null> => {
    const r = await client.call('jobs.parseYaml', yamlText);
    if (!r.ok || !r.input) {
      setYamlError(r.errors.map((e) => e.message).join('; '));
      return null;
    }
    if (name !== null && r.input.name !== name) {
      setYamlError(
        `this editor edits job "${name}"; the YAML names ${JSON.stringify(r.input.name)}. Use New job to create another.`,
      );
      return null;
    }
    setYamlError(null);
    stash.current = {};
    setDraft(r.input);
    return r.input;
  };

  const openYaml = async () => {
    const r = await client.call('jobs.validate', draft);
    setYamlText(
      r.ok && r.yaml
        ? r.yaml
        : // JSON is YAML too: the draft as it is, so nothing typed is lost on the way back.
          `# not valid yet:\n${r.errors.map((e) => `#   ${e.field}: ${e.message}`).join('\n')}\n` +
            `${JSON.stringify(draft, null, 2)}\n`,
    );
    setYamlError(null);
    setTab('yaml');
  };

  const save = async () => {
    setSaving(true);
    try {
      const input = tab === 'yaml' ? await parseYamlText() : draft;
      if (!input) return;
      const r = await client.call('jobs.apply', input);
      setResult({ error: false, text: `job/${r.name} ${r.result}` });
      go('jobs', r.name);
    } catch (e) {
      setResult({ error: true, text: (e as Error).message });
    } finally {
      setSaving(false);
    }
  };

  return (
    <div className="editor">
      <div className="toolbar">
        <h1>{name ? `Edit ${name}` : 'New job'}</h1>
        <button
          className={tab === 'form' ? 'active' : ''}
          onClick={() => setTab('form')}
          data-testid="tab-form"
        >
          Form
        </button>
        <button className={tab === 'yaml' ? 'active' : ''} onClick={openYaml} data-testid="tab-yaml">
          YAML
        </button>
        <button
          onClick={save}
          disabled={saving || (tab === 'form' && !valid)}
          className="primary"
          data-testid="save-job"
        >
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
            The spec as `peppercorn job get` prints it and `peppercorn job apply -f` takes it. Edit it, then
            load it into the form or save it as it is.
          </p>
          <textarea
            value={yamlText}
            onChange={(e) => setYamlText(e.target.value)}
            rows={24}
            spellCheck={false}
            data-testid="yaml-text"
          />
          {yamlError && (
            <div className="banner error" data-testid="yaml-error">
              {yamlError}
            </div>
          )}
          <button
            onClick={() => void parseYamlText().then((d) => d && setTab('form'))}
            data-testid="yaml-load"
          >
            Load into form
          </button>
        </div>
      ) : (
        <div className="editor-body">
          <div className="form">
            <Section title="Job">
              {text('name', 'name', 'nightly-report', 'lower-case letters, digits and dashes')}
              <Field id="kind" label="kind" errors={errs('kind')}>
                <Select
                  id="kind"
                  value={draft.kind}
                  options={[
                    ['cron', 'cron — on a schedule'],
                    ['loop', 'loop — supervised, N times or forever'],
                    ['once', 'once — at a time, after other jobs, or when triggered'],
                  ]}
                  onChange={(v) => setDraft(switchKind(draft, v as Kind, stash.current))}
                />
              </Field>
              {text('description', 'description')}
              <Field
                id="paused"
                label="paused (no launches; a manual run still runs)"
                errors={errs('paused')}
              >
                <input
                  type="checkbox"
                  checked={draft.paused === true}
                  onChange={(e) => update((d) => withField(d, 'paused', e.target.checked))}
                  data-testid="field-paused"
                />
              </Field>
            </Section>
            <Section title="When">
              {shown(draft, 'schedule') &&
                text(
                  'schedule',
                  'schedule',
                  '*/5 * * * *',
                  '5 or 6 fields (seconds first), @daily, @every 10s, H for a stable spread',
                )}
              {shown(draft, 'jitter') &&
                text('jitter', 'jitter', '30s', 'every firing moves by a stable offset up to this')}
              {shown(draft, 'times') && number('times', 'times', '0', '0 = forever')}
              {shown(draft, 'delay') && text('delay', 'delay between runs', '5s')}
              {shown(draft, 'at') &&
                text(
                  'at',
                  'at',
                  '2030-01-01T09:00:00+01:00',
                  'ISO time with offset; empty: when triggered or after parents',
                )}
              {shown(draft, 'after') && (
                <AfterField {...section} jobNames={(snapshot?.jobs ?? []).map((j) => j.name)} />
              )}
              {text(
                'timezone',
                'time zone',
                'UTC',
                'IANA name; the schedule and the preview use it',
                'editor-zones',
              )}
              <datalist id="editor-zones">
                {TIME_ZONES.map((z) => (
                  <option key={z} value={z} />
                ))}
              </datalist>
            </Section>
            <Section title="What">
              <Field id="command" label="command" errors={errs('command')} hint="run with /bin/sh -c">
                <textarea
                  value={textOf(draft.command)}
                  onChange={(e) => update((d) => withField(d, 'command', fromText(e.target.value)))}
                  rows={3}
                  spellCheck={false}
                  data-testid="field-command"
                />
              </Field>
              {pairs('env', 'environment (KEY=value per line)', 'REPORT_BUCKET=s3://reports')}
              {text('workdir', 'working directory', '/srv/reports')}
              {text('user', 'run as user', 'reports', 'the agent must run as root')}
              {text('timeout', 'timeout', '10m', 'SIGTERM to the process group, SIGKILL 5 s later')}
            </Section>
            <Section title="Isolation">
              <ContainerFields {...section} />
              <LimitsField {...section} />
            </Section>
            <Section title="Where">
              {pairs('selector', 'node selector (label=value per line)', 'zone=eu')}
              {pairs('labels', "the job's labels (label=value per line)", 'team=billing')}
              <Field id="policy" label="when its node dies mid-run" errors={errs('policy')}>
                <Select
                  id="policy"
                  value={draft.policy ?? 'at-most-once'}
                  options={[
                    ['at-most-once', 'at-most-once: mark lost, never re-run'],
                    ['at-least-once', 'at-least-once: re-run once elsewhere'],
                  ]}
                  onChange={(v) => update((d) => withField(d, 'policy', v))}
                />
              </Field>
            </Section>
            <Section title="Run policies">
              <RetriesField {...section} />
              {shown(draft, 'overlap') && (
                <Field id="overlap" label="a firing meets a run still going" errors={errs('overlap')}>
                  <Select
                    id="overlap"
                    value={draft.overlap}
                    unset="not set (skip)"
                    options={[
                      ['skip', 'skip: do not start another'],
                      ['queue', 'queue: one waits'],
                      ['replace', 'replace: stop the old one'],
                      ['allow', 'allow: run both'],
                    ]}
                    onChange={(v) => update((d) => withField(d, 'overlap', fromText(v)))}
                  />
                </Field>
              )}
              {shown(draft, 'misfire') && <MisfireField {...section} />}
              {number('concurrency', 'concurrency', '', 'runs of this job in flight, cluster-wide (1-1000)')}
              {text('mutex', 'mutex', 'nightly-db', 'jobs sharing a mutex never run at the same time')}
              {pairs('resources', 'resources (name=size per line)', 'db-primary=2', true)}
            </Section>
            <Section title="Alerts">
              <AlertsField {...section} />
            </Section>
            <Others draft={draft} errors={errors} update={update} />
          </div>
          <Preview draft={draft} kind={kind} report={report} />
        </div>
      )}
    </div>
  );
}

function Section({ title, children }: { title: string; children: ReactNode }) {
  return (
    <fieldset className="section">
      <legend>{title}</legend>
      {children}
    </fieldset>
  );
}
