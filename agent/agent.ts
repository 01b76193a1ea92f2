// One agent = one node: membership, the shared mirrors of etcd state, the
// leader role (active only while elected) and the scheduler. This file only
// wires them together and handles the node's life: join, lease loss, shutdown.
import { hostname, userInfo } from 'node:os';
import type { Cluster } from './core/etcd';
import { keys } from './core/keys';
import { PrefixMirror } from './core/mirror';
import { encode, type NodeRecord } from './core/records';
import { Membership } from './node/membership';
import { Leader } from './leader/leader';
import { Scheduler, DEFAULT_SCHEDULER_OPTIONS, type SchedulerOptions } from './scheduler/scheduler';
import { pruneLogs } from './runner/logfiles';
import { raiseAgentPriority } from './runner/priority';
import { clearStaleStartLines } from './runner/start-line';
import { prepareDataDir } from './node/data-dir';
import { startReaper } from './runner/reaper';
import { startSpawner } from './runner/spawner';
import { cleanupLeftovers, closeIsolation, setupIsolation } from './runner/isolation';
import { OutageAlerts } from './alert/outage';
import { ClockReporter } from './node/clock';
import { ClockJudge, DEFAULT_CLOCK_SKEW_MS } from './leader/clocks';
import { AlertWriter } from './alert/writer';
import { startMetrics, type MetricsServer } from './metrics/agent-metrics';
import { VERSION } from './version';
import { AlertingView } from './alert/config-view';
import { Admission } from './scheduler/admission';
import type { TrustedKey } from './core/signing';
import { hasPolicy, type NodePolicy } from './core/node-policy';
import { LogServer } from './runner/log-server';
import { redactKnown } from './core/redact';
import { createLogger, chooseFormat, type Log } from './logger/logger';
import { logRuns } from './logger/runs';
import { reportNewerFormats } from './alert/format-alert';
import { DEFAULT_OVERLOAD, OverloadMonitor, type OverloadOptions } from './node/overload';
import { OverloadAlerts } from './alert/overload-alert';

export interface AgentOptions {
  nodeId: string;
  labels: Record<string, string>;
  capacity: number;
  dataDir: string;
  leaseTtlSec: number;
  scheduler?: Partial<Omit<SchedulerOptions, 'dataDir'>>;
  /** Serve Prometheus metrics (and /healthz) here; off when absent. */
  metrics?: { port: number; host: string };
  /** Niceness the agent takes above its jobs (needs root); 0 disables. */
  priorityBoost?: number;
  /** etcd history kept before the leader compacts it. */
  historyWindowMs?: number;
  /** A node whose clock is off by more than this from the cluster's claims nothing. */
  clockSkewMs?: number;
  /** How long a shutdown waits for runs in flight before stopping them. */
  drainTimeoutMs?: number;
  /** "auto" (podman, else docker), "none", or a command line such as "podman --runtime runc". */
  containerRuntime?: string;
  /** The agent's log (default: pino on stdout, JSON unless stdout is a terminal). */
  log?: Log;
  /** Run only specs signed by one of these keys (absent: unsigned specs run). */
  trustedKeys?: TrustedKey[];
  /** What this node will run (absent: everything). */
  policy?: NodePolicy;
  /** When this node counts as overloaded, and how long before it says so (node/overload.ts). */
  overload?: Partial<OverloadOptions>;
}

export class Agent {
  readonly membership: Membership;
  readonly leader: Leader;
  readonly scheduler: Scheduler;
  /** Event-loop lag and late launches: whether this node is overloaded (read by the metrics). */
  readonly overload: OverloadMonitor;
  /** Jobs and their completions as this node sees them (read by the metrics). */
  readonly views: { jobs: PrefixMirror; completions: PrefixMirror };
  private mirrors: PrefixMirror[] = [];
  private pruneTimer: NodeJS.Timeout | undefined;
  private metricsServer: MetricsServer | undefined;
  private stopping = false;
  private stopFormatReports: () => void = () => undefined;
  private readonly outageAlerts: OutageAlerts;
  private readonly overloadAlerts: OverloadAlerts;
  private readonly clock: ClockReporter;
  private readonly clockJudge: ClockJudge;
  private readonly log: Log;
  private readonly record: NodeRecord;
  private readonly alerting: AlertingView;

  constructor(
    private readonly cluster: Cluster,
    private readonly opts: AgentOptions,
  ) {
    // Secrets this process holds never reach its log (core/redact.ts).
    const print =
      opts.log ??
      createLogger({ node: opts.nodeId, format: chooseFormat(undefined, process.stdout.isTTY === true) }).log;
    this.log = (msg) => print(redactKnown(msg));
    this.record = {
      id: opts.nodeId,
      hostname: hostname(),
      pid: process.pid,
      labels: opts.labels,
      capacity: opts.capacity,
      startedAt: Date.now(),
      version: VERSION,
      ...(hasPolicy(opts.policy) ? { policy: { ...opts.policy, runsAs: userInfo().username } } : {}),
      ...(opts.trustedKeys ? { trustedKeys: opts.trustedKeys.map((k) => k.id) } : {}),
    };
    this.membership = new Membership(cluster, this.record, opts.leaseTtlSec, opts.dataDir, this.log);
    const onError = (err: Error) => this.log(`watch error (${err.message}); re-listing`);
    const mirror = (prefix: string) => {
      const m = new PrefixMirror(cluster.ns, prefix, { onError });
      this.mirrors.push(m);
      return m;
    };
    const jobs = mirror(keys.jobs);
    const assignments = mirror(keys.assignments);
    const nodes = mirror(keys.nodes);
    const leader = mirror(keys.leader);
    const triggers = mirror(keys.triggers);
    const active = mirror(keys.active);
    const cordons = mirror(keys.cordons);
    const semaphores = mirror(keys.semaphores);
    const completions = mirror(keys.completions);
    this.views = { jobs, completions };
    const alerting = new AlertingView(mirror(keys.alerting), this.log);
    this.alerting = alerting;
    new LogServer(cluster, mirror(keys.logRequests(opts.nodeId)), { ...opts, log: this.log });
    // Leader-only (started when elected): alerts/ and members/ are read by the leader alone.
    const alerts = mirror(keys.alerts);
    const members = mirror(keys.members);
    const clocks = mirror(keys.clocks);
    const skews = mirror(keys.skews);
    this.clock = new ClockReporter(cluster, this.membership, skews, this.log);
    this.leader = new Leader(
      cluster,
      this.membership,
      { jobs, nodes, assignments, leader, active, cordons, skews, completions, alerts, members },
      alerting,
      this.log,
      opts.historyWindowMs,
    );
    this.scheduler = new Scheduler(
      cluster,
      this.membership,
      { jobs, assignments, triggers, semaphores, completions, nodes },
      { ...DEFAULT_SCHEDULER_OPTIONS, ...opts.scheduler, dataDir: opts.dataDir },
      this.log,
      alerting,
      () => this.clock.holdReason(),
      new Admission(
        cluster,
        this.membership,
        { trustedKeys: opts.trustedKeys, policy: this.record.policy },
        alerting,
        this.log,
      ),
    );
    logRuns(this.scheduler, this.log);
    const alertWriter = new AlertWriter(cluster, this.leader, this.log);
    this.outageAlerts = new OutageAlerts(
      this.scheduler.writes,
      alertWriter,
      alerting,
      cluster.prefix,
      this.log,
    );
    const skewMs = opts.clockSkewMs ?? DEFAULT_CLOCK_SKEW_MS;
    this.clockJudge = new ClockJudge(
      cluster,
      clocks,
      skews,
      alertWriter,
      alerting,
      skewMs,
      this.membership.id,
      this.log,
    );
    this.overload = new OverloadMonitor({ ...DEFAULT_OVERLOAD, ...opts.overload });
    this.scheduler.on('launched', (_run: unknown, delayMs: number) => this.overload.launched(delayMs));
    this.overloadAlerts = new OverloadAlerts(cluster, this.membership, this.overload, alerting, this.log);
    this.membership.on('lost', () => void this.rejoin());
    this.membership.on('etcd-error', (err: Error) => this.log(`lease keepalive failed: ${err.message}`));
  }

  async start(): Promise<void> {
    const boost = raiseAgentPriority(this.opts.priorityBoost ?? 10);
    if (boost) this.log(`agent niceness ${boost.from} → ${boost.to}; jobs run at ${boost.from}`);
    const tightened = await prepareDataDir(this.opts.dataDir);
    if (tightened) this.log(tightened);
    clearStaleStartLines(this.opts.dataDir);
    this.stopFormatReports = reportNewerFormats(
      this.cluster,
      this.opts.nodeId,
      () => this.alerting.current,
      this.log,
    );
    startReaper(this.membership.fenceMs);
    startSpawner({ log: this.log });
    // Detected labels (runtime=podman, cgroup=v2) are advertised; labels given by the operator win.
    const found = await setupIsolation({ ...this.opts, log: this.log });
    this.record.labels = { ...found.labels, ...this.opts.labels };
    // Before joining: a port clash must fail before the node registers.
    if (this.opts.metrics)
      this.metricsServer = await startMetrics(this, { ...this.opts.metrics, log: this.log });
    try {
      await this.membership.join();
    } catch (err) {
      await this.metricsServer?.close();
      throw err;
    }
    this.log(
      `joined as ${this.opts.nodeId} (epoch ${this.membership.epoch}, lease TTL ${this.opts.leaseTtlSec}s)`,
    );
    // Our id is ours now (a live duplicate is refused): what an earlier agent under it left goes.
    await cleanupLeftovers(this.log);
    // The leader's own mirrors start when it is elected.
    const leaderOnly: string[] = [keys.active, keys.alerts, keys.members, keys.clocks];
    await Promise.all(this.mirrors.filter((m) => !leaderOnly.includes(m.prefix)).map((m) => m.start()));
    this.leader.start();
    this.scheduler.start();
    this.outageAlerts.start();
    this.overload.start();
    this.clock.start();
    this.clockJudge.start();
    this.pruneTimer = setInterval(() => void this.pruneLogs(), 10 * 60_000);
    this.pruneTimer.unref();
  }

  /** After losing our lease: join again under a new epoch; the leader reassigns. */
  private async rejoin(): Promise<void> {
    for (let attempt = 0; !this.stopping; attempt++) {
      try {
        await this.membership.join();
        this.log(`rejoined (epoch ${this.membership.epoch})`);
        this.leader.start();
        return;
      } catch (err) {
        if (attempt % 10 === 0) this.log(`rejoin failed: ${(err as Error).message}; retrying`);
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  /**
   * Graceful shutdown: hand our jobs back (the leader moves them while we still
   * live, so nothing waits for our lease to expire), let runs in flight finish,
   * then release the lease.
   */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.log('shutting down: handing jobs back');
    const drainMs = this.opts.drainTimeoutMs ?? 30_000;
    this.scheduler.beginShutdown();
    try {
      await this.cluster.ns
        .if(keys.node(this.opts.nodeId), 'Create', '==', this.membership.epoch)
        .then(
          this.cluster.ns
            .put(keys.node(this.opts.nodeId))
            .value(encode({ ...this.record, draining: true }))
            .lease(this.membership.leaseId),
        )
        .commit();
      // If we lead, our own leader moves the jobs before it resigns.
      const soon = Date.now() + 2000;
      while (this.leader.isLeader && this.scheduler.ownedJobs().length && Date.now() < soon)
        await new Promise((r) => setTimeout(r, 50));
      await this.leader.resign();
      const until = Date.now() + Math.min(drainMs, 10_000);
      while (this.scheduler.ownedJobs().length && Date.now() < until)
        await new Promise((r) => setTimeout(r, 100));
    } catch (err) {
      this.log(`could not hand jobs back (${(err as Error).message}); they move when our lease expires`);
    }
    this.scheduler.stop();
    await this.scheduler.drain(drainMs);
    closeIsolation();
    this.overload.stop();
    await this.overloadAlerts.stop();
    await this.membership.leave();
    await this.metricsServer?.close();
    this.leader.stop();
    this.outageAlerts.stop();
    this.clock.stop();
    this.clockJudge.stop();
    clearInterval(this.pruneTimer);
    for (const m of this.mirrors) m.close();
    this.stopFormatReports();
    this.log('stopped');
  }

  private async pruneLogs(): Promise<void> {
    try {
      await pruneLogs(this.opts.dataDir, { maxAgeMs: 7 * 86_400_000, maxTotalBytes: 1 << 30 });
    } catch (err) {
      this.log(`pruning local logs: ${(err as Error).message}`);
    }
  }
}
