// An agent's Prometheus endpoint: GET /metrics (text format 0.0.4) and GET /healthz
// (200 {"status":"ok","version":…} while this node's lease is live, 503 otherwise). Counts come
// from the scheduler's 'launched' and 'outcome' events and, at scrape time, from its stats;
// gauges are read at scrape time from the agent's parts; per-job timestamps from the leader
// (job-times.ts). prom-client's default collectors add the process and Node runtime
// (nodejs_eventloop_lag_*: a busy event loop is what makes launches late).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EventEmitter } from 'node:events';
import { decodeOr, type AlertRecord, type Delivery, type DepRecord, type RunRecord } from '../core/records';
import type { JobSpec } from '../core/job/spec';
import type { PrefixMirror } from '../core/mirror';
import { keys } from '../core/keys';
import * as promClient from 'prom-client';
import { jobTimes } from './job-times';
import { VERSION } from '../version';
import { Registry, CONTENT_TYPE } from './registry';

/**
 * What the metrics read from an agent. `Agent` satisfies it: agent.ts passes itself to
 * startMetrics, which the compiler checks (importing Agent here would be an import cycle).
 */
export interface MetricsAgent {
  membership: Pick<EventEmitter, 'on' | 'off'> & {
    readonly id: string;
    isLive(): boolean;
    /** How long until etcd may expire the lease, from the last acknowledged keepalive. */
    ttlLeftMs?(): number;
  };
  leader: { readonly isLeader: boolean; alertSender: Pick<EventEmitter, 'on' | 'off'> };
  scheduler: Pick<EventEmitter, 'on' | 'off'> & {
    readonly stats: {
      readonly claims: number;
      readonly launches: number;
      readonly skippedRanges: number;
      readonly claimConflicts: number;
      readonly etcdErrors: number;
    };
    runningCount(): number;
    ownedJobs(): string[];
    readonly writes: { unwritableFor(now?: number): number; readonly current?: { reason: string } };
    readonly outputBudget: { droppedBytes: number; evictedBuckets: number };
  };
  /** Event-loop lag and late launches (node/overload.ts). */
  overload?: { readonly overloaded: boolean; readonly last: { lagMs: number; lateMs: number } };
  /** The jobs and their completions (the leader exports per-job timestamps from them). */
  views?: { jobs: Pick<PrefixMirror, 'entries'>; completions: Pick<PrefixMirror, 'entries'> };
}

/** /healthz turns unhealthy once etcd has refused this node's writes this long. */
export const UNWRITABLE_UNHEALTHY_MS = 5000;

export interface MetricsOptions {
  port: number;
  host: string;
  log: (msg: string) => void;
  /** Series cap per metric (default 10,000). */
  maxSeries?: number;
}

export interface MetricsServer {
  /** The port actually listened on (the free one chosen when asked for 0). */
  port: number;
  close(): Promise<void>;
}

export const LAUNCH_DELAY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
export const ALERT_DELAY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
export const RUN_DURATION_BUCKETS = [0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 1800, 3600, 7200, 21600, 86400];

/** Builds the agent's metrics and subscribes them to its events; `detach` unsubscribes. */
export function agentMetrics(
  agent: MetricsAgent,
  opts: { maxSeries?: number } = {},
): { registry: Registry; detach(): void; beforeScrape(now: number): void } {
  const r = new Registry({ maxSeries: opts.maxSeries });
  const { scheduler, membership, leader } = agent;
  const p = 'peppercorn_';

  r.gauge({
    name: `${p}node_info`,
    help: 'This agent: its node id, version and Node runtime.',
    labelNames: ['node', 'version', 'runtime'],
  }).set(1, { node: membership.id, version: VERSION, runtime: process.version });
  const jobGauge = (what: string, help: string) =>
    r.gauge({ name: `${p}job_${what}_timestamp_seconds`, help, labelNames: ['job'] });
  const lastSuccess = jobGauge(
    'last_success',
    'When a run of the job last succeeded (served by the leader).',
  );
  const lastFailure = jobGauge(
    'last_failure',
    'When a run of the job last failed, timed out or was lost (leader).',
  );
  const nextScheduled = jobGauge(
    'next_scheduled',
    'The next time the schedule launches the job (leader; none if paused).',
  );
  /** Per-job timestamps, recomputed at each scrape while this node leads (else none). */
  const beforeScrape = (now: number) => {
    for (const g of [lastSuccess, lastFailure, nextScheduled]) g.reset();
    if (!leader.isLeader || !agent.views) return;
    const specs: JobSpec[] = [];
    for (const e of agent.views.jobs.entries.values()) {
      const spec = decodeOr<JobSpec>('job', e.key, e.value, () => undefined);
      if (spec) specs.push(spec);
    }
    const completions = new Map<string, DepRecord>();
    for (const e of agent.views.completions.entries.values()) {
      const rec = decodeOr<DepRecord>('dep', e.key, e.value, () => undefined);
      if (rec) completions.set(keys.completionJob(e.key), rec);
    }
    for (const t of jobTimes(specs, completions, now)) {
      if (t.lastSuccess !== undefined) lastSuccess.set(t.lastSuccess / 1000, { job: t.job });
      if (t.lastFailure !== undefined) lastFailure.set(t.lastFailure / 1000, { job: t.job });
      if (t.next !== undefined) nextScheduled.set(t.next / 1000, { job: t.job });
    }
  };
  const launches = r.counter({
    name: `${p}launches_total`,
    help: 'Runs released (started) by this node.',
    labelNames: ['job'],
  });
  const outcomes = r.counter({
    name: `${p}outcomes_total`,
    help: 'Final run records written by this node, by status.',
    labelNames: ['job', 'status'],
  });
  const launchDelay = r.histogram({
    name: `${p}launch_delay_seconds`,
    help: 'Time from a run’s scheduled time to its release.',
    buckets: LAUNCH_DELAY_BUCKETS,
  });
  const runDuration = r.histogram({
    name: `${p}run_duration_seconds`,
    help: 'Run duration, from start to end, of runs this node recorded.',
    labelNames: ['job'],
    buckets: RUN_DURATION_BUCKETS,
  });
  const skippedTimes = r.counter({
    name: `${p}skipped_times_total`,
    help: 'Scheduled times recorded as skipped (not launched), from skipped outcome records.',
    labelNames: ['job'],
  });
  const stat = (name: string, help: string, key: keyof MetricsAgent['scheduler']['stats']) =>
    r.counter({ name: `${p}${name}`, help, collect: () => scheduler.stats[key] });
  stat('claims_total', 'Runs claimed in etcd by this node.', 'claims');
  stat('claim_conflicts_total', 'Claims lost to a concurrent change (retried).', 'claimConflicts');
  stat('skipped_ranges_total', 'Skipped-time records written by this node.', 'skippedRanges');
  stat('etcd_errors_total', 'etcd calls of the scheduler that failed.', 'etcdErrors');
  r.gauge({
    name: `${p}runs_in_flight`,
    help: 'Runs of this node not yet finished.',
    collect: () => scheduler.runningCount(),
  });
  r.gauge({
    name: `${p}jobs_owned`,
    help: 'Jobs assigned to this node.',
    collect: () => scheduler.ownedJobs().length,
  });
  r.gauge({
    name: `${p}leader`,
    help: '1 while this node is the cluster leader.',
    collect: () => (leader.isLeader ? 1 : 0),
  });
  r.gauge({
    name: `${p}lease_live`,
    help: '1 while etcd certainly holds this node’s lease.',
    collect: () => (membership.isLive() ? 1 : 0),
  });
  r.gauge({
    name: `${p}etcd_writable`,
    help: '0 while etcd refuses this node’s writes (full, unreachable): nothing can be claimed or recorded.',
    collect: () => (scheduler.writes.current ? 0 : 1),
  });
  r.gauge({
    name: `${p}etcd_unwritable_seconds`,
    help: 'How long etcd has been refusing this node’s writes (0 while it takes them).',
    collect: () => scheduler.writes.unwritableFor() / 1000,
  });
  r.gauge({
    name: `${p}output_budget_dropped_bytes`,
    help: 'Run output not shipped into etcd because the cluster output budget was reached (kept in the node’s files).',
    collect: () => scheduler.outputBudget.droppedBytes,
  });
  const ttlLeft = membership.ttlLeftMs?.bind(membership);
  if (ttlLeft)
    r.gauge({
      name: `${p}lease_ttl_left_seconds`,
      help: 'Time until etcd may expire this node’s lease, from the last keepalive it acknowledged (kept by its own thread).',
      collect: () => ttlLeft() / 1000,
    });
  const overload = agent.overload;
  if (overload) {
    r.gauge({
      name: `${p}event_loop_lag_seconds`,
      help: 'Worst delay of the agent’s event loop over the last second: a busy loop makes launches late.',
      collect: () => overload.last.lagMs / 1000,
    });
    r.gauge({
      name: `${p}launch_lateness_seconds`,
      help: 'How late this node’s launches of the last second were against their scheduled times (90th percentile).',
      collect: () => overload.last.lateMs / 1000,
    });
    r.gauge({
      name: `${p}node_overloaded`,
      help: '1 while this node is overloaded (event loop or launches late past the --overload-* thresholds).',
      collect: () => (overload.overloaded ? 1 : 0),
    });
  }
  const leaseEvents = r.counter({
    name: `${p}lease_events_total`,
    help: 'Lease state changes of this node: suspended, resumed, lost.',
    labelNames: ['event'],
  });
  for (const event of ['suspended', 'resumed', 'lost']) leaseEvents.inc({ event }, 0);

  const onLaunched = (run: RunRecord, delayMs: number) => {
    launches.inc({ job: run.job });
    if (Number.isFinite(delayMs)) launchDelay.observe(Math.max(0, delayMs) / 1000);
  };
  const onOutcome = (run: RunRecord) => {
    outcomes.inc({ job: run.job, status: run.status });
    if (run.status === 'skipped') {
      // A skipped record covers `count` times (absent: more than the scheduler counts).
      skippedTimes.inc({ job: run.job }, run.count ?? 1);
    } else if (run.startedAt && run.endedAt && run.endedAt >= run.startedAt) {
      runDuration.observe((run.endedAt - run.startedAt) / 1000, { job: run.job });
    }
  };
  // Times the scheduler recorded as not launched (misfire, overlap), as it records them.
  const onSkipped = (job: string, count: number) => skippedTimes.inc({ job }, count);
  const onLease = (event: string) => () => leaseEvents.inc({ event });
  const alertsSent = r.counter({
    name: `${p}alert_notices_total`,
    help: 'Alert notices this node sent as leader, by channel, event (open, resolved) and result.',
    labelNames: ['channel', 'event', 'result'],
  });
  const alertDelay = r.histogram({
    name: `${p}alert_delivery_seconds`,
    help: 'Time from an alert being raised to its notice being delivered (open notices).',
    buckets: ALERT_DELAY_BUCKETS,
  });
  const onAlert = (result: string) => (alert: AlertRecord, d: Delivery) => {
    alertsSent.inc({ channel: d.channel, event: d.event, result });
    if (result === 'delivered' && d.event === 'open' && d.doneAt)
      alertDelay.observe(Math.max(0, d.doneAt - alert.openedAt) / 1000);
  };
  const alertEvents = { delivered: onAlert('delivered'), failed: onAlert('failed') };
  const lease = {
    suspended: onLease('suspended'),
    resumed: onLease('resumed'),
    lost: onLease('lost'),
  };
  scheduler.on('launched', onLaunched);
  scheduler.on('outcome', onOutcome);
  scheduler.on('skipped', onSkipped);
  for (const [e, fn] of Object.entries(lease)) membership.on(e, fn);
  for (const [e, fn] of Object.entries(alertEvents)) leader.alertSender.on(e, fn);
  return {
    registry: r,
    beforeScrape,
    detach() {
      scheduler.off('launched', onLaunched);
      scheduler.off('outcome', onOutcome);
      scheduler.off('skipped', onSkipped);
      for (const [e, fn] of Object.entries(lease)) membership.off(e, fn);
      for (const [e, fn] of Object.entries(alertEvents)) leader.alertSender.off(e, fn);
    },
  };
}

function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function listenError(err: NodeJS.ErrnoException, host: string, port: number): Error {
  const where = `cannot serve metrics on ${hostPort(host, port)}`;
  switch (err.code) {
    case 'EADDRINUSE':
      return new Error(`${where}: address in use; choose another --metrics-port`);
    case 'EACCES':
      return new Error(
        `${where}: permission denied (ports below 1024 need root); choose another --metrics-port`,
      );
    case 'EADDRNOTAVAIL':
      return new Error(`${where}: no such address on this machine; choose another --metrics-host`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new Error(`${where}: unknown host; choose another --metrics-host`);
    default:
      return new Error(`${where}: ${err.message}`);
  }
}

/**
 * Serves the agent's metrics over HTTP until `close()`. Resolves once listening;
 * rejects with a readable message when it cannot listen (e.g. port in use).
 */
export async function startMetrics(agent: MetricsAgent, opts: MetricsOptions): Promise<MetricsServer> {
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535)
    throw new Error(`cannot serve metrics on port ${opts.port}: --metrics-port must be 0 to 65535`);
  const { registry, detach, beforeScrape } = agentMetrics(agent, { maxSeries: opts.maxSeries });
  // The process and the Node runtime (CPU, memory, GC, event-loop lag, handles), from prom-client.
  const runtime = new promClient.Registry();
  promClient.collectDefaultMetrics({ register: runtime });
  // Gauges named like counters (promtool refuses them); the unsuffixed ones carry the same sums.
  for (const name of [
    'nodejs_active_handles_total',
    'nodejs_active_requests_total',
    'nodejs_active_resources_total',
  ])
    runtime.removeSingleMetric(name);
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    const reply = (status: number, body: string, type = 'text/plain; charset=utf-8', extra = {}) => {
      res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store', ...extra });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (path !== '/metrics' && path !== '/healthz')
      return reply(404, 'not found: try /metrics or /healthz\n');
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return reply(405, 'method not allowed\n', undefined, { Allow: 'GET, HEAD' });
    if (path === '/healthz') {
      const health = (status: string) =>
        JSON.stringify({ status, version: VERSION, node: agent.membership.id }) + '\n';
      if (!agent.membership.isLive()) return reply(503, health('lease not live'), 'application/json');
      const refused = agent.scheduler.writes.unwritableFor();
      if (refused >= UNWRITABLE_UNHEALTHY_MS)
        return reply(
          503,
          health(
            `etcd has refused this node's writes for ${Math.round(refused / 1000)} s: ${agent.scheduler.writes.current?.reason}`,
          ),
          'application/json',
        );
      return reply(200, health('ok'), 'application/json');
    }
    let body: string;
    try {
      beforeScrape(Date.now());
      body = registry.render() + (await runtime.metrics());
    } catch (err) {
      opts.log(`metrics: rendering failed: ${(err as Error).message}`);
      return reply(500, `rendering metrics failed: ${(err as Error).message}\n`);
    }
    reply(200, body, CONTENT_TYPE);
  };
  const server = createServer((req, res) => void handle(req, res));
  // Scrapes are small: a stuck client must not hold a socket for long.
  server.requestTimeout = 10_000;
  server.headersTimeout = 10_000;
  server.keepAliveTimeout = 5_000;

  return new Promise<MetricsServer>((resolve, reject) => {
    const onListenError = (err: NodeJS.ErrnoException) => {
      detach();
      reject(listenError(err, opts.host, opts.port));
    };
    server.once('error', onListenError);
    server.listen(opts.port, opts.host, () => {
      server.off('error', onListenError);
      server.on('error', (err) => opts.log(`metrics server: ${err.message}`));
      const port = (server.address() as AddressInfo).port;
      opts.log(`serving metrics on http://${hostPort(opts.host, port)}/metrics`);
      let closing: Promise<void> | undefined;
      resolve({
        port,
        close() {
          closing ??= new Promise<void>((done) => {
            detach();
            server.close(() => done());
            server.closeAllConnections();
          });
          return closing;
        },
      });
    });
  });
}
