// Command-line and environment settings shared by every command.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { parseEndpoints, type ConnectOptions } from '../core/etcd';

export class UsageError extends Error {}

export interface GlobalOptions {
  connect: ConnectOptions;
  json: boolean;
  /** The agent's config file contents, when --config or PEPPERCORN_CONFIG names one. */
  config: Record<string, unknown>;
}

const GLOBAL_FLAGS = ['etcd', 'prefix', 'user', 'password', 'cacert', 'cert', 'key', 'config'];

/** Splits `argv` into global options and the rest; flags may come anywhere. */
export function parseGlobal(argv: string[]): { global: GlobalOptions; rest: string[] } {
  const values: Record<string, string> = {};
  const rest: string[] = [];
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(a);
    if (m && GLOBAL_FLAGS.includes(m[1])) {
      const v = m[2] ?? argv[++i];
      if (v === undefined) throw new UsageError(`--${m[1]} needs a value`);
      values[m[1]] = v;
    } else if (a === '--json') {
      json = true;
    } else {
      rest.push(a);
    }
  }
  const env = process.env;
  const configPath = values.config ?? env.PEPPERCORN_CONFIG;
  const config = configPath ? readConfig(configPath) : {};
  const pick = (flag: string, envName: string) =>
    values[flag] ?? env[envName] ?? (typeof config[flag] === 'string' ? (config[flag] as string) : undefined);
  const endpoints = parseEndpoints(pick('etcd', 'PEPPERCORN_ETCD') ?? 'http://127.0.0.1:2379');
  return {
    global: {
      json,
      config,
      connect: {
        endpoints,
        prefix: pick('prefix', 'PEPPERCORN_PREFIX'),
        user: pick('user', 'PEPPERCORN_USER'),
        password: pick('password', 'PEPPERCORN_PASSWORD'),
        cacert: pick('cacert', 'PEPPERCORN_CACERT'),
        cert: pick('cert', 'PEPPERCORN_CERT'),
        key: pick('key', 'PEPPERCORN_KEY'),
      },
    },
    rest,
  };
}

function readConfig(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read config file ${path}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (err) {
    throw new UsageError(`config file ${path} is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed))
    throw new UsageError(`config file ${path} must be a YAML mapping`);
  return parsed as Record<string, unknown>;
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
