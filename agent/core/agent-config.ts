// The agent and CLI config file (YAML, `--config FILE` / PEPPERCORN_CONFIG): its one
// definition, from which the strict validator, schemas/agent-config.schema.json and
// `peppercorn explain config.*` all come. It fails closed: a malformed file stops the
// command with the key named, and never falls back to a default etcd.
import { readFileSync, statSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { checkShape, type Shape, type ShapeError } from './schema/shape';
import { duration, labelMap, text } from './schema/common';

const stringList = (doc: string, example: string[]): Shape => ({
  type: 'list',
  of: { type: 'string', minLength: 1 },
  doc,
  examples: [example],
});

export const CONFIG_SHAPE: Shape = {
  type: 'object',
  doc: 'Peppercorn agent and CLI configuration (`peppercorn agent --config FILE`, or PEPPERCORN_CONFIG). Command-line flags and PEPPERCORN_* variables override it.',
  aliases: {
    endpoints: 'etcd',
    hosts: 'etcd',
    username: 'user',
    nodename: 'nodeId',
    node: 'nodeId',
    ca: 'cacert',
  },
  fields: {
    etcd: {
      type: 'anyOf',
      what: 'an etcd URL, a comma-separated list of URLs, or a YAML list of URLs',
      options: [
        { type: 'string', minLength: 1 },
        { type: 'list', of: { type: 'string', minLength: 1 }, minItems: 1 },
      ],
      doc: 'etcd endpoints (http:// or https://), a string or a list. Default http://127.0.0.1:2379.',
      examples: [['https://etcd1:2379', 'https://etcd2:2379']],
    },
    prefix: text('Key prefix of the cluster in etcd; several clusters can share one etcd.', {
      examples: ['/peppercorn/'],
    }),
    user: text('etcd user name.'),
    password: text(
      'etcd password. The file is refused when group or others can read it (chmod 600). Prefer passwordFile or PEPPERCORN_PASSWORD.',
    ),
    passwordFile: text('A file whose first line is the etcd password (same permission rule as this file).'),
    cacert: text('CA certificate (PEM) for etcd over TLS; the system CAs when absent.'),
    cert: text('Client certificate (PEM) for etcd TLS client authentication.'),
    key: text('Private key (PEM) of the client certificate.'),
    nodeId: text('The node name; a second live agent with the same id is refused. Default: the hostname.', {
      pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$',
      patternHint: 'is not a node id; use letters, digits, ".", "_" and "-"',
    }),
    labels: labelMap('Labels that job selectors match, e.g. { zone: eu, disk: ssd }.'),
    capacity: { type: 'integer', minimum: 0, doc: 'Most jobs this node will own (0: no limit).' },
    dataDir: text('Run output files and the lease record. Default /var/lib/peppercorn/ID as root.'),
    leaseTtl: { type: 'integer', minimum: 2, doc: "The node's lease in seconds; failover happens after it." },
    keepRuns: {
      type: 'integer',
      minimum: 1,
      doc: 'Run records kept per job in etcd (also at most 14 days).',
    },
    historyWindow: duration('etcd history kept; the leader compacts older revisions.', ['5m']),
    misfireThreshold: duration("A time later than this has misfired (the job's misfire policy applies).", [
      '60s',
    ]),
    metricsPort: {
      type: 'integer',
      minimum: 0,
      maximum: 65535,
      doc: 'Serve Prometheus metrics at /metrics and /healthz on this port (0: any free port).',
    },
    metricsHost: text('Address the metrics server binds. Default 127.0.0.1.'),
    priorityBoost: {
      type: 'integer',
      minimum: 0,
      doc: 'Niceness the agent takes above its jobs (root only); 0 disables.',
    },
    containerRuntime: text(
      'The container runtime and its fixed arguments (e.g. "podman --runtime runc"), or "none". Default: podman or docker, found on PATH.',
    ),
    outputBudgetMiB: {
      type: 'integer',
      minimum: 1,
      doc: 'Run output kept in etcd by the whole cluster, in MiB (oldest evicted first; each node keeps to its share). Default 256.',
    },
    clockSkew: text(
      "A node whose clock is off from the cluster's by more than this claims nothing (e.g. 1s). Default 1s.",
    ),
    overloadLag: duration(
      'The node is overloaded while its event loop runs this late (worst delay in a second). Default 500ms.',
      ['500ms'],
    ),
    overloadLate: duration(
      'The node is overloaded while its launches start this late (90th percentile over a second). Default 1s.',
      ['1s'],
    ),
    overloadAlertAfter: duration(
      'Overloaded this long raises a node-overloaded alert (resolved when the overload ends). Default 10s.',
      ['10s'],
    ),
    trustedKeys: stringList(
      'Run only job specs signed by one of these keys: public key files (`peppercorn keys generate` writes FILE.pub) or their one-line base64 text. Absent: unsigned specs run.',
      ['/etc/peppercorn/ops.key.pub'],
    ),
    allowUsers: stringList(
      "Node policy: the users jobs may run as (a job without user: runs as the agent's user). Once any policy field is set, root runs only if listed here.",
      ['backup', 'www-data'],
    ),
    denyUsers: stringList('Node policy: users jobs may never run as.', ['postgres']),
    allowCommands: stringList(
      "Node policy: shell-glob patterns a job's whole command must match; * stops at shell control characters (; & | $ ( ) < > ` \\ newline), ** matches anything.",
      ['/usr/local/bin/backup *'],
    ),
  },
};

export interface ConfigFile {
  etcd?: string | string[];
  prefix?: string;
  user?: string;
  password?: string;
  passwordFile?: string;
  cacert?: string;
  cert?: string;
  key?: string;
  nodeId?: string;
  labels?: Record<string, string>;
  capacity?: number;
  dataDir?: string;
  leaseTtl?: number;
  keepRuns?: number;
  historyWindow?: string;
  misfireThreshold?: string;
  metricsPort?: number;
  metricsHost?: string;
  priorityBoost?: number;
  containerRuntime?: string;
  outputBudgetMiB?: number;
  clockSkew?: string;
  overloadLag?: string;
  overloadLate?: string;
  overloadAlertAfter?: string;
  trustedKeys?: string[];
  allowUsers?: string[];
  denyUsers?: string[];
  allowCommands?: string[];
}

export class ConfigError extends Error {
  constructor(
    readonly path: string,
    readonly problems: ShapeError[],
  ) {
    super(
      `config file ${path} refused (nothing was used from it):\n` +
        problems.map((p) => `  ${p.field}: ${p.message}`).join('\n'),
    );
  }
}

/** Validates parsed YAML against CONFIG_SHAPE; pure, for tests and --check-config. */
export function validateConfig(
  value: unknown,
): { ok: true; config: ConfigFile } | { ok: false; problems: ShapeError[] } {
  if (value === null || value === undefined) return { ok: true, config: {} };
  const problems = checkShape(CONFIG_SHAPE, value);
  return problems.length ? { ok: false, problems } : { ok: true, config: value as ConfigFile };
}

/**
 * Reads and validates a config file. A file holding a password must not be readable by
 * group or others: a secret in a world-readable file is as good as published.
 */
export function readConfigFile(path: string): ConfigFile {
  let body: string;
  try {
    body = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(path, [{ field: '(file)', message: `cannot read: ${(err as Error).message}` }]);
  }
  const doc = parseDocument(body, { uniqueKeys: true });
  if (doc.errors.length)
    throw new ConfigError(path, [
      { field: '(yaml)', message: doc.errors[0].message.split('\n')[0].replace(/:$/, '') },
    ]);
  const result = validateConfig(doc.toJS());
  if (!result.ok) throw new ConfigError(path, result.problems);
  if (result.config.password !== undefined) checkPrivate(path, 'password');
  return result.config;
}

/** Refuses a secret-holding file that group or others can read, saying the chmod to run. */
export function checkPrivate(path: string, what: string): void {
  const mode = statSync(path).mode & 0o777;
  if (mode & 0o077)
    throw new ConfigError(path, [
      {
        field: what,
        message: `the file holds a secret and is readable by ${mode & 0o007 ? 'others' : 'its group'} (mode ${mode.toString(8).padStart(4, '0')}); run: chmod 600 ${path}`,
      },
    ]);
}
