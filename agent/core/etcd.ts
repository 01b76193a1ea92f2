// Connecting to etcd, and the few rules every caller needs:
// - hosts are always passed as an array (a comma string is one bogus host);
// - unary calls are NOT retried by the client: a retried transaction can commit
//   twice or report failure although it committed, so retries are ours to make;
// - every call has a deadline, so a dead etcd turns into an error, not a hang.
import { readFileSync } from 'node:fs';
import { Etcd3, Namespace, IOptions, isRecoverableError, GRPCResourceExhastedError } from 'etcd3';
import { circuitBreaker, ConsecutiveBreaker, handleWhen, noop } from 'cockatiel';
import { normalizePrefix, DEFAULT_PREFIX } from './keys';
import { redactKnown, rememberSecret } from './redact';

export interface ConnectOptions {
  endpoints: string[];
  prefix?: string;
  user?: string;
  password?: string;
  cacert?: string;
  cert?: string;
  key?: string;
  /** Deadline of each unary call. */
  callTimeoutMs?: number;
}

export interface Cluster {
  client: Etcd3;
  /** The client scoped to the cluster prefix: use this for every key in keys.ts. */
  ns: Namespace;
  prefix: string;
  endpoints: string[];
  /** The etcd user we authenticate as (null without auth): named in the audit trail. */
  user: string | null;
  /** What it was made with: the lease keepalive thread opens its own connection from these. */
  options: ConnectOptions;
  close(): void;
}

function hostUnreachable(err: Error): boolean {
  return isRecoverableError(err) && !(err instanceof GRPCResourceExhastedError);
}

export function parseEndpoints(text: string | undefined): string[] {
  return (text ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => (/^[a-z]+:\/\//.test(s) ? s : `http://${s}`));
}

export function connect(opts: ConnectOptions): Cluster {
  if (opts.endpoints.length === 0) {
    throw new Error('no etcd endpoints given; pass --etcd http://127.0.0.1:2379 or set PEPPERCORN_ETCD');
  }
  const callTimeoutMs = opts.callTimeoutMs ?? 5000;
  const options: IOptions = {
    hosts: opts.endpoints,
    dialTimeout: Math.min(callTimeoutMs, 3000),
    // Streams (watch, keepalive) must not carry a deadline; unary calls must.
    defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + callTimeoutMs }),
    faultHandling: {
      global: noop,
      // The default breaker stays open 5 s after 3 failures, which would slow
      // recovery after an etcd restart; a shorter one still spreads load over hosts.
      // Only an unreachable host opens it: etcd3 counts RESOURCE_EXHAUSTED (NOSPACE, a full
      // etcd) as recoverable, and an open breaker would then block our lease keepalives too.
      host: () =>
        circuitBreaker(handleWhen(hostUnreachable), {
          halfOpenAfter: 500,
          breaker: new ConsecutiveBreaker(3),
        }),
    },
  };
  if (opts.user) options.auth = { username: opts.user, password: opts.password ?? '' };
  rememberSecret(opts.password);
  if (opts.cacert || opts.cert || opts.key) {
    options.credentials = {
      // Without a CA file, gRPC checks the server against the system's CAs.
      rootCertificate: (opts.cacert ? readFileSync(opts.cacert) : null) as Buffer,
      privateKey: opts.key ? readFileSync(opts.key) : undefined,
      certChain: opts.cert ? readFileSync(opts.cert) : undefined,
    };
  }
  const client = new Etcd3(options);
  const prefix = normalizePrefix(opts.prefix ?? DEFAULT_PREFIX);
  return {
    client,
    ns: client.namespace(prefix),
    prefix,
    endpoints: opts.endpoints,
    user: opts.user || null,
    options: opts,
    close: () => client.close(),
  };
}

/** One readable line for an etcd failure, naming the endpoints tried. */
export function describeEtcdError(err: unknown, endpoints: string[]): string {
  const msg = redactKnown(err instanceof Error ? err.message : String(err));
  const name = err instanceof Error ? err.constructor.name : '';
  if (
    /Unavailable|ECONNREFUSED|No connection established|deadline|Deadline|BrokenCircuit|failed to connect/i.test(
      msg + name,
    )
  ) {
    return `cannot reach etcd at ${endpoints.join(', ')} (${firstLine(msg)}); check that etcd is running and --etcd / PEPPERCORN_ETCD is right`;
  }
  if (/authenticat|permission denied|invalid auth token/i.test(msg)) {
    return `etcd at ${endpoints.join(', ')} refused the credentials (${firstLine(msg)}); check --user and the password (PEPPERCORN_PASSWORD, --password-file or the config file)`;
  }
  return `etcd error: ${firstLine(msg)}`;
}

/**
 * Whether an error came from etcd or from the client's way to it (gRPC status, etcd's auth and
 * lease errors, a closed client, the circuit breaker), rather than from Peppercorn's own checks.
 * Decided by the error's class, not by words in its message: our own messages mention etcd too.
 */
export function isEtcdError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const name = err.constructor?.name ?? '';
  return /^(GRPC|Etcd)\w*Error$|^Client(Runtime|Closed)Error$|^BrokenCircuitError$/.test(name);
}

/**
 * The one line to show a person for any error: an etcd failure described with the endpoints
 * tried (describeEtcdError), anything else as it is. Without endpoints (not connected to a
 * cluster yet) there is nothing to name, and the error's own message is shown.
 */
export function readableError(err: unknown, endpoints?: string[]): string {
  if (endpoints && isEtcdError(err)) return describeEtcdError(err, endpoints);
  return err instanceof Error ? err.message : String(err);
}

function firstLine(s: string): string {
  return s.split('\n')[0].slice(0, 200);
}

/** Rejects after `ms`: for the few calls the client does not put a deadline on (lease keepalive). */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    }),
  ]);
}
