// The node's container runtime (podman or docker) and the commands a container run goes through:
//   create (ahead of the scheduled time: pull if asked, create with the job's limits, labelled
//   with the node and run) → start --attach --interactive (also ahead; the container's shell waits
//   for one line on its stdin, the start gate) → the line at T → the command runs; its output comes
//   back through the attached client like any run's → inspect (OOM, id) → rm.
// A timeout stops the container (SIGTERM, then the runtime's SIGKILL after the grace); a container
// left by a dead agent is removed by the next agent with the same node id (its label says whose).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { basename } from 'node:path';
import type { IsolationFields } from '../core/job/isolation';
import { containerName } from '../core/job/isolation';

export interface ContainerRuntime {
  /** podman or docker: the node label's value. */
  name: string;
  /** The command and its fixed arguments (agent config `containerRuntime`, e.g. "podman --runtime runc"). */
  argv: string[];
  /** cgroupfs (a run's cgroup can be the container's parent) or systemd. */
  cgroupManager: string;
}

export const NODE_LABEL = 'peppercorn.node';
/** The agent instance (node id and data dir): what its successor cleans up, and nothing else's. */
export const AGENT_LABEL = 'peppercorn.agent';
export const RUN_LABEL = 'peppercorn.run';

export interface RuntimeResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the runtime with arguments; never rejects. */
export function runtimeCall(
  rt: { argv: string[] },
  args: string[],
  timeoutMs = 120_000,
): Promise<RuntimeResult> {
  return new Promise((resolve) => {
    execFile(
      rt.argv[0],
      [...rt.argv.slice(1), ...args],
      { timeout: timeoutMs, maxBuffer: 4 << 20, encoding: 'utf8' },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
        resolve({ code, stdout, stderr: stderr || (err && code === null ? err.message : '') });
      },
    );
  });
}

/**
 * Finds the runtime: `setting` is "none", a command line ("podman --runtime runc"), or
 * undefined/"auto" (podman, else docker). A runtime counts only if it answers `info`.
 */
export async function detectRuntime(
  setting: string | undefined,
  log: (msg: string) => void,
): Promise<ContainerRuntime | undefined> {
  if (setting === 'none') return undefined;
  const candidates = setting && setting !== 'auto' ? [setting.trim().split(/\s+/)] : [['podman'], ['docker']];
  for (const argv of candidates) {
    const name = basename(argv[0]);
    const format = name === 'docker' ? '{{.CgroupDriver}}' : '{{.Host.CgroupManager}}';
    const r = await runtimeCall({ argv }, ['info', '--format', format], 60_000);
    if (r.code === 0) return { name, argv, cgroupManager: r.stdout.trim() };
    const why = (r.stderr || r.stdout).trim().split('\n').slice(-1)[0];
    // Auto-detection: a missing binary is the common case, not news.
    if (setting || !/ENOENT/.test(why)) log(`container runtime ${argv.join(' ')} not usable: ${why}`);
  }
  return undefined;
}

/** What a container run is created from. */
export interface ContainerSpec extends IsolationFields {
  image: string;
  runId: string;
  nodeId: string;
  agentKey: string;
  command: string;
  env: Record<string, string>;
  user?: string;
  workdir?: string;
  /** Runtime flags for limits (those not enforced by the run's own cgroup). */
  limitFlags: string[];
  /** The run's cgroup, as the container's parent (cgroupfs runtimes only). */
  cgroupParent?: string;
  /** A file only the agent reads, for the environment (never on a command line). */
  envFile: string;
}

// The container's shell waits for the go line on its stdin (EOF: never released), then runs the
// command as `sh -c` would, with stdin closed like any run's.
const CONTAINER_GATE =
  'read -r _pc_go || exit 125; exec </dev/null; unset _pc_go; _pc_cmd=$1; shift $#; eval "$_pc_cmd"';

/** `create` arguments (pure). */
export function createArgs(c: ContainerSpec): string[] {
  const args = ['create', '--interactive', '--name', containerName(c.runId)];
  args.push('--label', `${NODE_LABEL}=${c.nodeId}`, '--label', `${AGENT_LABEL}=${c.agentKey}`);
  args.push('--label', `${RUN_LABEL}=${c.runId}`);
  args.push('--pull', c.pull ?? 'missing', '--log-driver', 'none', '--env-file', c.envFile);
  if (c.network) args.push('--network', c.network);
  for (const v of c.volumes ?? []) args.push('--volume', v);
  if (c.user) args.push('--user', c.user);
  if (c.workdir) args.push('--workdir', c.workdir);
  if (c.cgroupParent) args.push('--cgroup-parent', c.cgroupParent);
  args.push(...c.limitFlags);
  args.push(c.image, '/bin/sh', '-c', CONTAINER_GATE, 'peppercorn-run', c.command);
  return args;
}

/** Runtime flags for limits (pure). */
export function runtimeLimitFlags(l: { memoryBytes?: number; cpu?: number; pids?: number }): string[] {
  const flags: string[] = [];
  if (l.memoryBytes !== undefined)
    flags.push('--memory', `${l.memoryBytes}b`, '--memory-swap', `${l.memoryBytes}b`);
  if (l.cpu !== undefined) flags.push('--cpus', String(l.cpu));
  if (l.pids !== undefined) flags.push('--pids-limit', String(l.pids));
  return flags;
}

/** An env file: one NAME=value a line; a value with a newline cannot be written. Throws. */
export function envFileText(env: Record<string, string>): string {
  return Object.entries(env)
    .map(([k, v]) => {
      if (/[\r\n]/.test(v))
        throw new Error(`env ${k} contains a line break, which container env files cannot carry`);
      return `${k}=${v}\n`;
    })
    .join('');
}

/**
 * The waiting process of a container run: the runtime's attached client, in its own process group,
 * its stdin the gate pipe on fd 3 (as the shell gate's), so exec.ts opens it the same way.
 */
export function spawnContainerGate(rt: ContainerRuntime, name: string): ChildProcess {
  return spawn(
    '/bin/sh',
    [
      '-c',
      'exec "$@" <&3 3<&-',
      'peppercorn-container',
      ...rt.argv,
      'start',
      '--attach',
      '--interactive',
      name,
    ],
    { detached: true, stdio: ['ignore', 'pipe', 'pipe', 'pipe'], windowsHide: true },
  );
}

/** The runtime's view after the run: the full id and whether it reports an OOM kill. */
export async function inspectContainer(
  rt: ContainerRuntime,
  name: string,
): Promise<{ id?: string; oomKilled: boolean }> {
  const r = await runtimeCall(rt, ['inspect', '--format', '{{.Id}} {{.State.OOMKilled}}', name], 30_000);
  if (r.code !== 0) return { oomKilled: false };
  const [id, oom] = r.stdout.trim().split(/\s+/);
  return { id, oomKilled: oom === 'true' };
}

/** Names of the containers labelled with this agent instance (running or not). */
export async function agentContainers(rt: ContainerRuntime, agentKey: string): Promise<string[]> {
  const r = await runtimeCall(
    rt,
    ['ps', '--all', '--filter', `label=${AGENT_LABEL}=${agentKey}`, '--format', '{{.Names}}'],
    60_000,
  );
  if (r.code !== 0) throw new Error(`${rt.name} ps failed: ${r.stderr.trim()}`);
  return r.stdout.split('\n').filter(Boolean);
}

/** Removes the containers an earlier agent with this node id left (it died mid-run). */
export async function removeAgentContainers(rt: ContainerRuntime, agentKey: string): Promise<string[]> {
  const names = await agentContainers(rt, agentKey);
  if (names.length) {
    const r = await runtimeCall(rt, ['rm', '--force', ...names], 120_000);
    if (r.code !== 0) throw new Error(`${rt.name} rm failed: ${r.stderr.trim()}`);
  }
  return names;
}
