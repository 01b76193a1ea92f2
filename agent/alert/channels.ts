// Sending one notification through one channel. Each call either resolves (the
// receiver took it: HTTP 2xx, exit status 0, SMTP 250 after the message) or throws a
// readable reason. The idempotency key (`<alert id>:<event>`) goes with every
// notification, so a receiver can drop the repeat a leader failover may cause.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import type { Channel } from '../core/alerting';
import type { AlertRecord } from '../core/records';
import { sendMail } from './smtp';
import { runEnvironment } from '../runner/environment';
import { agentIdentity } from '../runner/users';
import { redactKnown, rememberSecret } from '../core/redact';

export interface Notice {
  idempotencyKey: string;
  event: 'open' | 'resolved';
  alert: AlertRecord;
  /** The cluster's etcd prefix, so one receiver can serve several clusters. */
  cluster: string;
}

export function noticeOf(alert: AlertRecord, event: 'open' | 'resolved', cluster: string): Notice {
  return { idempotencyKey: `${alert.id}:${event}`, event, alert, cluster };
}

/** One line for chat and mail subjects. */
export function headline(n: Notice): string {
  const a = n.alert;
  return n.event === 'resolved'
    ? `RESOLVED ${a.rule}: ${a.summary}${a.resolution ? ` (${a.resolution})` : ''}`
    : `ALERT ${a.rule}: ${a.summary}`;
}

/** The alert as receivers see it: without the delivery bookkeeping. */
function publicAlert(a: AlertRecord): Omit<AlertRecord, 'deliveries'> {
  const out: Partial<AlertRecord> = { ...a };
  delete out.deliveries;
  return out as Omit<AlertRecord, 'deliveries'>;
}

/** The JSON body of a webhook: the notice without the delivery bookkeeping. */
export function webhookBody(n: Notice, format: 'json' | 'slack'): string {
  if (format === 'slack') return JSON.stringify({ text: `[peppercorn ${n.cluster}] ${headline(n)}` });
  const alert = publicAlert(n.alert);
  return JSON.stringify({ idempotencyKey: n.idempotencyKey, event: n.event, cluster: n.cluster, alert });
}

/**
 * Sends one notice. Secrets (an SMTP password, webhook headers from `headersEnv`) are read from
 * `secretEnv`: the agents' own environment when the leader sends. Every error is redacted of the
 * channel's secrets and of the others this process holds before anyone stores or shows it.
 */
export async function send(
  channel: Channel,
  n: Notice,
  timeoutMs: number,
  secretEnv: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const secrets: (string | undefined)[] = [];
  try {
    await sendWith(channel, n, timeoutMs, secretEnv, secrets);
  } catch (err) {
    throw new Error(redactKnown((err as Error).message, secrets));
  }
}

/** The value of an environment variable a channel names, remembered as a secret; throws when unset. */
function secretFrom(
  env: NodeJS.ProcessEnv,
  name: string,
  what: string,
  secrets: (string | undefined)[],
): string {
  const v = env[name];
  if (v === undefined) throw new Error(`environment variable ${name} (${what}) is not set for this agent`);
  rememberSecret(v);
  secrets.push(v);
  return v;
}

/**
 * Secrets a webhook URL can carry: its credentials, and token-like parts of its path and query
 * (a Slack URL's token is its last path segment). Short parts are words that would blank messages.
 */
function urlSecrets(u: URL): string[] {
  const parts = [...u.pathname.split('/'), ...u.searchParams.values()].map((p) => safeDecode(p));
  return [u.username, safeDecode(u.password), ...parts.filter((p) => p.length >= 12)].filter(Boolean);
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

async function sendWith(
  channel: Channel,
  n: Notice,
  timeoutMs: number,
  env: NodeJS.ProcessEnv,
  secrets: (string | undefined)[],
): Promise<void> {
  switch (channel.type) {
    case 'webhook': {
      const headers: Record<string, string> = { ...(channel.headers ?? {}) };
      secrets.push(...Object.values(headers));
      for (const [name, variable] of Object.entries(channel.headersEnv ?? {}))
        headers[name] = secretFrom(env, variable, `the ${name} header of the webhook`, secrets);
      secrets.push(...urlSecrets(new URL(channel.url)));
      return postWebhook(channel.url, webhookBody(n, channel.format), n.idempotencyKey, headers, timeoutMs);
    }
    case 'command':
      return runCommand(channel.command, n, timeoutMs);
    case 'smtp': {
      const password = channel.passwordEnv
        ? secretFrom(env, channel.passwordEnv, 'the SMTP password', secrets)
        : undefined;
      if (channel.user !== undefined)
        secrets.push(Buffer.from(`\0${channel.user}\0${password ?? ''}`).toString('base64'));
      let ca: string | undefined;
      if (channel.caFile) {
        try {
          ca = await readFile(channel.caFile, 'utf8');
        } catch (err) {
          throw new Error(`cannot read the SMTP CA file ${channel.caFile}: ${(err as Error).message}`);
        }
      }
      const alert = publicAlert(n.alert);
      return sendMail(
        { ...channel, password, ca },
        {
          subject: `[peppercorn] ${headline(n)}`,
          body: `${headline(n)}\n\n${JSON.stringify({ event: n.event, cluster: n.cluster, alert }, null, 2)}\n`,
          messageId: n.idempotencyKey,
        },
        timeoutMs,
      );
    }
  }
}

function postWebhook(
  url: string,
  body: string,
  key: string,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(
      u,
      {
        method: 'POST',
        headers: {
          ...headers,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'idempotency-key': key,
          'user-agent': 'peppercorn-alerts',
        },
        timeout: timeoutMs,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text.length < 300 ? (text += d) : undefined));
        res.on('end', () => {
          const code = res.statusCode ?? 0;
          if (code >= 200 && code < 300) resolve();
          else
            reject(
              new Error(`${u.host} answered HTTP ${code}${text ? `: ${text.trim().slice(0, 200)}` : ''}`),
            );
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${u.host} did not answer within ${timeoutMs} ms`)));
    // The origin only: the path of a webhook URL is often its secret.
    req.on('error', (err) => reject(new Error(`POST ${u.origin}: ${err.message}`)));
    req.end(body);
  });
}

function runCommand(command: string, n: Notice, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', command], {
      detached: true, // its own process group, so a timeout kills what it started too
      stdio: ['pipe', 'ignore', 'pipe'],
      // Built like a run's: the agent's secrets stay with the agent (see runner/environment.ts).
      env: runEnvironment(process.env, agentIdentity(), {
        PEPPERCORN_ALERT_ID: n.alert.id,
        PEPPERCORN_ALERT_EVENT: n.event,
        PEPPERCORN_ALERT_RULE: n.alert.rule,
        PEPPERCORN_ALERT_JOB: n.alert.job ?? '',
        PEPPERCORN_ALERT_NODE: n.alert.node ?? '',
        PEPPERCORN_ALERT_SUMMARY: n.alert.summary,
        PEPPERCORN_ALERT_KEY: n.idempotencyKey,
      }),
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr.length < 500 ? (stderr += d.toString()) : undefined));
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
      reject(new Error(`alert command did not finish within ${timeoutMs} ms; killed`));
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`alert command could not start: ${err.message}`));
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else
        reject(
          new Error(
            `alert command exited with ${code ?? signal}${stderr.trim() ? `: ${stderr.trim().split('\n').pop()!.slice(0, 200)}` : ''}`,
          ),
        );
    });
    child.stdin.on('error', () => undefined); // a command that ignores stdin
    child.stdin.end(
      // One line: easy for `read` or `jq` in a shell script.
      JSON.stringify({
        idempotencyKey: n.idempotencyKey,
        event: n.event,
        cluster: n.cluster,
        alert: publicAlert(n.alert),
      }) + '\n',
    );
  });
}
