// The start gate: a shell that is spawned early and blocks on fd 3 until the runner releases it, then
// runs the command in the same pid (and so the same process group). If the agent dies first, fd 3
// reads EOF and the shell exits without ever running the command.
// The command is `eval`ed by the waiting shell rather than exec'ed in a new one: at a busy second
// boundary every saved exec is CPU that a hundred commands starting together do not queue for.
// The positional parameters are cleared first, so the command sees what `sh -c` would give it.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';

export const GATE_FD = 3;

export const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));

// Either way the gate reads one line from fd 3: a newline means go; EOF (agent gone, or cancelled)
// means exit without running. On a private pipe the runner writes the newline and closes the pipe.
// On a shared start line the agent writes one newline per released run, then closes the line: each
// waiting shell takes one (the shell's `read` takes a byte at a time from a pipe), and an agent that
// died before firing leaves only EOF. The line is an inherited descriptor, never a path: a run-as
// user needs no access to the agent's private data directory.
export const GATE_SCRIPT =
  'read -r _pc_go <&3; _pc_read=$?; exec 3<&-; [ "$_pc_read" = 0 ] || exit 125; ' +
  'unset _pc_go _pc_read; _pc_cmd=$1; shift $#; eval "$_pc_cmd"';

export interface GateOptions {
  env: NodeJS.ProcessEnv;
  /** The read end of a shared start line (see start-line.ts); a private pipe otherwise. */
  line?: { fd: number };
  cwd?: string;
  uid?: number;
  gid?: number;
}

/** Spawns the waiting shell. Throws for the errors Node reports synchronously (e.g. ENOTDIR cwd). */
export function spawnGate(command: string, opts: GateOptions): ChildProcess {
  const args = ['-c', GATE_SCRIPT, 'peppercorn-run', command];
  // The run's first process dies with the agent, whatever kills it (kill -9 of its group,
  // the OOM killer), even if the reaper is gone too: util-linux's setpriv asks the kernel
  // for a parent-death signal, after the uid change (which would clear it), then execs sh.
  const [file, argv] = SETPRIV ? [SETPRIV, ['--pdeathsig', 'KILL', '/bin/sh', ...args]] : ['/bin/sh', args];
  return spawn(file, argv, {
    env: opts.env,
    cwd: opts.cwd,
    uid: opts.uid,
    gid: opts.gid,
    detached: true, // own session and process group, so the whole run can be signalled at once
    stdio: ['ignore', 'pipe', 'pipe', opts.line?.fd ?? 'pipe'],
    windowsHide: true,
  });
}

/** Lets the gate through: the command starts as soon as the shell reads this line. */
export function openGate(child: ChildProcess): void {
  const gate = child.stdio[GATE_FD] as NodeJS.WritableStream | null;
  gate?.end('\n');
}
