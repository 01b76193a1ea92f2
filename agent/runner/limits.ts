// A job's `limits` on this node: cgroup limits where the agent can create groups (see cgroup.ts),
// else prlimit-style resource limits on the run's first process, inherited by its children:
//   memory → RLIMIT_AS (address space, which over-counts mapped-but-unused memory),
//   pids   → RLIMIT_NPROC (counts every process of the run's *user*, not of the run),
//   cpu    → nothing (no rlimit caps a CPU share); the run record says so.
import { spawnSync } from 'node:child_process';
import { parseMemory, type JobLimits } from '../core/job/isolation';
import type { CgroupLimits, Controller } from './cgroup';

export function cgroupLimits(l: JobLimits | undefined): CgroupLimits {
  if (!l) return {};
  return {
    memoryBytes: l.memory === undefined ? undefined : parseMemory(l.memory),
    pids: l.pids,
    cpu: l.cpu,
  };
}

/** prlimit arguments for the limits no cgroup enforces here (pure). `cpu` has none. */
export function rlimitArgs(l: CgroupLimits, missing: Controller[]): string[] {
  const args: string[] = [];
  if (missing.includes('memory') && l.memoryBytes !== undefined) args.push(`--as=${l.memoryBytes}`);
  if (missing.includes('pids') && l.pids !== undefined) args.push(`--nproc=${l.pids}`);
  return args;
}

/** Applies rlimits to a waiting process; returns a note for the run record when something could not be. */
export function applyRlimits(pid: number, l: CgroupLimits, missing: Controller[]): string | undefined {
  const notes: string[] = [];
  const args = rlimitArgs(l, missing);
  if (args.length) {
    const r = spawnSync('prlimit', ['--pid', String(pid), ...args], { encoding: 'utf8' });
    if (r.status !== 0)
      notes.push(
        `limits ${args.join(' ')} not applied (prlimit: ${(r.stderr || String(r.error)).trim()}); install util-linux`,
      );
    else
      notes.push(
        `no cgroup for ${missing.filter((c) => c !== 'cpu').join(', ')} on this node: applied as rlimits (${args.join(' ')})`,
      );
  }
  if (missing.includes('cpu') && l.cpu !== undefined)
    notes.push('limits.cpu not enforced: this node has no cpu cgroup the agent can use');
  return notes.length ? notes.join('; ') : undefined;
}
