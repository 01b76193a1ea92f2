// The cluster's alerting config, one etcd value (`alerting`), applied from YAML with
// `peppercorn alerts config apply FILE`: the channels alerts go to, the rules every job
// gets unless it has its own, the cluster rules (node down, no leader) and delivery retries.
// Also the life of an alert record (newAlert, resolveAlert), shared by the agents that
// raise and resolve alerts and by the CLI that resolves one by hand.
//
//   channels:
//     ops:  { type: webhook, url: https://hooks.example.com/x, format: slack }
//     page: { type: command, command: /usr/local/bin/page-oncall }
//     mail: { type: smtp, host: smtp.example.com, port: 587, from: cron@example.com,
//             to: [ops@example.com], user: cron, passwordEnv: SMTP_PASSWORD }
//     (the login only over TLS: STARTTLS must succeed, or secure: true; insecure: true allows it in clear)
//   defaults: { on: [failure, timeout, lost], consecutiveFailures: 3 }
//   cluster:  { nodeDown: 30s, noLeader: 30s, channels: [ops] }
//   delivery: { attempts: 10, backoff: 5s, timeout: 10s }
import { parseDocument } from 'yaml';
import { parseDuration } from './job/duration';
import { isMap } from './job/shape';
import { isChannelName, validateAlertRules, type JobAlerts } from './job/alert-rules';
import type { FieldError } from './job/spec';
import { checkFormat, type AlertRecord } from './records';
import { keys } from './keys';

export type Channel =
  | {
      type: 'webhook';
      url: string;
      format: 'json' | 'slack';
      headers?: Record<string, string>;
      /** Header name → an environment variable of the agents holding its value (a token kept out of etcd). */
      headersEnv?: Record<string, string>;
    }
  | { type: 'command'; command: string }
  | {
      type: 'smtp';
      host: string;
      port: number;
      /** TLS from the first byte (port 465); otherwise STARTTLS when the server offers it (required to log in). */
      secure: boolean;
      from: string;
      to: string[];
      user?: string;
      /** The password is read from this environment variable of the leader, never stored in etcd. */
      passwordEnv?: string;
      /** A CA certificate file (PEM) on the agents, for a server whose certificate is not public. */
      caFile?: string;
      /** Allow AUTH without TLS (a server that offers no STARTTLS). Off: the password never goes in clear. */
      insecure?: boolean;
    };

export interface AlertingConfig {
  channels: Record<string, Channel>;
  defaults?: JobAlerts;
  cluster: {
    /** Alert when a node has been gone this long without leaving (graceful shutdown does not alert). */
    nodeDown?: string;
    /** Alert (once a leader exists again) when the cluster had no leader for at least this long. */
    noLeader?: string;
    channels?: string[];
  };
  delivery: { attempts: number; backoff: string; timeout: string };
}

export const DEFAULT_DELIVERY = { attempts: 10, backoff: '5s', timeout: '10s' };
export const EMPTY_CONFIG: AlertingConfig = {
  channels: {},
  cluster: { nodeDown: '30s', noLeader: '30s' },
  delivery: DEFAULT_DELIVERY,
};

export type ConfigResult = { ok: true; config: AlertingConfig } | { ok: false; errors: FieldError[] };

const TOP = ['channels', 'defaults', 'cluster', 'delivery'];
const EMAIL_RE = /^[^\s@<>]+@[^\s@<>]+$/;
const ENV_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

function durationField(v: unknown, field: string, fail: (f: string, m: string) => void): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string') {
    fail(field, 'must be a duration such as 30s or 5m');
    return undefined;
  }
  try {
    parseDuration(v);
    return v;
  } catch (err) {
    fail(field, (err as Error).message);
    return undefined;
  }
}

function checkKeys(
  v: Record<string, unknown>,
  field: string,
  known: string[],
  fail: (f: string, m: string) => void,
) {
  for (const k of Object.keys(v))
    if (!known.includes(k)) fail(`${field}.${k}`, `unknown field; use ${known.join(', ')}`);
}

function validateChannel(
  v: unknown,
  field: string,
  fail: (f: string, m: string) => void,
): Channel | undefined {
  if (!isMap(v)) {
    fail(field, 'use a map with type: webhook, command or smtp');
    return undefined;
  }
  const str = (k: string) =>
    typeof v[k] === 'string' && (v[k] as string).trim() ? (v[k] as string) : undefined;
  switch (v.type) {
    case 'webhook': {
      checkKeys(v, field, ['type', 'url', 'format', 'headers', 'headersEnv'], fail);
      const url = str('url');
      let ok = false;
      try {
        ok = !!url && ['http:', 'https:'].includes(new URL(url).protocol);
      } catch {
        ok = false;
      }
      if (!ok) fail(`${field}.url`, 'must be an http:// or https:// URL');
      const format = v.format ?? 'json';
      if (format !== 'json' && format !== 'slack') fail(`${field}.format`, 'use json or slack');
      const headers = v.headers;
      if (
        headers !== undefined &&
        (!isMap(headers) || !Object.values(headers).every((h) => typeof h === 'string'))
      )
        fail(`${field}.headers`, 'use a map of header name to text');
      const headersEnv = v.headersEnv;
      if (
        headersEnv !== undefined &&
        (!isMap(headersEnv) ||
          !Object.values(headersEnv).every((h) => typeof h === 'string' && ENV_RE.test(h)))
      )
        fail(
          `${field}.headersEnv`,
          'use a map of header name to an environment variable of the agents, e.g. { Authorization: HOOK_TOKEN }',
        );
      return ok && (format === 'json' || format === 'slack')
        ? {
            type: 'webhook',
            url: url!,
            format,
            ...(headers ? { headers: headers as Record<string, string> } : {}),
            ...(headersEnv ? { headersEnv: headersEnv as Record<string, string> } : {}),
          }
        : undefined;
    }
    case 'command': {
      checkKeys(v, field, ['type', 'command'], fail);
      const command = str('command');
      if (!command) fail(`${field}.command`, 'the shell command to run; it gets the alert as JSON on stdin');
      return command ? { type: 'command', command } : undefined;
    }
    case 'smtp': {
      checkKeys(
        v,
        field,
        [
          'type',
          'host',
          'port',
          'secure',
          'insecure',
          'from',
          'to',
          'user',
          'passwordEnv',
          'password',
          'caFile',
        ],
        fail,
      );
      const host = str('host');
      if (!host) fail(`${field}.host`, 'the SMTP server name');
      const secure = v.secure ?? false;
      if (typeof secure !== 'boolean')
        fail(`${field}.secure`, 'true (TLS from the start, port 465) or false');
      const port = v.port ?? (secure === true ? 465 : 25);
      if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535)
        fail(`${field}.port`, 'a port number');
      const from = str('from');
      if (!from || !EMAIL_RE.test(from)) fail(`${field}.from`, 'the sender address, e.g. cron@example.com');
      const to = typeof v.to === 'string' ? [v.to] : v.to;
      if (!Array.isArray(to) || !to.length || !to.every((a) => typeof a === 'string' && EMAIL_RE.test(a)))
        fail(`${field}.to`, 'a list of recipient addresses');
      if (v.password !== undefined)
        fail(
          `${field}.password`,
          'passwords are not stored in etcd; use passwordEnv: NAME and set NAME for the agents',
        );
      const passwordEnv = v.passwordEnv;
      if (passwordEnv !== undefined && (typeof passwordEnv !== 'string' || !ENV_RE.test(passwordEnv)))
        fail(`${field}.passwordEnv`, 'an environment variable name');
      const caFile = v.caFile;
      if (caFile !== undefined && (typeof caFile !== 'string' || !caFile.startsWith('/')))
        fail(`${field}.caFile`, 'an absolute path to a PEM file on the agents');
      const user = v.user;
      if (user !== undefined && typeof user !== 'string') fail(`${field}.user`, 'must be text');
      const insecure = v.insecure ?? false;
      if (typeof insecure !== 'boolean')
        fail(
          `${field}.insecure`,
          'true allows the login without TLS (a server without STARTTLS); false by default',
        );
      if (!host || !from || !Array.isArray(to)) return undefined;
      return {
        type: 'smtp',
        host,
        port: port as number,
        secure: secure === true,
        from,
        to: to as string[],
        ...(typeof user === 'string' ? { user } : {}),
        ...(typeof passwordEnv === 'string' ? { passwordEnv } : {}),
        ...(typeof caFile === 'string' ? { caFile } : {}),
        ...(insecure === true ? { insecure: true } : {}),
      };
    }
    default:
      fail(`${field}.type`, `${JSON.stringify(v.type)}: use webhook, command or smtp`);
      return undefined;
  }
}

/** Validates a config value (from YAML or from etcd); every problem is reported with its field. */
export function validateAlerting(input: unknown): ConfigResult {
  const errors: FieldError[] = [];
  const fail = (field: string, message: string) => errors.push({ field, message });
  if (!isMap(input))
    return {
      ok: false,
      errors: [{ field: '(top)', message: 'expected a map with channels, defaults, cluster, delivery' }],
    };
  checkKeys(input, '(top)', TOP, (f, m) => fail(f.replace('(top).', ''), m));
  const channels: Record<string, Channel> = {};
  if (input.channels !== undefined) {
    if (!isMap(input.channels)) fail('channels', 'use a map of channel name to channel');
    else
      for (const [name, v] of Object.entries(input.channels)) {
        if (!isChannelName(name))
          fail(`channels.${name}`, 'a name of lower-case letters, digits, ".", "_" or "-"');
        const ch = validateChannel(v, `channels.${name}`, fail);
        if (ch) channels[name] = ch;
      }
  }
  const defaults = validateAlertRules(input.defaults, 'defaults', fail);
  const cluster: AlertingConfig['cluster'] = { ...EMPTY_CONFIG.cluster };
  if (input.cluster !== undefined) {
    if (!isMap(input.cluster)) fail('cluster', 'use a map such as { nodeDown: 30s, noLeader: 30s }');
    else {
      checkKeys(input.cluster, 'cluster', ['nodeDown', 'noLeader', 'channels'], fail);
      for (const k of ['nodeDown', 'noLeader'] as const) {
        const v = input.cluster[k];
        if (v === 'off' || v === false) delete cluster[k];
        else if (v !== undefined) cluster[k] = durationField(v, `cluster.${k}`, fail);
      }
      const ch = input.cluster.channels;
      if (ch !== undefined) {
        if (!Array.isArray(ch) || !ch.every(isChannelName))
          fail('cluster.channels', 'use a list of channel names');
        else cluster.channels = ch;
      }
    }
  }
  const delivery = { ...DEFAULT_DELIVERY };
  if (input.delivery !== undefined) {
    if (!isMap(input.delivery))
      fail('delivery', 'use a map such as { attempts: 10, backoff: 5s, timeout: 10s }');
    else {
      const d = input.delivery;
      checkKeys(d, 'delivery', ['attempts', 'backoff', 'timeout'], fail);
      if (d.attempts !== undefined) {
        if (
          typeof d.attempts !== 'number' ||
          !Number.isInteger(d.attempts) ||
          d.attempts < 1 ||
          d.attempts > 100
        )
          fail('delivery.attempts', 'a whole number from 1 to 100');
        else delivery.attempts = d.attempts;
      }
      delivery.backoff = durationField(d.backoff, 'delivery.backoff', fail) ?? delivery.backoff;
      delivery.timeout = durationField(d.timeout, 'delivery.timeout', fail) ?? delivery.timeout;
    }
  }
  // Names used by rules must exist: a typo would otherwise silence alerts.
  const known = new Set(Object.keys(channels));
  const used: [string, string[] | undefined][] = [
    ['defaults.channels', defaults ? defaults.channels : undefined],
    ['cluster.channels', cluster.channels],
  ];
  for (const [field, list] of used)
    for (const name of list ?? [])
      if (!known.has(name))
        fail(field, `no channel named ${JSON.stringify(name)}; channels: ${[...known].join(', ') || 'none'}`);
  if (errors.length) return { ok: false, errors };
  return {
    ok: true,
    config: { channels, ...(defaults !== undefined ? { defaults } : {}), cluster, delivery },
  };
}

/** A stored value (from etcd), checked like an applied one; `problem` is one line for a corrupt-value message. */
export function decodeAlerting(
  value: Uint8Array | string,
): { ok: true; config: AlertingConfig } | { ok: false; problem: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof value === 'string' ? value : new TextDecoder().decode(value));
  } catch {
    return { ok: false, problem: 'not JSON' };
  }
  if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
    try {
      checkFormat(keys.alerting, parsed as Record<string, unknown>);
    } catch (err) {
      return { ok: false, problem: (err as Error).message };
    }
  }
  const res = validateAlerting(parsed);
  return res.ok ? res : { ok: false, problem: res.errors.map((e) => `${e.field}: ${e.message}`).join('; ') };
}

/** Parses the YAML an operator writes; errors name the line or the field. */
export function parseAlertingYaml(text: string): ConfigResult {
  const doc = parseDocument(text);
  if (doc.errors.length)
    return { ok: false, errors: [{ field: '(yaml)', message: doc.errors[0].message.split('\n')[0] }] };
  return validateAlerting(doc.toJS() ?? {});
}

/** The channels an alert goes to: the rule's list, or every configured channel. */
export function channelsFor(config: AlertingConfig, names: string[] | undefined): string[] {
  return names ?? Object.keys(config.channels).sort();
}

/** A new open alert going to `channels`, every delivery pending. */
export function newAlert(
  fields: Pick<AlertRecord, 'id' | 'rule' | 'summary'> & Partial<Pick<AlertRecord, 'job' | 'node' | 'run'>>,
  channels: string[],
  notifyResolved: boolean,
  now: number,
): AlertRecord {
  const deliveries: AlertRecord['deliveries'] = {};
  for (const channel of channels)
    deliveries[`open:${channel}`] = { channel, event: 'open', state: 'pending', attempts: 0 };
  return { ...fields, openedAt: now, state: 'open', channels, notifyResolved, deliveries };
}

/** Marks an alert resolved and queues the resolution notices (when its rules ask for them). */
export function resolveAlert(alert: AlertRecord, why: string, now: number): AlertRecord {
  const out: AlertRecord = {
    ...alert,
    state: 'resolved',
    resolvedAt: now,
    resolution: why,
    deliveries: { ...alert.deliveries },
  };
  if (alert.notifyResolved)
    for (const channel of alert.channels)
      out.deliveries[`resolved:${channel}`] = { channel, event: 'resolved', state: 'pending', attempts: 0 };
  return out;
}
