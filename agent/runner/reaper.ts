// The reaper: a tiny shell that outlives the agent to kill its runs. Runs are
// detached process groups, so a `kill -9` of the agent would leave them running
// unseen: a run recorded `lost` would still be going, a freed mutex would be held
// twice. The agent tells the reaper each run's process group as it starts and
// ends; when the agent dies, for whatever reason, the reaper reads EOF on its
// stdin and SIGKILLs every group still listed. Everything it does is builtins.
import { spawn, type ChildProcess } from 'node:child_process';

const REAPER_SCRIPT = [
  "trap '' INT TERM HUP", // a Ctrl-C meant for the agent must not take the reaper with it
  'live=" "',
  'while IFS=" " read -r op g; do',
  '  case $op in',
  '    +) live="$live$g " ;;',
  '    -) case $live in *" $g "*) live="${live%% $g *} ${live#* $g }" ;; esac ;;',
  '  esac',
  'done',
  'for g in $live; do kill -KILL -"$g" 2>/dev/null; done',
].join('\n');

let reaper: ChildProcess | undefined;

/** Starts the reaper for this process (the agent); idempotent. */
export function startReaper(): void {
  if (reaper) return;
  reaper = spawn('/bin/sh', ['-c', REAPER_SCRIPT, 'peppercorn-reaper'], {
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  reaper.on('error', () => (reaper = undefined));
  reaper.stdin?.on('error', () => undefined);
  // It must not keep the agent's event loop alive, nor be waited for at exit.
  reaper.unref();
  (reaper.stdin as unknown as { unref?: () => void } | null)?.unref?.();
}

/** A run's process group started (`pgid` is its leader's pid). */
export function reaperAdd(pgid: number | undefined): void {
  if (reaper && pgid !== undefined) reaper.stdin?.write(`+ ${pgid}\n`);
}

/** A run's process group is gone. */
export function reaperRemove(pgid: number | undefined): void {
  if (reaper && pgid !== undefined) reaper.stdin?.write(`- ${pgid}\n`);
}

export function reaperPid(): number | undefined {
  return reaper?.pid;
}
