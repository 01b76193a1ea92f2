// How the CLI and the agent find etcd: flags, then PEPPERCORN_* variables, then the config
// file, then http://127.0.0.1:2379 — the default only when no config file is in play, so a
// broken config never sends credentials to whatever listens on the local port.
// No secret is taken from the command line (every local user reads /proc/*/cmdline).
import { readFileSync } from 'node:fs';
import { parseEndpoints, type ConnectOptions } from '../core/etcd';
import { readConfigFile, checkPrivate, ConfigError, type ConfigFile } from '../core/agent-config';
import { UsageError } from './args';

/** The global options as commander parsed them. */
export interface GlobalFlags {
  etcd?: string;
  prefix?: string;
  user?: string;
  password?: string;
  passwordFile?: string;
  cacert?: string;
  cert?: string;
  key?: string;
  config?: string;
}

export interface Connection {
  connect: ConnectOptions;
  /** The validated config file ({} without one). */
  config: ConfigFile;
  configPath?: string;
  /** Things the user should know (credentials over http://). */
  warnings: string[];
}

export const PASSWORD_HELP =
  'set PEPPERCORN_PASSWORD, or use --password-file FILE (mode 600), or `passwordFile:` / `password:` in the config file';

export function resolveConnection(flags: GlobalFlags, env: NodeJS.ProcessEnv = process.env): Connection {
  if (flags.password !== undefined)
    throw new UsageError(
      `--password is not accepted: a password on the command line is readable by every local user (ps, /proc); ${PASSWORD_HELP}`,
    );
  const configPath = flags.config ?? (env.PEPPERCORN_CONFIG || undefined);
  const config: ConfigFile = configPath ? readConfigFile(configPath) : {};
  const pick = (flag: keyof GlobalFlags & keyof ConfigFile, envName: string): string | undefined =>
    flags[flag] ?? (env[envName] || undefined) ?? (config[flag] as string | undefined);

  const etcdText =
    flags.etcd ??
    (env.PEPPERCORN_ETCD || undefined) ??
    (Array.isArray(config.etcd) ? config.etcd.join(',') : config.etcd);
  const endpoints = parseEndpoints(etcdText ?? 'http://127.0.0.1:2379');
  if (endpoints.length === 0)
    throw new UsageError('no etcd endpoint given; pass --etcd URL (e.g. http://127.0.0.1:2379)');
  for (const e of endpoints) {
    let ok = false;
    try {
      const u = new URL(e);
      ok = (u.protocol === 'http:' || u.protocol === 'https:') && !!u.hostname;
    } catch {
      ok = false;
    }
    if (!ok)
      throw new UsageError(`"${e}" is not an etcd endpoint; use http://HOST:PORT or https://HOST:PORT`);
  }

  const user = pick('user', 'PEPPERCORN_USER');
  const password = readPassword(flags, env, config, configPath);
  const cacert = pick('cacert', 'PEPPERCORN_CACERT');
  const cert = pick('cert', 'PEPPERCORN_CERT');
  const key = pick('key', 'PEPPERCORN_KEY');
  if (!!cert !== !!key)
    throw new UsageError(
      `--cert and --key go together (a client certificate and its private key); got only ${cert ? '--cert' : '--key'}`,
    );
  const tls = !!(cacert || cert);
  const plain = endpoints.filter((e) => e.startsWith('http://'));
  if (tls && plain.length)
    throw new UsageError(
      `TLS options given but ${plain.join(', ')} is plain http://; use https:// endpoints with --cacert/--cert/--key`,
    );
  const warnings: string[] = [];
  if (password !== undefined && plain.length)
    warnings.push(
      `sending the etcd password over plain http:// to ${plain.join(', ')}: anyone on the path can read it; use https:// endpoints`,
    );
  return {
    connect: { endpoints, prefix: pick('prefix', 'PEPPERCORN_PREFIX'), user, password, cacert, cert, key },
    config,
    configPath,
    warnings,
  };
}

function readPassword(
  flags: GlobalFlags,
  env: NodeJS.ProcessEnv,
  config: ConfigFile,
  configPath: string | undefined,
): string | undefined {
  if (flags.passwordFile) return readSecretFile(flags.passwordFile);
  if (env.PEPPERCORN_PASSWORD) return env.PEPPERCORN_PASSWORD;
  if (env.PEPPERCORN_PASSWORD_FILE) return readSecretFile(env.PEPPERCORN_PASSWORD_FILE);
  if (config.password !== undefined) return config.password;
  if (config.passwordFile) return readSecretFile(config.passwordFile, configPath);
  return undefined;
}

/** The first line of a secret file, refused when group or others can read it. */
export function readSecretFile(path: string, from?: string): string {
  let body: string;
  try {
    body = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(
      `cannot read the password file ${path}${from ? ` (passwordFile in ${from})` : ''}: ${(err as Error).message}`,
    );
  }
  try {
    checkPrivate(path, 'password');
  } catch (err) {
    if (err instanceof ConfigError)
      throw new UsageError(err.problems[0].message.replace(/^the file/, `${path}`));
    throw err;
  }
  return body.split(/\r?\n/)[0];
}
