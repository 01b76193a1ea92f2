// The reaper: a tiny shell that outlives the agent to kill its runs. Runs are
// detached process groups, so a `kill -9` of the agent would leave them running
// unseen: a run recorded `lost` would still be going, a freed mutex would be held
// twice. The agent tells the reaper each run's process group as it starts and
// ends; when the agent dies, for whatever reason, the reaper reads EOF on its
// stdin and SIGKILLs every group still listed. Everything it does is builtins.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';

// The reaper lives in its own process group (detached): a supervisor's group kill
// (`kill -9 -PGID` of the agent) must not take it along, or the runs would go on unseen.
// With bash it is also a watchdog: the agent sends a heartbeat line every few hundred ms;
// when none arrives for `fenceMs` (the agent is stopped with SIGSTOP, or starved), the
// single-copy runs (loops, semaphore holders) are killed before etcd can expire the
// node's lease and hand their jobs to another node. Plain sh has no `read -t`.
function reaperScript(watchdogSec: number | undefined): string {
  const read = watchdogSec ? `read -r -t ${watchdogSec} op g` : 'read -r op g';
  return [
    "trap '' INT TERM HUP", // a Ctrl-C meant for the agent must not take the reaper with it
    'live=" "; single=" "',
    'while :; do',
    `  if IFS=" " ${read}; then`,
    '    case $op in',
    '      +) live="$live$g " ;;',
    '      s) live="$live$g "; single="$single$g " ;;',
    '      -) case $live in *" $g "*) live="${live%% $g *} ${live#* $g }" ;; esac',
    '         case $single in *" $g "*) single="${single%% $g *} ${single#* $g }" ;; esac ;;',
    '    esac',
    // Over 128: the read timed out (no heartbeat). Otherwise EOF: the agent is gone.
    '  elif [ $? -gt 128 ]; then',
    '    for g in $single; do kill -KILL -"$g" 2>/dev/null; done; single=" "',
    '  else break; fi',
    'done',
    'for g in $live; do kill -KILL -"$g" 2>/dev/null; done',
  ].join('\n');
}

let reaper: ChildProcess | undefined;
let heartbeat: NodeJS.Timeout | undefined;

/**
 * Starts the reaper for this process (the agent); idempotent. With `fenceMs`, single-copy
 * runs are killed when the agent gives no sign of life for that long.
 */
export function startReaper(fenceMs?: number): void {
  if (reaper) return;
  const bash = fenceMs && existsSync('/bin/bash') ? '/bin/bash' : undefined;
  const watchdogSec = bash && fenceMs ? (fenceMs / 1000).toFixed(1) : undefined;
  reaper = spawn(
    bash ?? '/bin/sh',
    ['-c', reaperScript(watchdogSec ? Number(watchdogSec) : undefined), 'peppercorn-reaper'],
    {
      stdio: ['pipe', 'ignore', 'ignore'],
      detached: true,
    },
  );
  reaper.on('error', () => (reaper = undefined));
  reaper.stdin?.on('error', () => undefined);
  // It must not keep the agent's event loop alive, nor be waited for at exit.
  reaper.unref();
  (reaper.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  if (watchdogSec) {
    const every = Math.max(100, Math.floor(fenceMs! / 5));
    heartbeat = setInterval(() => reaper?.stdin?.write('.\n'), every);
    heartbeat.unref();
  }
}

/** A run's process group started (`pgid` is its leader's pid). */
export function reaperAdd(pgid: number | undefined, singleCopy = false): void {
  if (reaper && pgid !== undefined) reaper.stdin?.write(`${singleCopy ? 's' : '+'} ${pgid}\n`);
}

/** A run's process group is gone. */
export function reaperRemove(pgid: number | undefined): void {
  if (reaper && pgid !== undefined) reaper.stdin?.write(`- ${pgid}\n`);
}

export function reaperPid(): number | undefined {
  return reaper?.pid;
}
