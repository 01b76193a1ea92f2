// The start gate: a shell that is spawned early and blocks on fd 3 until the runner releases it, then
// execs the command in the same pid (and so the same process group). If the agent dies first, fd 3
// reads EOF and the shell exits without ever running the command.
import { spawn, type ChildProcess } from 'node:child_process';

export const GATE_FD = 3;

// `read` fails on EOF (agent gone, or cancelled) -> exit without running "$1".
const GATE_SCRIPT = 'read -r _pc_go <&3 || exit 125; exec 3<&-; exec /bin/sh -c "$1"';

export interface GateOptions {
  env: NodeJS.ProcessEnv;
  cwd?: string;
  uid?: number;
  gid?: number;
}

/** Spawns the waiting shell. Throws for the errors Node reports synchronously (e.g. ENOTDIR cwd). */
export function spawnGate(command: string, opts: GateOptions): ChildProcess {
  return spawn('/bin/sh', ['-c', GATE_SCRIPT, 'peppercorn-run', command], {
    env: opts.env,
    cwd: opts.cwd,
    uid: opts.uid,
    gid: opts.gid,
    detached: true, // own session and process group, so the whole run can be signalled at once
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    windowsHide: true,
  });
}

/** Lets the gate through: the command starts as soon as the shell reads this line. */
export function openGate(child: ChildProcess): void {
  const gate = child.stdio[GATE_FD] as NodeJS.WritableStream | null;
  gate?.end('\n');
}
