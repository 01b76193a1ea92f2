// The contract's implementation, on top of agent/core. Plain Node: never imports
// 'electron', so the web console, the desktop main process and tests share it.
// One ClusterLive (one set of etcd watches) serves every cluster.watch subscriber.
import { hostname } from 'node:os';
import { EventEmitter } from 'node:events';
import {
  connect,
  describeEtcdError,
  readableError,
  type Cluster,
  type ConnectOptions,
} from '../../agent/core/etcd';
import { NotFoundError, Store } from '../../agent/api/store';
import { permissionMessage } from '../../agent/core/roles';
import { listAlerts } from '../../agent/api/alert-store';
import { ClusterLive, type LiveDelta, type LiveJob } from './live';
import { readRunOutput } from '../../agent/api/run-output';
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
  type ClusterDelta,
  type ClusterEvent,
  type ClusterSnapshot,
  type ConnectionStatus,
  type JobRow,
  type JobSpecData,
  type NodeDetail,
  type RunInfo,
  type StreamArgs,
  type StreamEvent,
  type StreamName,
} from '../common/contract';
import { ConnectionStore } from './connections';
import { parseJobYaml, validateReport } from './validate-report';
import { createBatcher } from './batcher';
import { redactKnown } from '../../agent/core/redact';

const PING_MS = 2000;
/** Node detail: how many of a node's jobs, and runs of each, are read for its recent runs. */
const NODE_JOBS_READ = 25;
const RUNS_PER_JOB = 5;

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
  private watchers = new Set<(e: ClusterEvent) => void>();
  private tick: NodeJS.Timeout | undefined;

  constructor(readonly connections: ConnectionStore) {
    super();
  }

  /** Connects to the active (or first) saved cluster, if any. */
  start(): void {
    const list = this.connections.list();
    const id = list.activeId ?? list.profiles[0]?.id;
    if (id) this.use(id);
    // Next-run times and the outcome window move with the clock even when etcd is quiet.
    this.tick = setInterval(() => this.active?.live.tick(), 5000);
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
    const [runId, fromSeq] = args as StreamArgs<'logs.follow'>;
    return this.followLogs(
      runId,
      Math.max(0, Math.floor(fromSeq)),
      emit as (e: StreamEvent<'logs.follow'>) => void,
      end,
    );
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
    live.on('delta', (d: LiveDelta) => this.broadcast(clusterDelta(d)));
    this.restartWatchers();
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
    this.broadcast({ kind: 'delta', connection: s });
  }

  private need(): Active {
    if (!this.active) throw new Error('not connected to a cluster; add one on the Connections screen');
    return this.active;
  }

  private readable(err: unknown): string {
    const denied = this.active && permissionMessage(err, this.active.cluster.user, 'make this change');
    if (denied) return denied;
    return redactKnown(readableError(err, this.active?.cluster.endpoints));
  }

  // ---- the cluster picture --------------------------------------------------------

  private snapshot(): ClusterSnapshot {
    const live = this.active?.live.snapshot();
    return {
      kind: 'snapshot',
      connection: this.status,
      revision: live?.revision ?? 0,
      nodes: live?.nodes ?? [],
      jobs: (live?.jobs ?? []).map(jobRow),
      running: live?.running ?? [],
      recentFailures: live?.recentFailures ?? [],
      outcomes: live?.outcomes ?? {},
      warnings: live?.warnings ?? [],
    };
  }

  /** Another cluster (or none): every watcher starts again from a full picture. */
  private restartWatchers(): void {
    for (const w of this.watchers) w(this.snapshot());
  }

  private broadcast(ev: ClusterDelta): void {
    for (const w of this.watchers) w(ev);
  }

  /** One shared picture: a new watcher gets it whole, then the deltas every watcher gets. */
  private watchCluster(emit: (e: ClusterEvent) => void): () => void {
    this.watchers.add(emit);
    emit(this.snapshot());
    return () => this.watchers.delete(emit);
  }

  /**
   * A run's whole output from byte `from` on (0: all of it), from etcd or from the node that ran it
   * (agent/core/run-output.ts decides), followed live while the run runs. Frames hold whole reads,
   * and each says the byte to resume at, so a reader that reconnects resumes exactly there.
   */
  private followLogs(
    runId: string,
    from: number,
    emit: (e: StreamEvent<'logs.follow'>) => void,
    end: (error?: string) => void,
  ): () => void {
    const abort = new AbortController();
    let bytes = 0;
    const notes: string[] = [];
    const batcher = createBatcher((frame, next) =>
      emit({ kind: 'data', b64: frame.toString('base64'), next }),
    );
    let cluster: Cluster;
    try {
      cluster = this.need().cluster;
    } catch (err) {
      end((err as Error).message);
      return () => undefined;
    }
    readRunOutput(cluster, runId, {
      follow: true,
      from,
      signal: abort.signal,
      onStart: (at) => emit({ kind: 'start', runId, from: at }),
      onData: (data, next) => {
        bytes += data.length;
        batcher.push(data, next);
      },
      onNote: (note) => notes.push(note),
    })
      .then(({ run, source }) => {
        if (abort.signal.aborted) return;
        batcher.flush();
        let note = notes.join('; ') || undefined;
        if (!run) note = 'no such run (it may have been pruned from the history)';
        else if (!note && bytes === 0 && from === 0) note = run.reason ?? 'this run produced no output';
        emit({
          kind: 'end',
          status: run?.status ?? null,
          note,
          source: source === 'none' ? undefined : source,
        });
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
        this.restartWatchers();
      }
      this.connections.remove(id);
    },
    'connection.test': async (input) => {
      let opts: ConnectOptions;
      try {
        opts = this.connections.optionsFor(input);
      } catch (err) {
        return { ok: false, message: (err as Error).message };
      }
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
    'nodes.list': () => this.active?.live.nodes() ?? [],
    'nodes.get': async (id) => {
      const { live } = this.need();
      const node = live.node(id);
      if (!node)
        throw new NotFoundError(`no node named "${id}" in this cluster; see the Overview's node list`);
      const rec = live.nodeRecord(id);
      let lease: NodeDetail['lease'] = null;
      if (node.alive && rec?.lease) {
        const ttl = await live.leaseTtl(rec.lease).catch(() => null);
        if (ttl) lease = { id: rec.lease, ...ttl };
      }
      return { node, pid: rec?.record.pid ?? null, version: rec?.record.version ?? null, lease };
    },
    'nodes.runs': async (id, limit) => {
      const { live, store } = this.need();
      // A few runs of each of its most recently active jobs: bounded reads, whatever the node owns.
      const jobs = live.jobsOwnedBy(id).slice(0, NODE_JOBS_READ);
      const runs = (await Promise.all(jobs.map((j) => store.listRuns(j, RUNS_PER_JOB)))).flat();
      const at = (r: RunRecord) => r.startedAt ?? r.scheduledAt;
      return runs
        .sort((a, b) => at(b) - at(a))
        .slice(0, Math.max(1, Math.min(200, Math.floor(limit))))
        .map(runInfo);
    },
    'jobs.list': () => this.snapshot().jobs,
    'jobs.get': async (name) => {
      const view = await this.need().store.getJob(name);
      return {
        spec: view.spec as JobSpecData,
        owner: view.owner,
        cursor: view.cursor,
        yaml: jobsToYaml([view.spec]),
        assignment: view.assignment ?? null,
        signedBy: view.signedBy ?? null,
        refusedBy: view.refusedBy ?? [],
      };
    },
    'jobs.history': (name) => this.need().store.jobHistory(name),
    'jobs.validate': (input) => validateReport(input),
    'jobs.parseYaml': (text) => parseJobYaml(text),
    'jobs.apply': async (input) => {
      const v = validateJob(input);
      if (!v.ok) throw new Error(v.errors.map((e) => `${e.field}: ${e.message}`).join('; '));
      const a = this.need();
      const [res] = await a.store.applyJobs([v.job], { signWith: this.connections.signingKey(a.profileId) });
      return { name: res.name, result: res.result };
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
    // A corrupt alert is skipped here; the CLI's `peppercorn alerts` names its key.
    'alerts.list': (limit) =>
      listAlerts(
        this.need().cluster,
        { limit: Math.max(1, Math.min(500, Math.floor(limit))) },
        () => undefined,
      ),
  };
}

/** The editor's check: the same validateJob the CLI uses, plus the YAML and a preview. */
function scheduleText(spec: JobSpec): string {
  if (spec.kind === 'cron') return spec.schedule ?? '';
  if (spec.kind === 'loop')
    return `${spec.times ? `${spec.times}×` : 'forever'}, delay ${spec.delay ?? '0s'}`;
  return spec.at ? `at ${spec.at}` : 'on trigger';
}

function jobRow(j: LiveJob): JobRow {
  return {
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
  };
}

function clusterDelta(d: LiveDelta): ClusterDelta {
  return {
    kind: 'delta',
    revision: d.revision,
    nodes: d.nodes,
    jobs: d.jobs && { changed: d.jobs.changed.map(jobRow), removed: d.jobs.removed },
    running: d.running,
    recentFailures: d.recentFailures,
    outcomes: d.outcomes,
    warnings: d.warnings,
  };
}

function runInfo(r: RunRecord): RunInfo {
  // Everything but the output tail, which can be KiBs per run (logs.follow serves it).
  const info: RunInfo & { tail?: string } = { ...r };
  delete info.tail;
  return info;
}

/** Services for one set of connect options (the CLI's), held in memory only. */
export function servicesFor(
  opts: ConnectOptions,
  name = 'from the command line',
  /** A signing key file (`--sign-key`, PEPPERCORN_SIGN_KEY): specs applied in the console are signed with it. */
  signingKeyFile?: string,
): ConsoleServices {
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
    signingKeyFile,
  });
  connections.activeId = profile.id;
  return new ConsoleServices(connections);
}

export type { Calls };
