// Runs one job run on this node: spawn early behind a gate, release at the scheduled time, and report
// exactly one outcome. Nothing here throws for problems the job's configuration caused.
import type { ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { GATE_FD, openGate, spawnGate } from './gate';
import { jobNiceness, restoreJobPriority } from './priority';
import { reaperAdd, reaperRemove } from './reaper';
import type { StartLine, LineMember } from './start-line';
import { describeSpawnError } from './errors';
import { CappedLogWriter } from './logwriter';
import { signalGroup } from './procgroup';
import { TailBuffer } from './tail';
import { runEnvironment } from './environment';
import { agentIdentity, cachedUser, lookupUser, UserLookupError, type UserAccount } from './users';
import type { IsolationResult, RunIsolation } from './isolation';
import { redactKnown } from '../core/redact';
import { liveSpawner, RemoteChild } from './spawner';

export interface RunSpec {
  runId: string;
  /** Run with /bin/sh -c. */
  command: string;
  /** The job's env plus the PEPPERCORN_* vars given by the caller; never the agent's own (see environment.ts). */
  env: Record<string, string>;
  workdir?: string;
  /** Run as this user; only possible when the agent is root. */
  user?: string;
  /** Must never run as two copies (a loop, a semaphore holder): the reaper's watchdog kills it when the agent stalls. */
  singleCopy?: boolean;
  /** After this (from release), SIGTERM the whole group, then SIGKILL after killGraceMs. */
  timeoutMs?: number;
  killGraceMs: number;
  /** Full output, stdout and stderr interleaved in arrival order; appended; parent dirs created. */
  logFile: string;
  logFileCapBytes: number;
  onOutput?: (chunk: Buffer) => void;
  tailBytes: number;
  /** Release together with the other runs on this line (one write for all); see start-line.ts. */
  startLine?: StartLine;
  /** The run's cgroup and container, if any (isolation.ts); hooks called at fixed points below. */
  isolation?: RunIsolation;
}

export type RunExit = 'succeeded' | 'failed' | 'timeout' | 'killed';

export interface RunOutcome {
  status: RunExit;
  exitCode: number | null;
  signal: string | null;
  /** ms, when released (0 if never started). */
  startedAt: number;
  endedAt: number;
  outputBytes: number;
  tail: string;
  error?: string;
  /** Killed by the kernel for exceeding its memory limit. */
  oomKilled?: boolean;
  containerId?: string;
}

export interface PreparedRun {
  readonly pid: number | undefined;
  /** Start the command now (idempotent). */
  release(): void;
  /** The command must never run; kills the waiting process. Once the command has started it acts as stop('cancelled'). */
  cancel(): void;
  /** SIGTERM the group, SIGKILL after `graceMs` (default killGraceMs); status 'killed' unless the run already ended. */
  stop(reason: string, graceMs?: number): void;
  /** Resolves exactly once, never rejects. */
  readonly done: Promise<RunOutcome>;
}

// After the main process exits, leftovers are killed; whatever they buffered gets this long to arrive.
const DRAIN_AFTER_EXIT_MS = 200;

const active = new Set<Run>();

class Run implements PreparedRun, LineMember {
  readonly done: Promise<RunOutcome>;
  private resolveDone!: (o: RunOutcome) => void;
  private child: ChildProcess | undefined;
  private log: CappedLogWriter | undefined;
  private readonly tail: TailBuffer;
  private outputBytes = 0;
  private releaseRequested = false;
  private started = false;
  private exited = false;
  private finished = false;
  private startedAt = 0;
  private endedAt = 0;
  private exitCode: number | null = null;
  private signal: string | null = null;
  // Why we ended it ourselves; the first reason wins.
  private ending: { status: RunExit; error: string } | undefined;
  private startError: string | undefined;
  private timeoutTimer: NodeJS.Timeout | undefined;
  private graceTimer: NodeJS.Timeout | undefined;
  /** When the pending SIGKILL is due (ms since epoch), once SIGTERM was sent. */
  private killAt: number | undefined;
  private paused = false;
  /** The shared start line this run waits on, until it fires. */
  private line: StartLine | undefined;
  private isolated: IsolationResult = {};

  constructor(private readonly spec: RunSpec) {
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    this.tail = new TailBuffer(spec.tailBytes);
    active.add(this);
    this.begin();
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  release(): void {
    if (this.releaseRequested || this.ending || this.finished) return;
    this.releaseRequested = true;
    if (this.line) {
      // Started by the line's single write; everything else waits until after it.
      this.line.release(this);
      return;
    }
    // Before the spawn (user lookup still pending) the gate opens as soon as the process exists.
    if (this.spawned && !this.exited) this.openGateNow();
  }

  cancel(): void {
    if (this.started) return this.stop('cancelled');
    this.abortBeforeStart('cancelled before start; the command never ran');
  }

  stop(reason: string, graceMs?: number): void {
    if (this.finished || this.exited) return;
    if (this.ending) {
      // Already ending (a timeout, an earlier stop): a shorter grace still applies.
      if (graceMs !== undefined && this.started) this.shortenGrace(graceMs);
      return;
    }
    if (!this.started)
      return this.abortBeforeStart(`stopped before start (${reason}); the command never ran`);
    this.ending = { status: 'killed', error: `stopped: ${reason}` };
    this.terminate(graceMs);
  }

  private shortenGrace(graceMs: number): void {
    const killAt = Date.now() + graceMs;
    if (this.killAt !== undefined && this.killAt <= killAt) return;
    clearTimeout(this.graceTimer);
    this.killAt = killAt;
    this.graceTimer = setTimeout(() => {
      if (!this.exited) this.signalGroup('SIGKILL');
      this.spec.isolation?.kill();
    }, graceMs);
  }

  private begin(): void {
    const iso = this.spec.isolation;
    if (iso?.prepare) {
      // A container is created before its time; its user and workdir are the container's own.
      iso.prepare().then(
        () => {
          // Cancelled while the container was being made: it must not stay behind.
          if (this.finished || this.ending) void iso.finish();
          else this.spawnNow(undefined);
        },
        (err: unknown) => this.failToStart((err as Error).message ?? String(err)),
      );
      return;
    }
    const { user } = this.spec;
    if (!user) return this.spawnNow(undefined);
    const me = agentIdentity();
    if (me.uid !== 0) {
      if (user === me.name || user === String(me.uid)) return this.spawnNow(undefined);
      return this.failToStart(`agent is not root; cannot run as ${user}`);
    }
    const acct = cachedUser(user);
    if (acct) return this.spawnNow(acct);
    lookupUser(user).then(
      (a) => this.spawnNow(a),
      (err: unknown) =>
        this.failToStart(
          err instanceof UserLookupError ? err.message : `cannot look up user ${user}: ${String(err)}`,
        ),
    );
  }

  private spawnNow(acct: UserAccount | undefined): void {
    if (this.finished || this.ending) return;
    const { spec } = this;
    const env = runEnvironment(process.env, acct ?? agentIdentity(), spec.env);
    let child: ChildProcess;
    // A spawn that comes after its line fired (a slow user lookup) uses a private pipe.
    const iso = spec.isolation;
    const line = spec.startLine && !spec.startLine.fired && !iso?.spawn ? spec.startLine : undefined;
    // Forked by the spawner when one runs (a line it holds takes only its runs; a line the agent
    // holds, only the agent's); a container's client by the agent.
    const spawner = iso?.spawn ? undefined : line ? line.remote?.spawner : liveSpawner();
    try {
      child = iso?.spawn
        ? iso.spawn()
        : spawner
          ? (spawner.spawn(spec.command, {
              env,
              cwd: spec.workdir,
              uid: acct?.uid,
              gid: acct?.gid,
              line: line?.remote,
              cgroupProcs: iso?.cgroupProcs?.(),
              nice: jobNiceness(),
            }) as unknown as ChildProcess) // drives the same surface; see spawner.ts
          : spawnGate(spec.command, {
              env,
              cwd: spec.workdir,
              uid: acct?.uid,
              gid: acct?.gid,
              line: line && { fd: line.fd },
            });
    } catch (err) {
      // Node throws synchronously for some failures (e.g. ENOTDIR cwd, invalid env values).
      this.spawnFailed(err, undefined);
      return;
    }
    this.child = child;
    if (line && this.spawned) {
      this.line = line;
      line.join(this);
    }
    // A spawner's child reports its pid a moment later; it has joined its cgroups and taken the
    // jobs' niceness itself, before its exec. Writing the pid again checks the cgroup move.
    const withPid = () => {
      iso?.adopt(child.pid);
      if (!spawner) restoreJobPriority(child.pid);
      reaperAdd(child.pid, spec.singleCopy);
    };
    if (child.pid !== undefined) withPid();
    else if (spawner) child.once('spawn', withPid);
    child.on('error', (err) => {
      // After a successful spawn, 'error' only reports failed kill/send calls; nothing to do.
      if (child.pid === undefined) this.spawnFailed(err, child);
    });
    child.on('exit', (code, sig) => this.onExit(code, sig));
    for (const s of [child.stdout, child.stderr]) s?.on('data', (c: Buffer) => this.onData(c));
    // EPIPE when the gate died before release; the exit handler reports that.
    (child.stdio[GATE_FD] as Readable | null)?.on('error', () => {});
    // Without a pid the spawn failed and 'error' follows; there is no gate to open.
    if (this.releaseRequested && this.spawned) this.openGateNow();
  }

  /** The waiting process exists, or is being forked by the spawner (requests to it are in order). */
  private get spawned(): boolean {
    const c = this.child;
    return !!c && (c.pid !== undefined || (c instanceof RemoteChild && !c.failed));
  }

  /** Signals the run's process group (through the spawner for its children: it knows when the group is gone). */
  private signalGroup(signal: NodeJS.Signals): void {
    const c = this.child as unknown;
    if (c instanceof RemoteChild) c.signalGroup(signal);
    else signalGroup(this.child?.pid, signal);
  }

  private openGateNow(): void {
    const child = this.child;
    if (!child || this.started) return;
    this.markStarted();
    openGate(child);
  }

  private markStarted(at = Date.now()): void {
    this.started = true;
    this.startedAt = at;
    const t = this.spec.timeoutMs;
    if (t !== undefined && t > 0) this.timeoutTimer = setTimeout(() => this.onTimeout(), t);
  }

  lineFired(at: number): void {
    this.line = undefined;
    if (!this.started && !this.ending && !this.finished) this.markStarted(at);
  }

  lineMissed(): void {
    this.line = undefined;
    this.abortBeforeStart('its start line fired before it was released; the command never ran');
  }

  private onTimeout(): void {
    if (this.exited || this.ending) return;
    this.ending = { status: 'timeout', error: `timed out after ${this.spec.timeoutMs} ms` };
    this.terminate();
  }

  private terminate(graceMs = this.spec.killGraceMs): void {
    this.signalGroup('SIGTERM');
    this.spec.isolation?.terminate(graceMs);
    // A command that traps or ignores SIGTERM still ends.
    this.shortenGrace(graceMs);
  }

  private abortBeforeStart(error: string): void {
    if (this.finished || this.started || this.ending) return;
    this.line?.leave(this);
    this.line = undefined;
    this.ending = { status: 'killed', error };
    const child = this.child;
    if (this.spawned && !this.exited) {
      this.signalGroup('SIGKILL');
      (child!.stdio[GATE_FD] as Readable | null)?.destroy();
      return; // onExit finishes
    }
    // Not spawned yet (user lookup pending) or the spawn is failing: nothing is running.
    if (!child) void this.finish();
  }

  private onData(chunk: Buffer): void {
    this.outputBytes += chunk.length;
    this.tail.push(chunk);
    const log = this.openLog();
    if (!log.write(chunk) && !this.paused) {
      // Slow disk: stop reading until the file catches up, so memory stays bounded.
      this.paused = true;
      this.child?.stdout?.pause();
      this.child?.stderr?.pause();
      log.once('drain', () => {
        this.paused = false;
        this.child?.stdout?.resume();
        this.child?.stderr?.resume();
      });
    }
    const cb = this.spec.onOutput;
    if (cb) {
      try {
        cb(chunk);
      } catch {
        // A broken consumer must not break the run; the log file keeps the output.
      }
    }
  }

  private openLog(): CappedLogWriter {
    // Opened on the first output: a run that prints nothing costs no file operations, and a run
    // cancelled before start leaves no empty file behind.
    if (!this.log) this.log = new CappedLogWriter(this.spec.logFile, this.spec.logFileCapBytes);
    return this.log;
  }

  private onExit(code: number | null, sig: NodeJS.Signals | null): void {
    if (this.exited) return;
    this.exited = true;
    // A gate that died while waiting must not be counted when its line fires.
    this.line?.leave(this);
    this.line = undefined;
    this.endedAt = Date.now();
    this.exitCode = code;
    this.signal = sig;
    clearTimeout(this.timeoutTimer);
    clearTimeout(this.graceTimer);
    const child = this.child!;
    // Children never outlive the run: kill whatever is left in the group right away. Done here in the
    // exit handler, before the pid could be reused by another spawn (the spawner does the same).
    if (!(child instanceof RemoteChild)) signalGroup(child.pid, 'SIGKILL');
    const lost = (child as unknown as RemoteChild).lost;
    if (lost && !this.ending && !this.finished) {
      this.ending = {
        status: 'failed',
        error: this.started ? `killed: ${lost}` : `${lost} before its time; the command never ran`,
      };
    }
    this.spec.isolation?.kill(); // descendants that left the group (setsid) are still in the cgroup
    reaperRemove(child.pid);
    (child.stdio[GATE_FD] as Readable | null)?.destroy();
    void this.drainThenFinish(child);
  }

  private async drainThenFinish(child: ChildProcess): Promise<void> {
    const streams = [child.stdout, child.stderr].filter((s): s is Readable => !!s && !s.destroyed);
    if (streams.length) {
      let timer: NodeJS.Timeout | undefined;
      // Not 'close' of the child: a grandchild in another session could hold the pipes open forever.
      await Promise.race([
        Promise.all(
          streams.map((s) => new Promise<void>((r) => (s.closed ? r() : s.once('close', () => r())))),
        ),
        new Promise<void>((r) => (timer = setTimeout(r, DRAIN_AFTER_EXIT_MS))),
      ]);
      clearTimeout(timer);
      for (const s of streams) s.destroy();
    }
    await this.finish();
  }

  private spawnFailed(err: unknown, child: ChildProcess | undefined): void {
    if (child) for (const s of child.stdio) s?.destroy();
    // A spawner's child is on its line and may look released before its failure is known.
    this.line?.leave(this);
    this.line = undefined;
    this.started = false;
    clearTimeout(this.timeoutTimer);
    if (this.ending) {
      void this.finish();
      return;
    }
    void describeSpawnError(err, this.spec.workdir, this.spec.user).then(
      (msg) => this.failToStart(msg),
      () => this.failToStart(`cannot start the command: ${String(err)}`),
    );
  }

  private failToStart(error: string): void {
    if (this.finished) return;
    this.startError = error;
    if (this.ending) {
      void this.finish();
      return;
    }
    // Leave the reason where someone reading the node's log file would look.
    this.openLog().write(Buffer.from(`[peppercorn] ${error}\n`));
    void this.finish();
  }

  private async finish(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.timeoutTimer);
    clearTimeout(this.graceTimer);
    if (!this.endedAt) this.endedAt = Date.now();
    if (this.spec.isolation) this.isolated = await this.spec.isolation.finish().catch(() => ({}));
    if (this.log) await this.log.end();
    active.delete(this);
    this.resolveDone(this.outcome());
  }

  private outcome(): RunOutcome {
    const o = this.outcomeOfProcess();
    const { oomKilled, containerId, note } = this.isolated;
    if (containerId) o.containerId = containerId;
    if (oomKilled && o.startedAt) {
      o.oomKilled = true;
      // Whatever else happened (a timeout's SIGKILL), the kernel's memory kill is what to fix.
      o.status = o.status === 'killed' ? 'killed' : 'failed';
      o.error = 'out of memory: the kernel killed the run for exceeding limits.memory';
    }
    if (note) o.error = o.error ? `${o.error}; ${note}` : note;
    return o;
  }

  private outcomeOfProcess(): RunOutcome {
    const base = {
      exitCode: this.exitCode,
      signal: this.signal,
      startedAt: this.started ? this.startedAt : 0,
      endedAt: this.endedAt,
      outputBytes: this.outputBytes,
      tail: this.tail.toString(),
    };
    const logError = this.log?.error
      ? `cannot write log file ${this.spec.logFile}: ${this.log.error.message}`
      : undefined;
    if (this.ending && (this.started || !this.startError)) {
      return { ...base, status: this.ending.status, error: this.ending.error };
    }
    // A spawn error can quote the environment or the command line: no secret of ours in the record.
    if (this.startError) return { ...base, status: 'failed', error: redactKnown(this.startError) };
    if (!this.started) {
      const how = this.signal ? `signal ${this.signal}` : `exit code ${this.exitCode}`;
      return { ...base, status: 'failed', error: `the waiting process ended before release (${how})` };
    }
    const status: RunExit = this.exitCode === 0 ? 'succeeded' : 'failed';
    return logError ? { ...base, status, error: logError } : { ...base, status };
  }
}

/** Spawns the run's process now, held at the gate until release(). */
export function prepareRun(spec: RunSpec): PreparedRun {
  return new Run(spec);
}

/** prepareRun + release. */
export function runNow(spec: RunSpec): PreparedRun {
  const run = prepareRun(spec);
  run.release();
  return run;
}

/** Runs prepared or running in this process (for metrics and shutdown). */
export function activeRunCount(): number {
  return active.size;
}

/** Stops every run of this process (agent shutdown) and waits for their outcomes. */
export function stopAllRuns(reason: string): Promise<RunOutcome[]> {
  const runs = [...active];
  for (const r of runs) r.stop(reason);
  return Promise.all(runs.map((r) => r.done));
}
