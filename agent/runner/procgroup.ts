// Signalling a run's process group. Each run is spawned detached, so its pid is also its group id.
import { readFileSync } from 'node:fs';

/** Sends `signal` to the whole group led by `pid`. Returns false when the group is already gone. */
export function signalGroup(pid: number | undefined, signal: NodeJS.Signals): boolean {
  if (pid === undefined || pid <= 0) return false;
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    // ESRCH: every member has exited. EPERM cannot happen for our own children while we are root, and
    // otherwise there is nothing more we could do.
    return false;
  }
}

/**
 * True while a process with this pid is still running. A zombie counts as dead: killed leftovers are
 * reparented to init, which may reap them only seconds later. Diagnostics only (sync /proc read).
 */
export function processRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    // Field 3 of /proc/<pid>/stat is the state; the name before it is parenthesised and may hold spaces.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}
