// A run's isolation: its cgroup (limits, OOM count, whole-tree kill) and, for container jobs, its
// container. exec.ts drives every run the same way and calls these hooks at fixed points; this
// module decides what they do on this node. Set up once per agent (setupIsolation).
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fnv1a32 } from '../core/job/hash';
import { containerName, RUNTIME_LABEL, type IsolationFields } from '../core/job/isolation';
import { NodeCgroups, readCgroupLayout, RunCgroup, type CgroupLimits } from './cgroup';
import {
  createArgs,
  detectRuntime,
  envFileText,
  inspectContainer,
  removeAgentContainers,
  runtimeCall,
  runtimeLimitFlags,
  spawnContainerGate,
  type ContainerRuntime,
} from './container';
import { applyRlimits, cgroupLimits } from './limits';

export interface IsolationResult {
  oomKilled?: boolean;
  containerId?: string;
  /** Something the run record should say (a limit not enforced here). */
  note?: string;
}

/** The hooks exec.ts calls; every one is safe to call in any state and never throws. */
export interface RunIsolation {
  /** Before the spawn; rejects with a message for the run record (e.g. the image cannot be pulled). */
  prepare?(): Promise<void>;
  /** Spawns the waiting process instead of the shell gate (a container run). */
  spawn?(): ChildProcess;
  /** cgroup.procs files a waiting process forked by the spawner writes itself into before its exec. */
  cgroupProcs?(): string[] | undefined;
  /** The waiting process exists and is not released yet. */
  adopt(pid: number | undefined): void;
  /** Timeout or stop: ask every process of the run to end. */
  terminate(graceMs: number): void;
  /** Kill whatever is left of the run. */
  kill(): void;
  /** After the run's process ended: what happened to it; removes the container and the group. */
  finish(): Promise<IsolationResult>;
}

interface NodeIsolation {
  nodeId: string;
  /**
   * Node id plus a hash of the data dir: two agents on one host under the same id (two clusters,
   * or tests side by side) never clean up each other's run groups and containers.
   */
  agentKey: string;
  dataDir: string;
  cgroups: NodeCgroups;
  runtime: ContainerRuntime | undefined;
}

let node: NodeIsolation | undefined;

/**
 * Finds what this node can isolate runs with; returns the node labels to advertise
 * (`runtime=podman`, `cgroup=hybrid`) and a summary for the log. Cleans up what an earlier
 * agent with this node id left (run groups, containers): call after joining, before scheduling.
 */
export async function setupIsolation(opts: {
  nodeId: string;
  dataDir: string;
  containerRuntime?: string;
  log: (msg: string) => void;
}): Promise<{ labels: Record<string, string> }> {
  const agentKey = agentKeyOf(opts.nodeId, opts.dataDir);
  const cgroups = new NodeCgroups(readCgroupLayout(), agentKey);
  const runtime = await detectRuntime(opts.containerRuntime, opts.log);
  node = { nodeId: opts.nodeId, agentKey, dataDir: opts.dataDir, cgroups, runtime };
  opts.log(cgroups.describe());
  opts.log(
    runtime
      ? `container runtime: ${runtime.argv.join(' ')} (cgroup manager ${runtime.cgroupManager})`
      : 'container runtime: none; container jobs are not placed here',
  );
  const labels: Record<string, string> = { cgroup: cgroups.unavailable ? 'none' : cgroups.layout.mode };
  if (runtime) labels[RUNTIME_LABEL] = runtime.name;
  return { labels };
}

/** Removes what an earlier agent with this node id left: run groups and containers. */
export async function cleanupLeftovers(log: (msg: string) => void): Promise<void> {
  if (!node) return;
  const groups = await node.cgroups.cleanupStale();
  if (groups.length) log(`killed and removed ${groups.length} run cgroup(s) left by an earlier agent`);
  if (node.runtime) {
    try {
      const gone = await removeAgentContainers(node.runtime, node.agentKey);
      if (gone.length)
        log(`removed ${gone.length} container(s) left by an earlier agent: ${gone.join(', ')}`);
    } catch (err) {
      log(`could not remove containers left by an earlier agent: ${(err as Error).message}`);
    }
  }
}

/** The key of an agent instance: node id plus a hash of its data dir (see NodeIsolation). */
export function agentKeyOf(nodeId: string, dataDir: string): string {
  return `${nodeId}.${fnv1a32(resolve(dataDir)).toString(16)}`;
}

/**
 * Kills and removes the run groups of an agent that will not come back (a test cluster's agents
 * after kill -9); a restarted agent does this itself (cleanupLeftovers).
 */
export async function removeAgentGroups(nodeId: string, dataDir: string): Promise<void> {
  const groups = new NodeCgroups(readCgroupLayout(), agentKeyOf(nodeId, dataDir));
  await groups.cleanupStale();
  groups.removeBase();
}

/** At a graceful stop, after the last run: removes the agent's (empty) parent groups. */
export function closeIsolation(): void {
  node?.cgroups.removeBase();
}

/** The isolation of one run of a job, or undefined when the run needs none (no cgroups here). */
export function isolationFor(
  job: IsolationFields & { command: string; user?: string; workdir?: string },
  run: { runId: string; env: Record<string, string> },
): RunIsolation | undefined {
  if (!node) return job.image ? new Unrunnable('the agent has no container runtime set up') : undefined;
  const limits = cgroupLimits(job.limits);
  if (job.image) {
    if (!node.runtime) return new Unrunnable('this node has no container runtime (podman or docker)');
    return new ContainerIsolation(node, node.runtime, { ...job, image: job.image }, run, limits);
  }
  if (node.cgroups.unavailable && !job.limits) return undefined;
  return new ProcessIsolation(node, run.runId, limits);
}

/** A plain run: its own cgroup when possible, else rlimits for its limits. */
class ProcessIsolation implements RunIsolation {
  private group: RunCgroup | undefined;
  private note: string | undefined;

  constructor(
    private readonly node: NodeIsolation,
    runId: string,
    private readonly limits: CgroupLimits,
  ) {
    if (!node.cgroups.unavailable) {
      try {
        this.group = node.cgroups.create(runId, limits);
      } catch (err) {
        this.note = `no cgroup for this run (${(err as Error).message})`;
      }
    }
  }

  cgroupProcs(): string[] | undefined {
    return this.group?.dirs.map((d) => join(d, 'cgroup.procs'));
  }

  adopt(pid: number | undefined): void {
    if (pid === undefined) return;
    if (this.group) {
      try {
        this.group.adopt(pid);
      } catch (err) {
        this.note = `could not move the run into its cgroup (${(err as Error).message})`;
        this.group.removeSoon();
        this.group = undefined;
      }
    }
    const missing = RunCgroup.missing(this.group ? this.node.cgroups : noGroups, this.limits);
    if (missing.length) {
      const n = applyRlimits(pid, this.limits, missing);
      this.note = [this.note, n].filter(Boolean).join('; ') || undefined;
    }
  }

  terminate(): void {
    this.group?.signal('SIGTERM');
  }

  kill(): void {
    this.group?.kill();
  }

  async finish(): Promise<IsolationResult> {
    const g = this.group;
    this.group = undefined;
    if (!g) return { note: this.note };
    g.kill();
    const oomKilled = g.oomKills() > 0;
    await g.remove();
    return { oomKilled: oomKilled || undefined, note: this.note };
  }
}

// Stands in for "no cgroups at all" when asking which limits are missing.
const noGroups = { unavailable: 'none' } as unknown as NodeCgroups;

class ContainerIsolation implements RunIsolation {
  private group: RunCgroup | undefined;
  private created = false;
  private stopping = false;
  private oomSeen = false;
  private sampler: NodeJS.Timeout | undefined;
  private readonly name: string;

  constructor(
    private readonly node: NodeIsolation,
    private readonly rt: ContainerRuntime,
    private readonly job: IsolationFields & {
      image: string;
      command: string;
      user?: string;
      workdir?: string;
    },
    private readonly run: { runId: string; env: Record<string, string> },
    private readonly limits: CgroupLimits,
  ) {
    this.name = containerName(run.runId);
  }

  async prepare(): Promise<void> {
    // Limits go through the runtime's flags. With a cgroupfs runtime the container is created
    // inside the run's own group (no limits of its own), so the agent can read the container's
    // OOM kills there: runtimes do not report them on cgroup v1, and there the count lives only in
    // the container's group, which the runtime removes soon after the exit (hence the sampling).
    if (!this.node.cgroups.unavailable && this.rt.cgroupManager === 'cgroupfs')
      this.group = this.node.cgroups.create(this.run.runId);
    const dir = join(this.node.dataDir, 'containers');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const envFile = join(dir, `${this.run.runId}.env`);
    writeFileSync(envFile, envFileText(this.run.env), { mode: 0o600 });
    try {
      const r = await runtimeCall(
        this.rt,
        createArgs({
          ...this.job,
          runId: this.run.runId,
          nodeId: this.node.nodeId,
          agentKey: this.node.agentKey,
          env: this.run.env,
          limitFlags: runtimeLimitFlags(this.limits),
          cgroupParent: this.group?.path,
          envFile,
        }),
      );
      if (r.code !== 0) {
        const why = (r.stderr || r.stdout).trim().split('\n').slice(-3).join(' / ');
        throw new Error(`${this.rt.name} create failed for image ${this.job.image}: ${why}`);
      }
      this.created = true;
    } finally {
      rmSync(envFile, { force: true });
    }
  }

  spawn(): ChildProcess {
    if (this.group && this.limits.memoryBytes !== undefined)
      this.sampler = setInterval(() => this.sampleOom(), OOM_SAMPLE_MS);
    return spawnContainerGate(this.rt, this.name);
  }

  private sampleOom(): void {
    if (this.group && this.group.oomKills() > 0) this.oomSeen = true;
  }

  adopt(): void {
    // The attached client stays outside the run's group: its memory is not the job's.
  }

  terminate(graceMs: number): void {
    if (!this.created || this.stopping) return;
    this.stopping = true;
    const seconds = String(Math.max(1, Math.ceil(graceMs / 1000)));
    void runtimeCall(this.rt, ['stop', '--time', seconds, this.name]);
  }

  kill(): void {
    // Called as the attached client exits: before the runtime removes the container's group.
    this.sampleOom();
    // After the client ended on its own the container has exited: finish() removes it.
    if (!this.stopping) return;
    this.group?.kill();
    void runtimeCall(this.rt, ['kill', this.name]);
  }

  async finish(): Promise<IsolationResult> {
    clearInterval(this.sampler);
    this.sampleOom();
    const result: IsolationResult = this.oomSeen ? { oomKilled: true } : {};
    if (this.created) {
      const seen = await inspectContainer(this.rt, this.name);
      result.containerId = seen.id;
      if (seen.oomKilled) result.oomKilled = true;
      await runtimeCall(this.rt, ['rm', '--force', this.name]);
      this.created = false;
    }
    if (this.group) {
      this.group.kill();
      await this.group.remove();
      this.group = undefined;
    }
    return result;
  }
}

const OOM_SAMPLE_MS = 250;

/** A run that cannot be isolated as its job asks: it fails before start with this reason. */
class Unrunnable implements RunIsolation {
  constructor(private readonly why: string) {}
  prepare(): Promise<void> {
    return Promise.reject(new Error(this.why));
  }
  adopt(): void {}
  terminate(): void {}
  kill(): void {}
  finish(): Promise<IsolationResult> {
    return Promise.resolve({});
  }
}
