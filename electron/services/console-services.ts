// The contract's implementation, on top of agent/core. Plain Node: never imports
// 'electron', so the web console, the desktop main process and tests share it.
// One ClusterLive (one set of etcd watches) serves every cluster.watch subscriber.
import { hostname } from 'node:os';
import { EventEmitter } from 'node:events';
import { parse as parseYaml } from 'yaml';
import { connect, describeEtcdError, type Cluster, type ConnectOptions } from '../../agent/core/etcd';
import { Store } from '../../agent/core/store';
import { ClusterLive, type LiveSnapshot } from '../../agent/core/live';
import { validateJob, type JobSpec } from '../../agent/core/job/spec';
import { jobsToYaml } from '../../agent/core/job/files';
import { nextTimes } from '../../agent/core/job/schedule';
import type { RunRecord } from '../../agent/core/records';
import {
  checkCall,
  checkStream,
  type CallArgs,
  type CallName,
  type CallResult,
  type Calls,
  type ClusterSnapshot,
  type ConnectionStatus,
  type JobRow,
  type JobSpecData,
  type RunInfo,
  type StreamArgs,
  type StreamEvent,
  type StreamName,
  type ValidationReport,
} from '../common/contract';
import { ConnectionStore } from './connections';
import { createBatcher } from './batcher';

const PING_MS = 2000;
const PREVIEW_TIMES = 10;

interface Active {
  profileId: string;
  cluster: Cluster;
  store: Store;
  live: ClusterLive;
  ping: NodeJS.Timeout;
}

type Handlers = { [K in CallName]: (...args: CallArgs<K>) => Promise<CallResult<K>> | CallResult<K> };

export class ConsoleServices extends EventEmitter {
  private active: Active | undefined;
  private status: ConnectionStatus = {
    state: 'connecting',
    profileId: null,
    name: '',
    endpoints: [],
    prefix: '',
    since: Date.now(),
  };
  private watchers = new Set<(s: ClusterSnapshot) => void>();
  private cached: ClusterSnapshot | undefined;
  private tick: NodeJS.Timeout | undefined;

  constructor(readonly connections: ConnectionStore) {
    super();
  }

  /** Connects to the active (or first) saved cluster, if any. */
  start(): void {
    const list = this.connections.list();
    const id = list.activeId ?? list.profiles[0]?.id;
    if (id) this.use(id);
    // Next-run times move with the clock even when etcd is quiet.
    this.tick = setInterval(() => this.publish(), 5000);
    this.tick.unref();
  }

  close(): void {
    clearInterval(this.tick);
    this.disconnect();
    this.watchers.clear();
  }

  // ---- transport entry points (arguments checked again here: defence in depth) ----

  async call(name: unknown, args: unknown): Promise<unknown> {
    const bad = checkCall(name, args);
    if (bad) throw new Error(bad);
    const fn = this.handlers[name as CallName] as (...a: unknown[]) => unknown;
    try {
      return await fn(...(args as unknown[]));
    } catch (err) {
      throw new Error(this.readable(err));
    }
  }

  /** Opens a stream; returns its unsubscribe. `end` is called once, with an error or not. */
  subscribe(
    name: unknown,
    args: unknown,
    emit: (event: unknown) => void,
    end: (error?: string) => void,
  ): () => void {
    const bad = checkStream(name, args);
    if (bad) {
      end(bad);
      return () => undefined;
    }
    const stream = name as StreamName;
    if (stream === 'cluster.watch')
      return this.watchCluster(emit as (e: StreamEvent<'cluster.watch'>) => void);
    const [runId] = args as StreamArgs<'logs.follow'>;
    return this.followLogs(runId, emit as (e: StreamEvent<'logs.follow'>) => void, end);
  }

  // ---- connection -----------------------------------------------------------------

  use(profileId: string): ConnectionStatus {
    const opts = this.connections.connectOptions(profileId);
    const profile = this.connections.get(profileId)!;
    this.disconnect();
    this.connections.activeId = profileId;
    this.connections.persist();
    this.setStatus({
      state: 'connecting',
      profileId,
      name: profile.name,
      endpoints: opts.endpoints,
      prefix: profile.prefix,
      since: Date.now(),
    });
    const cluster = connect(opts);
    const live = new ClusterLive(cluster);
    const active: Active = {
      profileId,
      cluster,
      store: new Store(cluster),
      live,
      ping: setInterval(() => void this.ping(active), PING_MS),
    };
    this.active = active;
    live.on('change', () => this.publish());
    void live.start();
    void this.ping(active);
    return this.status;
  }

  private disconnect(): void {
    const a = this.active;
    this.active = undefined;
    if (!a) return;
    clearInterval(a.ping);
    a.live.close();
    a.cluster.close();
  }

  private async ping(a: Active): Promise<void> {
    try {
      await a.live.ping();
      if (this.active !== a) return;
      if (this.status.state !== 'connected') {
        const wasDown = this.status.state === 'unreachable';
        this.setStatus({ ...this.status, state: 'connected', error: undefined, since: Date.now() });
        // Coming back: re-list at once rather than wait for the mirrors' backoff.
        if (wasDown) void a.live.resync();
      }
    } catch (err) {
      if (this.active !== a) return;
      const error = describeEtcdError(err, a.cluster.endpoints);
      if (this.status.state !== 'unreachable' || this.status.error !== error)
        this.setStatus({
          ...this.status,
          state: 'unreachable',
          error,
          since: this.status.state === 'unreachable' ? this.status.since : Date.now(),
        });
    }
  }

  private setStatus(s: ConnectionStatus): void {
    this.status = s;
    this.emit('status', s);
    this.publish();
  }

  private need(): Active {
    if (!this.active) throw new Error('not connected to a cluster; add one on the Connections screen');
    return this.active;
  }

  private readable(err: unknown): string {
    const e = err as Error;
    const grpc = e && /^GRPC|ClientRuntimeError|BrokenCircuit/.test(e.constructor?.name ?? '');
    if (grpc && this.active) return describeEtcdError(err, this.active.cluster.endpoints);
    return e instanceof Error ? e.message : String(err);
  }

  // ---- the cluster picture --------------------------------------------------------

  private snapshot(): ClusterSnapshot {
    const live: LiveSnapshot | undefined = this.active?.live.snapshot();
    return {
      connection: this.status,
      revision: live?.revision ?? 0,
      nodes: live?.nodes ?? [],
      jobs: (live?.jobs ?? []).map((j): JobRow => ({
        name: j.spec.name,
        kind: j.spec.kind,
        schedule: scheduleText(j.spec),
        timezone: j.spec.timezone,
        paused: j.spec.paused,
        owner: j.owner,
        next: j.next,
        lastStatus: j.last?.status ?? null,
        lastAt: j.last?.at ?? null,
        lastRunId: j.last?.runId ?? null,
        command: j.spec.command,
      })),
      running: live?.running ?? [],
      recentFailures: (live?.recentFailures ?? []).map(runInfo),
      outcomes: live?.outcomes ?? {},
      warnings: live?.warnings ?? [],
    };
  }

  private publish(): void {
    this.cached = undefined;
    if (this.watchers.size === 0) return;
    const snap = this.snapshot();
    this.cached = snap;
    for (const w of this.watchers) w(snap);
  }

  private watchCluster(emit: (s: ClusterSnapshot) => void): () => void {
    this.watchers.add(emit);
    emit(this.cached ?? this.snapshot());
    return () => this.watchers.delete(emit);
  }

  private followLogs(
    runId: string,
    emit: (e: StreamEvent<'logs.follow'>) => void,
    end: (error?: string) => void,
  ): () => void {
    const abort = new AbortController();
    let bytes = 0;
    const batcher = createBatcher((frame) => emit({ kind: 'data', b64: frame.toString('base64') }));
    emit({ kind: 'start', runId });
    let store: Store;
    try {
      store = this.need().store;
    } catch (err) {
      end((err as Error).message);
      return () => undefined;
    }
    store
      .followLogs(
        runId,
        (data) => {
          bytes += data.length;
          batcher.push(data);
        },
        abort.signal,
      )
      .then((run) => {
        if (abort.signal.aborted) return;
        batcher.flush();
        let note: string | undefined;
        if (!run) note = 'no such run (it may have been pruned from the history)';
        else if (bytes === 0 && run.tail) {
          // Shipped chunks expire (1 hour); the record keeps the last few KiB.
          emit({ kind: 'data', b64: Buffer.from(run.tail).toString('base64') });
          note = 'older output has expired from etcd: showing the last lines kept with the run';
        } else if (bytes === 0) note = run.reason ?? 'this run produced no output';
        emit({ kind: 'end', status: run?.status ?? null, note });
        end();
      })
      .catch((err) => {
        if (!abort.signal.aborted) end(this.readable(err));
      })
      .finally(() => batcher.close());
    return () => {
      abort.abort();
      batcher.close();
    };
  }

  // ---- calls ----------------------------------------------------------------------

  private readonly handlers: Handlers = {
    'connection.status': () => this.status,
    'connection.list': () => this.connections.list(),
    'connection.save': (input) => this.connections.save(input),
    'connection.remove': (id) => {
      if (this.active?.profileId === id) {
        this.disconnect();
        this.setStatus({
          ...this.status,
          state: 'connecting',
          profileId: null,
          error: 'no cluster selected',
        });
      }
      this.connections.remove(id);
    },
    'connection.test': async (input) => {
      const opts = this.connections.optionsFor(input);
      let cluster: Cluster | undefined;
      try {
        cluster = connect(opts);
        const live = new ClusterLive(cluster);
        await live.ping();
        const nodes = await new Store(cluster).listNodes();
        const alive = nodes.filter((n) => n.alive).length;
        return {
          ok: true,
          message: `connected to etcd at ${opts.endpoints.join(', ')}; ${alive} live node(s) under ${cluster.prefix}`,
        };
      } catch (err) {
        return { ok: false, message: describeEtcdError(err, opts.endpoints) };
      } finally {
        cluster?.close();
      }
    },
    'connection.use': (id) => this.use(id),
    'nodes.list': () => this.snapshot().nodes,
    'jobs.list': () => this.snapshot().jobs,
    'jobs.get': async (name) => {
      const view = await this.need().store.getJob(name);
      return {
        spec: view.spec as JobSpecData,
        owner: view.owner,
        cursor: view.cursor,
        yaml: jobsToYaml([view.spec]),
      };
    },
    'jobs.validate': (input) => validateReport(input),
    'jobs.parseYaml': (text) => {
      try {
        const value: unknown = parseYaml(text);
        if (typeof value !== 'object' || value === null || Array.isArray(value))
          return {
            ok: false,
            errors: [{ field: 'yaml', message: 'the YAML must be one job: a map of fields' }],
          };
        return { ok: true, errors: [], input: value as Record<string, unknown> };
      } catch (err) {
        return { ok: false, errors: [{ field: 'yaml', message: (err as Error).message.split('\n')[0] }] };
      }
    },
    'jobs.apply': async (input) => {
      const v = validateJob(input);
      if (!v.ok) throw new Error(v.errors.map((e) => `${e.field}: ${e.message}`).join('; '));
      const [res] = await this.need().store.applyJobs([v.job]);
      return res;
    },
    'jobs.remove': (name) => this.need().store.removeJob(name),
    'jobs.pause': (name) => this.need().store.setPaused(name, true),
    'jobs.resume': (name) => this.need().store.setPaused(name, false),
    'jobs.trigger': (name) => this.need().store.trigger(name, `console@${hostname()}`),
    'jobs.nextTimes': (input, n) => {
      const v = validateJob(input);
      if (!v.ok) throw new Error(v.errors.map((e) => `${e.field}: ${e.message}`).join('; '));
      return nextTimes(v.job, Date.now(), Math.max(1, Math.min(100, Math.floor(n))));
    },
    'runs.list': async (job, limit) =>
      (await this.need().store.listRuns(job, Math.max(1, Math.min(1000, Math.floor(limit))))).map(runInfo),
    'runs.get': async (runId) => {
      const r = await this.need().store.getRun(runId);
      return r && runInfo(r);
    },
  };
}

/** The editor's check: the same validateJob the CLI uses, plus the YAML and a preview. */
export function validateReport(input: Record<string, unknown>, now = Date.now()): ValidationReport {
  const v = validateJob(input);
  if (!v.ok) return { ok: false, errors: v.errors };
  const report: ValidationReport = {
    ok: true,
    errors: [],
    spec: v.job as JobSpecData,
    yaml: jobsToYaml([v.job]),
  };
  if (v.job.kind !== 'loop') {
    try {
      report.next = nextTimes(v.job, now, PREVIEW_TIMES);
    } catch (err) {
      report.nextError = (err as Error).message;
    }
  }
  return report;
}

function scheduleText(spec: JobSpec): string {
  if (spec.kind === 'cron') return spec.schedule ?? '';
  if (spec.kind === 'loop')
    return `${spec.times ? `${spec.times}×` : 'forever'}, delay ${spec.delay ?? '0s'}`;
  return spec.at ? `at ${spec.at}` : 'on trigger';
}

function runInfo(r: RunRecord): RunInfo {
  return {
    id: r.id,
    job: r.job,
    node: r.node,
    attempt: r.attempt,
    cause: r.cause,
    scheduledAt: r.scheduledAt,
    claimedAt: r.claimedAt,
    startedAt: r.startedAt,
    endedAt: r.endedAt,
    status: r.status,
    exitCode: r.exitCode,
    signal: r.signal,
    reason: r.reason,
    count: r.count,
    until: r.until,
    outputBytes: r.outputBytes,
  };
}

/** Services for one set of connect options (the CLI's), held in memory only. */
export function servicesFor(opts: ConnectOptions, name = 'from the command line'): ConsoleServices {
  const connections = new ConnectionStore();
  const profile = connections.save({
    name,
    endpoints: opts.endpoints,
    prefix: opts.prefix ?? '/peppercorn/',
    user: opts.user,
    password: opts.password,
    cacert: opts.cacert,
    cert: opts.cert,
    key: opts.key,
  });
  connections.activeId = profile.id;
  return new ConsoleServices(connections);
}

export type { Calls };
