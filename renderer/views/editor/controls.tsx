// Form controls bound to one path of the draft, each with its errors right under it.
// Test ids: `field-<path>` on the input, `error-<path>` on each message.
import { useEffect, useRef, useState, type ReactNode } from 'react';
import { parsePairs, pairsText, textOf } from './draft';

export function Field(props: {
  id: string;
  label: string;
  errors: string[];
  hint?: string;
  children: ReactNode;
  /** A div instead of a label when the field holds several inputs. */
  group?: boolean;
}) {
  const Tag = props.group ? 'div' : 'label';
  return (
    <Tag className={`field ${props.errors.length ? 'invalid' : ''}`}>
      <span className="flabel">{props.label}</span>
      {props.children}
      {props.hint && <span className="hint">{props.hint}</span>}
      {props.errors.map((m) => (
        <span key={m} className="ferror" data-testid={`error-${props.id}`}>
          {m}
        </span>
      ))}
    </Tag>
  );
}

export function TextInput(props: {
  id: string;
  value: unknown;
  onChange: (text: string) => void;
  placeholder?: string;
  disabled?: boolean;
  list?: string;
}) {
  return (
    <input
      value={textOf(props.value)}
      onChange={(e) => props.onChange(e.target.value)}
      placeholder={props.placeholder}
      disabled={props.disabled}
      list={props.list}
      spellCheck={false}
      data-testid={`field-${props.id}`}
    />
  );
}

/** A select whose empty option means "not set" (the field stays out of the spec, its default applies). */
export function Select(props: {
  id: string;
  value: unknown;
  options: [value: string, label: string][];
  onChange: (value: string) => void;
  unset?: string;
}) {
  const value = textOf(props.value);
  const options = [...props.options];
  // A value the form does not know (typed in YAML) is shown as it is; the check explains it.
  if (value !== '' && !options.some(([v]) => v === value)) options.push([value, value]);
  return (
    <select value={value} onChange={(e) => props.onChange(e.target.value)} data-testid={`field-${props.id}`}>
      {props.unset !== undefined && <option value="">{props.unset}</option>}
      {options.map(([v, label]) => (
        <option key={v} value={v}>
          {label}
        </option>
      ))}
    </select>
  );
}

/**
 * Text that stands for a structured value (a map as KEY=value lines, a list as "a, b"). The text
 * is kept while it is typed (a half-typed line is not a value yet); a value set from elsewhere
 * (the YAML view, a kind switch) replaces it.
 */
export function ParsedInput<T>(props: {
  id: string;
  value: unknown;
  format: (value: unknown) => string;
  parse: (text: string) => { value?: T; error?: string };
  onChange: (value: T | undefined) => void;
  onLocalError: (error: string | null) => void;
  multiline?: boolean;
  placeholder?: string;
}) {
  const { value, format, parse, onLocalError } = props;
  const [text, setText] = useState(() => format(value));
  const typed = useRef(text);
  typed.current = text;
  const valueKey = JSON.stringify(value ?? null);
  useEffect(() => {
    const parsed = parse(typed.current);
    if (!parsed.error && JSON.stringify(parsed.value ?? null) === valueKey) return;
    setText(format(value));
    onLocalError(null);
    // Only an outside change of the value resets the text; the text itself is not a dependency.
  }, [valueKey]);
  // A half-typed value gone from the screen (the YAML tab) must not keep the job from saving.
  useEffect(() => () => onLocalError(null), []);
  const change = (t: string) => {
    setText(t);
    const parsed = parse(t);
    onLocalError(parsed.error ?? null);
    if (!parsed.error) props.onChange(parsed.value);
  };
  const common = {
    value: text,
    placeholder: props.placeholder,
    spellCheck: false,
    'data-testid': `field-${props.id}`,
  };
  return props.multiline ? (
    <textarea
      {...common}
      rows={Math.max(2, text.split('\n').length)}
      onChange={(e) => change(e.target.value)}
    />
  ) : (
    <input {...common} onChange={(e) => change(e.target.value)} />
  );
}

export const pairsInput = (numbers = false) => ({
  format: pairsText,
  parse: (t: string) => parsePairs(t, numbers),
  multiline: true,
});

/** "a, b c" as a list of words; a list from YAML shows joined. */
export const listInput = {
  format: (v: unknown) => (Array.isArray(v) ? v.map(textOf).join(', ') : textOf(v)),
  parse: (t: string) => {
    const words = t.split(/[\s,]+/).filter(Boolean);
    return { value: words.length ? words : undefined };
  },
};
