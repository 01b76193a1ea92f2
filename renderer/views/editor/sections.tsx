// The editor's composite fields: retries, misfire, after (dependencies) and alerts. Each
// accepts the shorthands `peppercorn job apply` accepts (retries: 3, misfire: once, after: [a, b],
// alerts: off) and writes the full form only when the user edits it.
import type { ReactNode } from 'react';
import { Errors, fromNumber, fromText, isMap, withField, withSub, type Draft } from './draft';
import { Field, listInput, ParsedInput, Select, TextInput } from './controls';

export interface SectionProps {
  draft: Draft;
  update: (fn: (d: Draft) => Draft) => void;
  errors: Errors;
  setLocal: (field: string, error: string | null) => void;
}

function Group(props: { id: string; label: string; errors: string[]; hint?: string; children: ReactNode }) {
  return (
    <Field id={props.id} label={props.label} errors={props.errors} hint={props.hint} group>
      <div className="subfields">{props.children}</div>
    </Field>
  );
}

/** A shorthand scalar as the map it stands for, so editing one key keeps the other. */
const expand = (v: unknown, key: string): Draft => (isMap(v) ? v : v === undefined ? {} : { [key]: v });

export function RetriesField({ draft, update, errors }: SectionProps) {
  const r = expand(draft.retries, 'count');
  const set = (key: string, value: unknown) =>
    update((d) => withSub(d, 'retries', key, value, expand(d.retries, 'count')));
  const subs = ['retries.count', 'retries.backoff'];
  return (
    <Group
      id="retries"
      label="retries"
      errors={errors.at('retries', subs)}
      hint="each retry is its own run; the backoff doubles each time"
    >
      <Field id="retries.count" label="count" errors={errors.at('retries.count')}>
        <TextInput
          id="retries.count"
          value={r.count}
          onChange={(t) => set('count', fromNumber(t))}
          placeholder="0"
        />
      </Field>
      <Field id="retries.backoff" label="backoff" errors={errors.at('retries.backoff')}>
        <TextInput
          id="retries.backoff"
          value={r.backoff}
          onChange={(t) => set('backoff', fromText(t))}
          placeholder="10s"
        />
      </Field>
    </Group>
  );
}

export function MisfireField({ draft, update, errors }: SectionProps) {
  const m = expand(draft.misfire, 'policy');
  const set = (key: string, value: unknown) =>
    update((d) => withSub(d, 'misfire', key, value, expand(d.misfire, 'policy')));
  const subs = ['misfire.policy', 'misfire.maxCatchUp', 'misfire.deadline'];
  return (
    <Group
      id="misfire"
      label="missed times (no node could launch them in time)"
      errors={errors.at('misfire', subs)}
    >
      <Field id="misfire.policy" label="policy" errors={errors.at('misfire.policy')}>
        <Select
          id="misfire.policy"
          value={m.policy}
          unset="not set (skip)"
          options={[
            ['skip', 'skip them'],
            ['once', 'run once'],
            ['all', 'run each'],
          ]}
          onChange={(v) => set('policy', fromText(v))}
        />
      </Field>
      {(m.policy === 'all' || m.maxCatchUp !== undefined) && (
        <Field id="misfire.maxCatchUp" label="at most" errors={errors.at('misfire.maxCatchUp')}>
          <TextInput
            id="misfire.maxCatchUp"
            value={m.maxCatchUp}
            onChange={(t) => set('maxCatchUp', fromNumber(t))}
            placeholder="10"
          />
        </Field>
      )}
      <Field id="misfire.deadline" label="drop older than" errors={errors.at('misfire.deadline')}>
        <TextInput
          id="misfire.deadline"
          value={m.deadline}
          onChange={(t) => set('deadline', fromText(t))}
          placeholder="1h"
        />
      </Field>
    </Group>
  );
}

interface Parent {
  job: unknown;
  condition: unknown;
}

/** `after` in its stored form; `condition` (shorthand for every parent) folded in. */
function parents(d: Draft): Parent[] {
  const list = typeof d.after === 'string' ? [d.after] : Array.isArray(d.after) ? d.after : [];
  const fallback = d.condition ?? 'success';
  return list.map((p) =>
    isMap(p) ? { job: p.job, condition: p.condition ?? fallback } : { job: p, condition: fallback },
  );
}

export function AfterField({ draft, update, errors, jobNames }: SectionProps & { jobNames: string[] }) {
  const rows = parents(draft);
  const write = (fn: (rows: Parent[]) => Parent[]) =>
    update((d) => {
      const next = fn(parents(d));
      return withField(withField(d, 'condition', undefined), 'after', next.length ? next : undefined);
    });
  const setRow = (i: number, key: keyof Parent, value: unknown) =>
    write((list) => list.map((p, j) => (j === i ? { ...p, [key]: value } : p)));
  const rowIds = rows.map((_, i) => `after[${i}]`);
  return (
    <Group
      id="after"
      label="after (runs once each time all these parents complete)"
      errors={[...errors.at('after', rowIds), ...errors.at('condition')]}
      hint="only for kind once without at; leave empty for a job run by hand or at a time"
    >
      <div className="parents">
        {rows.map((p, i) => (
          <div key={i} className="row">
            <TextInput
              id={`after-${i}-job`}
              value={p.job}
              onChange={(t) => setRow(i, 'job', t)}
              placeholder="parent job"
              list="editor-job-names"
            />
            <Select
              id={`after-${i}-condition`}
              value={p.condition}
              options={[
                ['success', 'succeeded'],
                ['failure', 'failed'],
                ['always', 'ended either way'],
              ]}
              onChange={(v) => setRow(i, 'condition', v)}
            />
            <button
              onClick={() => write((list) => list.filter((_, j) => j !== i))}
              title="remove this parent"
            >
              ×
            </button>
            {errors.at(`after[${i}]`).map((m) => (
              <span key={m} className="ferror" data-testid={`error-after-${i}`}>
                {m}
              </span>
            ))}
          </div>
        ))}
        <button
          onClick={() => write((list) => [...list, { job: '', condition: 'success' }])}
          data-testid="add-parent"
        >
          Add parent
        </button>
      </div>
      <datalist id="editor-job-names">
        {jobNames.slice(0, 1000).map((n) => (
          <option key={n} value={n} />
        ))}
      </datalist>
    </Group>
  );
}

const RUN_RULES: [string, string][] = [
  ['failure', 'failed'],
  ['timeout', 'timed out'],
  ['lost', 'lost'],
  ['missed', 'missed'],
];

export function AlertsField({ draft, update, errors, setLocal }: SectionProps) {
  const a = draft.alerts;
  const mode = a === undefined ? '' : a === false || a === 'off' ? 'off' : isMap(a) ? 'custom' : a;
  // Unlike retries, an emptied rule map stays: `alerts: {}` is "own rules", all defaulted.
  const set = (key: string, value: unknown) =>
    update((d) => {
      const rules: Draft = { ...expand(d.alerts, '') };
      if (value === undefined) delete rules[key];
      else rules[key] = value;
      return withField(d, 'alerts', rules);
    });
  const unset = (key: string) => set(key, undefined);
  const rules = isMap(a) ? a : {};
  const on = typeof rules.on === 'string' ? [rules.on] : Array.isArray(rules.on) ? rules.on : undefined;
  const subs = [
    'alerts.on',
    'alerts.consecutiveFailures',
    'alerts.deadman',
    'alerts.channels',
    'alerts.resolved',
  ];
  return (
    <Group id="alerts" label="alerts" errors={errors.at('alerts', subs)}>
      <Select
        id="alerts"
        value={mode}
        unset="the cluster's defaults"
        options={[
          ['off', 'never alert for this job'],
          ['custom', 'its own rules'],
        ]}
        onChange={(v) =>
          update((d) => withField(d, 'alerts', v === '' ? undefined : v === 'off' ? false : {}))
        }
      />
      {mode === 'custom' && (
        <>
          <Field id="alerts.on" label="on each run that" errors={errors.at('alerts.on')} group>
            <div className="row">
              {RUN_RULES.map(([rule, label]) => (
                <label key={rule} className="check">
                  <input
                    type="checkbox"
                    checked={!!on?.includes(rule)}
                    onChange={(e) =>
                      set(
                        'on',
                        RUN_RULES.map(([r]) => r).filter((r) =>
                          r === rule ? e.target.checked : on?.includes(r),
                        ),
                      )
                    }
                    data-testid={`field-alerts.on-${rule}`}
                  />
                  {label}
                </label>
              ))}
              {on === undefined ? (
                <span className="muted">(default)</span>
              ) : (
                <button onClick={() => unset('on')}>use default</button>
              )}
            </div>
          </Field>
          <Field
            id="alerts.consecutiveFailures"
            label="after failures in a row"
            errors={errors.at('alerts.consecutiveFailures')}
          >
            <TextInput
              id="alerts.consecutiveFailures"
              value={rules.consecutiveFailures}
              onChange={(t) => (t ? set('consecutiveFailures', fromNumber(t)) : unset('consecutiveFailures'))}
              placeholder="3"
            />
          </Field>
          <Field id="alerts.deadman" label="no success for" errors={errors.at('alerts.deadman')}>
            <TextInput
              id="alerts.deadman"
              value={rules.deadman}
              onChange={(t) => (t ? set('deadman', t) : unset('deadman'))}
              placeholder="2h"
            />
          </Field>
          <Field
            id="alerts.channels"
            label="channels"
            errors={errors.at('alerts.channels')}
            hint="empty: all"
          >
            <ParsedInput
              id="alerts.channels"
              value={rules.channels}
              {...listInput}
              onChange={(v) => (v ? set('channels', v) : unset('channels'))}
              onLocalError={(e) => setLocal('alerts.channels', e)}
            />
          </Field>
          <Field id="alerts.resolved" label="when resolved" errors={errors.at('alerts.resolved')}>
            <Select
              id="alerts.resolved"
              value={rules.resolved}
              unset="notify (default)"
              options={[
                ['true', 'notify'],
                ['false', 'stay quiet'],
              ]}
              onChange={(v) => (v ? set('resolved', v === 'true') : unset('resolved'))}
            />
          </Field>
        </>
      )}
    </Group>
  );
}

/** Errors no control shows: unknown fields (typed in YAML), fields another kind uses… */
export function Others({
  draft,
  errors,
  update,
}: {
  draft: Draft;
  errors: Errors;
  update: (fn: (d: Draft) => Draft) => void;
}) {
  const list = errors.orphans(draft);
  if (!list.length) return null;
  return (
    <div className="others">
      {list.map((e) => (
        <div key={`${e.field}:${e.message}`} className="ferror" data-testid="error-other">
          {e.field}: {e.message}
          {draft[e.field] !== undefined && (
            <button onClick={() => update((d) => withField(d, e.field, undefined))}>remove {e.field}</button>
          )}
        </div>
      ))}
    </div>
  );
}
