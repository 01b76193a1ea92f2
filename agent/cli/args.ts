// Small parsers shared by the CLI's commands.
import type { OutputFormat } from './output';
import { UsageError } from './usage-error';

export { UsageError };

/** What the alerts command reads of the global options (the rest is in connection.ts). */
export interface GlobalOptions {
  json: boolean;
  output?: OutputFormat;
}

/** Minimal per-command flag parsing: `--name value`, `--name=value`, `-x value`, booleans. */
export function parseFlags(
  args: string[],
  spec: Record<string, { type: 'string' | 'boolean'; short?: string }>,
): { flags: Record<string, string | boolean>; positionals: string[] } {
  const flags: Record<string, string | boolean> = {};
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '-') {
      positionals.push(a);
      continue;
    }
    const long = /^--([a-z-]+)(?:=(.*))?$/.exec(a);
    const short = /^-([a-zA-Z])$/.exec(a);
    const name = long
      ? long[1]
      : short
        ? Object.keys(spec).find((k) => spec[k].short === short[1])
        : undefined;
    if (!long && !short) {
      positionals.push(a);
      continue;
    }
    if (!name || !spec[name]) throw new UsageError(`unknown option ${a}`);
    if (spec[name].type === 'boolean') flags[name] = true;
    else {
      const v = long?.[2] ?? args[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      flags[name] = v;
    }
  }
  return { flags, positionals };
}

export function parseLabels(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (text ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const m = /^([A-Za-z0-9._/-]+)=([A-Za-z0-9._-]*)$/.exec(part);
    if (!m) throw new UsageError(`bad label "${part}"; write labels as key=value,key=value`);
    out[m[1]] = m[2];
  }
  return out;
}

export function parseInteger(text: string, what: string, min: number): number {
  if (!/^\d+$/.test(text) || Number(text) < min)
    throw new UsageError(`${what} must be a whole number ≥ ${min}, got "${text}"`);
  return Number(text);
}
